using Builder.Core.Builds;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Builder.Pipeline;

/// <summary>
/// Hears the release lifecycle's events (<see cref="BuildEvent"/>), each at least once and in order. <see cref="Name"/>
/// is the durable cursor's key: rename a subscriber and it starts again from the newest event.
/// </summary>
public interface IBuildEventSubscriber
{
    string Name { get; }

    /// <summary>Handles one event; throwing leaves it (and those after it) to be delivered again at the next poll.</summary>
    Task HandleAsync(BuildEvent buildEvent, CancellationToken cancellationToken);
}

/// <summary>
/// Delivers the outbox (<c>builder_build_events</c>) to every <see cref="IBuildEventSubscriber"/>: at least once, in
/// event order (so in order per build), from a durable cursor per subscriber that one process at a time advances
/// (PostgreSQL: the cursor row locked with FOR UPDATE SKIP LOCKED; the others skip it that round). Every process that
/// composes the pipeline runs one, so events are delivered while any of them lives. A new subscriber starts at the
/// newest event.
/// </summary>
/// <remarks>
/// Event ids come from a sequence, and a transaction may commit after a later id is already visible: a gap in the ids
/// is waited for <see cref="GapWait"/> (the transitions' transactions last milliseconds) and then passed over as a
/// transaction that rolled back.
/// </remarks>
public sealed partial class BuildEventDispatcher(
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<BuildEventDispatcher> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static readonly TimeSpan GapWait = TimeSpan.FromSeconds(10);

    private const int Batch = 200;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _cursorsReady;

    /// <summary>
    /// Makes the cursors before this process records any event (hosted services start in order: the schema first, the
    /// jobs and requests after): a subscriber new to the database starts at the newest event, and the first poll used to
    /// run after a fast job had recorded events already, which it then passed over as history (a part's success that
    /// was never timed). The database away at start: the first poll makes them.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await EnsureCursorsAsync(
                scope.ServiceProvider.GetRequiredService<IDbContextFactory<BuilderDbContext>>(),
                scope.ServiceProvider.GetServices<IBuildEventSubscriber>().ToList(),
                cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogPollFailed(logger, ex);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval, time);
        // The newest event every subscriber had been given at the last full pass: while no newer event exists a poll is
        // one small query, not a scope, a context and two queries per subscriber (what an idle process did twice a second).
        long? quietAt = null;
        do
        {
            try
            {
                var newest = await NewestEventIdAsync(stoppingToken);
                if (newest != quietAt)
                {
                    quietAt = await DeliverAsync(stoppingToken) is var reached && reached >= newest ? newest : null;
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The database is away: the cursors did not move; the next poll delivers.
                LogPollFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// Delivers what is new to every subscriber now (a job that just made an event calls it so nobody waits for the
    /// poll). Returns the event id every subscriber's cursor has reached (the lowest cursor).
    /// </summary>
    public async Task<long> DeliverAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var contexts = scope.ServiceProvider.GetRequiredService<IDbContextFactory<BuilderDbContext>>();
            var subscribers = scope.ServiceProvider.GetServices<IBuildEventSubscriber>().ToList();
            await EnsureCursorsAsync(contexts, subscribers, cancellationToken);
            foreach (var subscriber in subscribers)
            {
                await DeliverAsync(contexts, subscriber, cancellationToken);
            }

            var names = subscribers.Select(s => s.Name).ToList();
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            return await db.BuildEventCursors.Where(c => names.Contains(c.Subscriber)).MinAsync(c => (long?)c.LastEventId, cancellationToken) ?? 0;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<long> NewestEventIdAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<BuilderDbContext>>().CreateDbContextAsync(cancellationToken);
        return await db.BuildEvents.MaxAsync(e => (long?)e.Id, cancellationToken) ?? 0;
    }

    private async Task EnsureCursorsAsync(IDbContextFactory<BuilderDbContext> contexts, IReadOnlyList<IBuildEventSubscriber> subscribers, CancellationToken cancellationToken)
    {
        if (_cursorsReady)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        foreach (var subscriber in subscribers)
        {
            await db.Database.ExecuteSqlRawAsync(
                """INSERT INTO builder_build_event_cursors ("Subscriber", "LastEventId") SELECT {0}, COALESCE(MAX("Id"), 0) FROM builder_build_events WHERE TRUE ON CONFLICT DO NOTHING""",
                [subscriber.Name], cancellationToken);
        }

        _cursorsReady = true;
    }

    private async Task DeliverAsync(IDbContextFactory<BuilderDbContext> contexts, IBuildEventSubscriber subscriber, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var postgres = db.Database.IsNpgsql();
        // PostgreSQL: the cursor row stays locked while its events are handled, so one process at a time delivers them.
        // SQLite has one process (the embedded default; this process's gate serializes its deliveries), and a
        // transaction there would hold the database's only write lock while subscribers write (forge reports): none.
        await using var transaction = postgres ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        var cursor = await db.Database.SqlQueryRaw<long>(
            postgres
                ? """SELECT "LastEventId" AS "Value" FROM builder_build_event_cursors WHERE "Subscriber" = {0} FOR UPDATE SKIP LOCKED"""
                : """SELECT "LastEventId" AS "Value" FROM builder_build_event_cursors WHERE "Subscriber" = {0}""",
            subscriber.Name).ToListAsync(cancellationToken);
        if (cursor.Count == 0)
        {
            return; // another process is delivering to this subscriber right now
        }

        var last = cursor[0];
        var events = await db.BuildEvents.AsNoTracking().Where(e => e.Id > last).OrderBy(e => e.Id).Take(Batch).ToListAsync(cancellationToken);
        var delivered = last;
        var now = time.GetUtcNow();
        foreach (var buildEvent in events)
        {
            if (buildEvent.Id != delivered + 1 && now - buildEvent.At < GapWait)
            {
                break; // an earlier event may still be committing: wait for it
            }

            try
            {
                await subscriber.HandleAsync(buildEvent, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogDeliveryFailed(logger, ex, subscriber.Name, buildEvent.Id, buildEvent.Kind, buildEvent.BuildId);
                break;
            }

            delivered = buildEvent.Id;
        }

        if (delivered != last)
        {
            await db.BuildEventCursors.Where(c => c.Subscriber == subscriber.Name)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.LastEventId, delivered), cancellationToken);
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Build events: a poll failed; the next one delivers")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Build events: {Subscriber} failed on event {EventId} ({Kind}, build {BuildId}); delivered again at the next poll")]
    private static partial void LogDeliveryFailed(ILogger logger, Exception exception, string subscriber, long eventId, string kind, long buildId);
}
