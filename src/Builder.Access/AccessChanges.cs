using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Builder.Access;

/// <summary>
/// Announces a change of who may do what (a token revoked, a person changed) to every process that caches verified
/// credentials, in two ways: the change notification (this process at once; in production the others through
/// PostgreSQL NOTIFY, before this returns) and the access serial in the database, which each web process checks
/// every second (<see cref="AccessSerialWatcher"/>) — so a change made where no notification reaches (the command line
/// beside an embedded server, a process whose listener connection was down) still takes effect within a second.
/// </summary>
public sealed class AccessChanges(IChangeNotifier changes, InstanceTag tag)
{
    public async Task AnnounceAsync(BuilderDbContext db, string key, CancellationToken cancellationToken)
    {
        await tag.GetAsync(cancellationToken); // the instance row exists from here on
        await db.Instance.Where(i => i.Id == 1)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AccessSerial, i => (i.AccessSerial ?? 0) + 1), cancellationToken);
        await changes.NotifyAsync(ChangeTopics.Access, key, cancellationToken);
    }
}

/// <summary>Reads the access serial every second; when it moved, every cached credential is verified again.</summary>
internal sealed partial class AccessSerialWatcher(IServiceScopeFactory scopes, ChangeFeed feed, ILogger<AccessSerialWatcher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private long _seen = -1;

    /// <summary>The serial this watcher read last (null before its first read); a move it saw was announced before this.</summary>
    internal long? Seen => Volatile.Read(ref _seen) is var seen and >= 0 ? seen : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long? seen = null;
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
                var serial = await db.Instance.AsNoTracking().Where(i => i.Id == 1).Select(i => i.AccessSerial ?? 0).FirstOrDefaultAsync(stoppingToken);
                if (seen is { } known && known != serial)
                {
                    feed.Raise(ChangeTopics.Access, ChangeFeed.Everything);
                }

                seen = serial;
                Volatile.Write(ref _seen, serial);
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                // The database is away: cached credentials stay until their own recheck (at most a minute).
                LogCheckFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the access serial")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
