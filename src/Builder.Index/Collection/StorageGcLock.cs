using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Index.Collection;

/// <summary>
/// One garbage collection at a time across every process of the installation (a scheduled one and an admin's alike).
/// PostgreSQL: a session-level advisory lock on the collector's connection, tried rather than waited for (a process that
/// finds it taken leaves the round to the holder); released by unlock or by the connection's end. The embedded default's
/// one process: an in-process gate.
/// </summary>
public sealed class StorageGcLock : IDisposable
{
    /// <summary>The advisory lock's key ("STORAGEG").</summary>
    public const long Key = 0x53544f5241474547;

    private readonly SemaphoreSlim _local = new(1, 1);

    /// <summary>The lock, held on <paramref name="db"/>'s connection until disposed; null when another collection holds it.</summary>
    public async Task<IAsyncDisposable?> TryAcquireAsync(BuilderDbContext db, CancellationToken cancellationToken)
    {
        if (!db.Database.IsNpgsql())
        {
            return await _local.WaitAsync(TimeSpan.Zero, cancellationToken) ? new LocalRelease(_local) : null;
        }

        await db.Database.OpenConnectionAsync(cancellationToken);
        var taken = false;
        try
        {
            taken = await db.Database.SqlQueryRaw<bool>($"SELECT pg_try_advisory_lock({Key}) AS \"Value\"").SingleAsync(cancellationToken);
        }
        finally
        {
            if (!taken)
            {
                await db.Database.CloseConnectionAsync();
            }
        }

        return taken ? new AdvisoryRelease(db) : null;
    }

    public void Dispose() => _local.Dispose();

    private sealed class AdvisoryRelease(BuilderDbContext db) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({Key})", CancellationToken.None);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
    }

    private sealed class LocalRelease(SemaphoreSlim gate) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            gate.Release();
            return ValueTask.CompletedTask;
        }
    }
}
