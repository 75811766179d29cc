using System.Collections.Concurrent;
using Builder.Data;
using Builder.Tests.Integration.Infrastructure;
using Npgsql;

namespace Builder.Tests.Integration.Index;

/// <summary>
/// The index's "project changed" signal travels inside the transaction that makes the change (PostgreSQL NOTIFY): a
/// listening process hears it when that transaction commits, never before and never when it rolls back, and sending it
/// never aborts the transaction, not even on a new database where the change serial does not exist yet.
/// </summary>
public sealed class ChangeOnCommitTests : IAsyncLifetime, IDisposable
{
    private PostgresDatabase _database = null!;
    private NpgsqlConnection _listener = null!;
    private readonly BlockingCollection<string> _heard = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _listening = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        _listener = new NpgsqlConnection(_database.ConnectionString);
        await _listener.OpenAsync();
        _listener.Notification += (_, e) => _heard.Add(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {PostgresChangeNotifier.Channel}", _listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        _listening = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await _listener.WaitAsync(_stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _listening;
        await _listener.DisposeAsync();
        await _database.DisposeAsync();
    }

    public void Dispose()
    {
        _listener?.Dispose();
        _stop.Dispose();
        _heard.Dispose();
    }

    [Fact]
    public async Task A_change_is_heard_at_commit_and_a_rolled_back_one_never()
    {
        var notifier = new PostgresChangeNotifier(new ChangeFeed(), new PostgresConnectionString(_database.ConnectionString));

        await using (var conn = await OpenAsync())
        {
            await using var transaction = await conn.BeginTransactionAsync();
            await notifier.NotifyOnCommitAsync(conn, ChangeTopics.Index, "rolled-back", CancellationToken.None);
            await transaction.RollbackAsync();
        }

        await using (var conn = await OpenAsync())
        {
            await using var transaction = await conn.BeginTransactionAsync();
            await notifier.NotifyOnCommitAsync(conn, ChangeTopics.Index, "acme-sdk", CancellationToken.None);
            // Sent but not committed: nobody hears it yet.
            Assert.False(_heard.TryTake(out var early, TimeSpan.FromMilliseconds(500)), $"heard before the commit: {early}");
            await transaction.CommitAsync();
        }

        Assert.True(_heard.TryTake(out var payload, TimeSpan.FromSeconds(10)), "the committed change was never heard");
        Assert.True(ChangeMessage.TryParse(payload, out var message), payload);
        Assert.Equal((ChangeTopics.Index, "acme-sdk"), (message.Topic, message.Key));
        // The rolled-back change took serial 1 and sent nothing; the committed one is 2, and nothing else arrived.
        Assert.Equal(2, message.Serial);
        Assert.False(_heard.TryTake(out var extra, TimeSpan.FromMilliseconds(300)), $"heard more: {extra}");
    }

    [Fact]
    public async Task A_missing_change_serial_is_made_without_aborting_the_transaction()
    {
        var notifier = new PostgresChangeNotifier(new ChangeFeed(), new PostgresConnectionString(_database.ConnectionString));
        Assert.Equal(0, await _database.ScalarAsync("SELECT COUNT(*) FROM pg_class WHERE relname = 'builder_change_serial'"));

        await using var conn = await OpenAsync();
        await using var transaction = await conn.BeginTransactionAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE kept (id int)", conn))
        {
            await create.ExecuteNonQueryAsync();
        }

        await notifier.NotifyOnCommitAsync(conn, ChangeTopics.Index, "acme-sdk", CancellationToken.None);
        // The transaction is still good: later statements run and its work commits with the notification.
        await using (var insert = new NpgsqlCommand("INSERT INTO kept VALUES (1)", conn))
        {
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();

        Assert.True(_heard.TryTake(out var payload, TimeSpan.FromSeconds(10)), "the change was never heard");
        Assert.True(ChangeMessage.TryParse(payload, out var message), payload);
        Assert.Equal(1, message.Serial);
        Assert.Equal(1, await _database.ScalarAsync("SELECT COUNT(*) FROM kept"));
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var conn = new NpgsqlConnection(_database.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }
}
