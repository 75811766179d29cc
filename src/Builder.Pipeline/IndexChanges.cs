using Builder.Core.Builds;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Builder.Pipeline;

/// <summary>In-process fan-out of "project X changed" to whatever caches index pages in this process.</summary>
public sealed class IndexChangeFeed
{
    /// <summary>The project name that means "anything may have changed" (e.g. after a lost listener connection).</summary>
    public const string Everything = "*";

    public event Action<string>? ProjectChanged;

    public void Raise(string project) => ProjectChanged?.Invoke(project);
}

/// <summary>Embedded default: one process, so telling the feed is telling everyone — synchronously, before the publisher returns.</summary>
internal sealed class LocalIndexChangeNotifier(IndexChangeFeed feed) : IIndexChangeNotifier
{
    public Task ProjectChangedAsync(string project, CancellationToken cancellationToken)
    {
        feed.Raise(project);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Production: this process's caches learn at once; other processes (web replicas, when a worker publishes) through
/// PostgreSQL NOTIFY on <see cref="Channel"/>, which <see cref="PostgresIndexChangeListener"/> receives.
/// </summary>
internal sealed class PostgresIndexChangeNotifier(IndexChangeFeed feed, PostgresConnectionString connection) : IIndexChangeNotifier
{
    public const string Channel = "builder_index";

    public async Task ProjectChangedAsync(string project, CancellationToken cancellationToken)
    {
        feed.Raise(project);
        await using var conn = new NpgsqlConnection(connection.Value);
        await conn.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @project)", conn);
        command.Parameters.AddWithValue("channel", Channel);
        command.Parameters.AddWithValue("project", project);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

internal sealed record PostgresConnectionString(string Value);

/// <summary>
/// LISTENs for index changes published by other processes. After a lost connection every cached page is dropped
/// (a change may have been missed), then it listens again.
/// </summary>
internal sealed partial class PostgresIndexChangeListener(IndexChangeFeed feed, PostgresConnectionString connection, ILogger<PostgresIndexChangeListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = new NpgsqlConnection(connection.Value);
                await conn.OpenAsync(stoppingToken);
                conn.Notification += (_, e) => feed.Raise(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresIndexChangeNotifier.Channel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                feed.Raise(IndexChangeFeed.Everything);
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
                feed.Raise(IndexChangeFeed.Everything);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the index change listener connection; retrying")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);
}
