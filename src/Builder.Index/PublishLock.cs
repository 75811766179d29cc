using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Index;

/// <summary>
/// One publisher at a time per project, across every process of the installation: while a publisher holds the lock, a
/// stored file no row names is known to be left over from a publication that never committed (not one in flight), so
/// it may be replaced. PostgreSQL: a transaction-level advisory lock (released by commit, rollback or a dropped
/// connection). The embedded default's one process: an in-process lock per project.
/// </summary>
public sealed class PublishLock
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _local = new(StringComparer.Ordinal);

    /// <summary>Takes the project's lock inside <paramref name="db"/>'s current transaction; dispose to release (embedded).</summary>
    public async Task<IAsyncDisposable> AcquireAsync(BuilderDbContext db, string project, CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            if (db.Database.CurrentTransaction is null)
            {
                throw new InvalidOperationException("the publish lock is taken inside a transaction");
            }

            var key = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("builder-publish:" + project)), 0);
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock({0})", [key], cancellationToken);
            return Released.Instance;
        }

        var gate = _local.GetOrAdd(project, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new LocalRelease(gate);
    }

    private sealed class Released : IAsyncDisposable
    {
        public static readonly Released Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
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
