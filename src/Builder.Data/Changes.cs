using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
}

/// <summary>Embedded default: one process, so telling the feed is telling everyone — synchronously.</summary>
internal sealed class LocalChangeNotifier(ChangeFeed feed) : IChangeNotifier
{
    public Task NotifyAsync(string topic, string key, CancellationToken cancellationToken)
    {
        feed.Raise(topic, key);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Production: this process's caches learn at once; other processes through PostgreSQL NOTIFY on <see cref="Channel"/>
/// (payload "topic|key"), which <see cref="PostgresChangeListener"/> receives.
/// </summary>
internal sealed class PostgresChangeNotifier(ChangeFeed feed, PostgresConnectionString connection) : IChangeNotifier
{
    public const string Channel = "builder_changes";

    public async Task NotifyAsync(string topic, string key, CancellationToken cancellationToken)
    {
        feed.Raise(topic, key);
        await using var conn = new NpgsqlConnection(connection.Value);
        await conn.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", conn);
        command.Parameters.AddWithValue("channel", Channel);
        command.Parameters.AddWithValue("payload", topic + "|" + key);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

public sealed record PostgresConnectionString(string Value);

/// <summary>
/// LISTENs for changes published by other processes. After a lost connection every cache is told to forget everything
/// (a change may have been missed), then it listens again.
/// </summary>
internal sealed partial class PostgresChangeListener(ChangeFeed feed, PostgresConnectionString connection, ILogger<PostgresChangeListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = new NpgsqlConnection(connection.Value);
                await conn.OpenAsync(stoppingToken);
                conn.Notification += (_, e) =>
                {
                    var separator = e.Payload.IndexOf('|', StringComparison.Ordinal);
                    if (separator > 0)
                    {
                        feed.Raise(e.Payload[..separator], e.Payload[(separator + 1)..]);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresChangeNotifier.Channel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                feed.RaiseEverything();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await conn.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (NpgsqlException ex)
            {
                LogListenFailed(logger, ex);
                feed.RaiseEverything();
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the change listener connection; retrying")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);
}
