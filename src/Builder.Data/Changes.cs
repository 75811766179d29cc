using System.Data.Common;
using Builder.Core.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Builder.Data;

/// <summary>What changed: the index's pages of one project, or who may do what.</summary>
public static class ChangeTopics
{
    /// <summary>Key: the normalized project whose files were published, yanked or deleted.</summary>
    public const string Index = "index";

    /// <summary>Key: "token:ID" (revoked or changed), "person:ID" (changed or disabled).</summary>
    public const string Access = "access";
}

/// <summary>
/// In-process fan-out of changes to whatever caches derived state in this process (index pages, verified credentials).
/// In production the same changes arrive from other processes through PostgreSQL NOTIFY.
/// </summary>
public sealed class ChangeFeed
{
    /// <summary>The key that means "anything of this topic may have changed" (after a lost listener connection: every topic).</summary>
    public const string Everything = "*";

    /// <summary>(topic, key); raised synchronously on the thread that learned of the change.</summary>
    public event Action<string, string>? Changed;

    public void Raise(string topic, string key) => Changed?.Invoke(topic, key);

    /// <summary>Every cache of every topic must forget everything (a change may have been missed).</summary>
    public void RaiseEverything() => Changed?.Invoke(Everything, Everything);
}

/// <summary>Tells every process of this installation about a change, this one included, before it returns.</summary>
public interface IChangeNotifier
{
    Task NotifyAsync(string topic, string key, CancellationToken cancellationToken);

    /// <summary>
    /// Sends a change as part of the transaction open on <paramref name="connection"/>: other processes hear of it when
    /// that transaction commits, and never if it rolls back. Call it last before the commit; this process's own caches
    /// learn of the change from <see cref="ChangeFeed.Raise"/> once the commit returned.
    /// </summary>
    Task NotifyOnCommitAsync(DbConnection connection, string topic, string key, CancellationToken cancellationToken);
}

/// <summary>Embedded default: one process, so telling the feed is telling everyone — synchronously.</summary>
internal sealed class LocalChangeNotifier(ChangeFeed feed) : IChangeNotifier
{
    public Task NotifyAsync(string topic, string key, CancellationToken cancellationToken)
    {
        feed.Raise(topic, key);
        return Task.CompletedTask;
    }

    /// <summary>No other process to tell.</summary>
    public Task NotifyOnCommitAsync(DbConnection connection, string topic, string key, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Production: this process's caches learn at once; other processes through PostgreSQL NOTIFY on <see cref="Channel"/>
/// (payload "serial|topic|key", see <see cref="ChangeMessage"/>), which <see cref="PostgresChangeListener"/> receives.
/// Every notification takes the next number of the change serial (<see cref="ChangeSerial"/>), so a listener that
/// missed one finds out by reading the serial.
/// </summary>
internal sealed class PostgresChangeNotifier(ChangeFeed feed, PostgresConnectionString database) : IChangeNotifier
{
    public const string Channel = "builder_changes";

    public async Task NotifyAsync(string topic, string key, CancellationToken cancellationToken)
    {
        feed.Raise(topic, key);
        // On a connection of its own, outside any transaction: the statement commits, and the notification goes, at once.
        await using var conn = new NpgsqlConnection(database.Value);
        await conn.OpenAsync(cancellationToken);
        await NotifyOnCommitAsync(conn, topic, key, cancellationToken);
    }

    public async Task NotifyOnCommitAsync(DbConnection connection, string topic, string key, CancellationToken cancellationToken)
    {
        // A failing statement would abort the caller's transaction, so this one does not fail when the serial is missing
        // (a new database whose first change comes before any listener made it): it sends nothing, the serial is made
        // on a connection of its own, and the statement runs again naming the serial by its OID (a name the transaction
        // looked up in vain stays unknown to it, but an OID is opened, and locked, as it is now).
        var conn = (NpgsqlConnection)connection;
        if (await TrySendAsync(conn, topic, key, serialOid: null, cancellationToken))
        {
            return;
        }

        uint oid;
        await using (var own = new NpgsqlConnection(database.Value))
        {
            await own.OpenAsync(cancellationToken);
            await ChangeSerial.EnsureAsync(own, cancellationToken);
            await using var lookup = new NpgsqlCommand($"SELECT '{ChangeSerial.Sequence}'::regclass::oid", own);
            oid = (uint)(await lookup.ExecuteScalarAsync(cancellationToken))!;
        }

        if (!await TrySendAsync(conn, topic, key, oid, cancellationToken))
        {
            throw new InvalidOperationException($"the change serial {ChangeSerial.Sequence} is missing right after it was made");
        }
    }

    /// <summary>
    /// Takes the next serial and queues the notification when the serial exists; false when not. One statement: the
    /// number is never taken without its notification, which is delivered when the statement's transaction commits (at
    /// once outside one). In a transaction the number is taken one statement before the commit: a listener that polls
    /// meanwhile waits a poll before it calls it lost.
    /// </summary>
    private static async Task<bool> TrySendAsync(NpgsqlConnection conn, string topic, string key, uint? serialOid, CancellationToken cancellationToken)
    {
        var serial = serialOid is null ? $"to_regclass('{ChangeSerial.Sequence}')" : "@serial::regclass";
        await using var command = new NpgsqlCommand(
            $"WITH n AS (SELECT nextval({serial}) AS serial) "
            + $"SELECT serial, pg_notify(@channel, serial::text || '{ChangeMessage.Separator}' || @payload)::text FROM n WHERE serial IS NOT NULL", conn);
        command.Parameters.AddWithValue("channel", Channel);
        command.Parameters.AddWithValue("payload", topic + ChangeMessage.Separator + key);
        if (serialOid is { } oid)
        {
            command.Parameters.Add(new NpgsqlParameter("serial", NpgsqlTypes.NpgsqlDbType.Oid) { Value = oid });
        }

        return await command.ExecuteScalarAsync(cancellationToken) is not null and not DBNull;
    }
}

public sealed record PostgresConnectionString(string Value);

/// <summary>
/// LISTENs for changes published by other processes, and checks that it hears them all: every
/// <see cref="ChangeOptions.PollMilliseconds"/> it reads the change serial (<see cref="ChangeSerialCheck"/>). A number
/// still unheard one poll after the database handed it out means notifications are being lost (a connection dead
/// without an error: a half-open TCP connection, a proxy or firewall that dropped it): every cache forgets everything
/// and the LISTEN connection is replaced. After a lost connection (an error) every cache forgets everything too, and
/// it listens again. Either way a change is missed for at most two polls, never for good.
/// </summary>
internal sealed partial class PostgresChangeListener(
    ChangeFeed feed, PostgresConnectionString connection, IOptions<ChangeOptions> options, TimeProvider time, ILogger<PostgresChangeListener> logger)
    : BackgroundService
{
    /// <summary>The LISTEN connection's application_name (in pg_stat_activity); it is a connection of its own, never pooled.</summary>
    public const string ApplicationName = "builder-change-listener";

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private readonly ChangeSerialCheck _check = new();
    private CancellationTokenSource? _replace;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Two loops, one service: should either end with a fault, the other stops too and the fault surfaces.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var loops = new[] { ListenAsync(stop.Token), PollAsync(stop.Token) };
        await Task.WhenAny(loops);
        await stop.CancelAsync();
        await Task.WhenAll(loops);
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        // Not pooled: a connection given up as dead must really be closed, not handed to the next caller.
        var listenConnection = new NpgsqlConnectionStringBuilder(connection.Value) { Pooling = false, ApplicationName = ApplicationName }.ConnectionString;
        while (!stoppingToken.IsCancellationRequested)
        {
            using var replace = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            try
            {
                await using var conn = new NpgsqlConnection(listenConnection);
                await conn.OpenAsync(replace.Token);
                conn.Notification += (_, e) => OnNotification(e.Payload);
                await ChangeSerial.EnsureAsync(conn, replace.Token);
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresChangeNotifier.Channel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(replace.Token);
                }

                // From here on every change is heard; those before, up to this serial, caches re-read.
                var serial = await ChangeSerial.ReadAsync(conn, replace.Token);
                _check.Restart(serial);
                feed.RaiseEverything();
                Volatile.Write(ref _replace, replace);
                LogListening(logger, serial);
                while (true)
                {
                    await conn.WaitAsync(replace.Token);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                // Replaced by the poll (notifications were lost): connect again at once.
            }
            catch (NpgsqlException ex)
            {
                LogListenFailed(logger, ex);
                feed.RaiseEverything();
                await Task.Delay(RetryDelay, time, stoppingToken);
            }
            finally
            {
                Interlocked.CompareExchange(ref _replace, null, replace);
            }
        }
    }

    private void OnNotification(string payload)
    {
        if (!ChangeMessage.TryParse(payload, out var message))
        {
            return;
        }

        feed.Raise(message.Topic, message.Key);
        if (message.Serial is { } serial)
        {
            _check.Hear(serial);
        }
    }

    private async Task PollAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval, time);
        var failing = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            long serial;
            try
            {
                await using var conn = new NpgsqlConnection(connection.Value);
                await conn.OpenAsync(stoppingToken);
                serial = await ChangeSerial.ReadAsync(conn, stoppingToken);
            }
            catch (NpgsqlException ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The database is away (or the listener has not created the serial yet): the listener's own connection
                // fails too, and caches forget everything when it is back. Said once, not every poll.
                if (!failing)
                {
                    LogPollFailed(logger, ex);
                    failing = true;
                }

                continue;
            }

            if (failing)
            {
                LogPollRecovered(logger);
                failing = false;
            }

            var heard = _check.Heard;
            if (_check.Check(serial) == ChangeSerialVerdict.Lost)
            {
                feed.RaiseEverything();
                // Not listening (connecting, or waiting to retry after an error already logged): nothing to replace,
                // and caches forget everything again once it listens.
                if (Volatile.Read(ref _replace) is { } replace)
                {
                    LogNotificationsLost(logger, heard, serial);
                    try
                    {
                        await replace.CancelAsync();
                    }
                    catch (ObjectDisposedException)
                    {
                        // That connection ended meanwhile; the next one starts from the database's serial anyway.
                    }
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for changes from serial {Serial}")]
    private static partial void LogListening(ILogger logger, long serial);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the change listener connection; retrying")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Change notifications were lost (heard up to serial {Heard}, the database is at {Serial}): every cache starts over and the listener connects again")]
    private static partial void LogNotificationsLost(ILogger logger, long heard, long serial);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the change serial; trying again every poll")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reading the change serial again")]
    private static partial void LogPollRecovered(ILogger logger);
}
