using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Index.Retention;

/// <summary>
/// One retention run at a time across every process of the installation (several web processes each run the schedule,
/// and an admin may ask for a run meanwhile). PostgreSQL: a session-level advisory lock on a connection of its own, held
/// for the whole run (a dropped connection releases it). The embedded default's one process: an in-process lock.
/// </summary>
public sealed class RetentionLock(IServiceScopeFactory scopes) : IDisposable
{
    /// <summary>The PostgreSQL advisory lock key ("builder-retention" in ASCII, folded into 64 bits).</summary>
    private const long LockKey = 0x7265_7465_6e74_696f;

    private readonly SemaphoreSlim _local = new(1, 1);

    /// <summary>The lock, or null when <paramref name="wait"/> is false and another run holds it; dispose to release.</summary>
    public async Task<IAsyncDisposable?> AcquireAsync(bool wait, CancellationToken cancellationToken)
    {
        if (wait)
        {
            await _local.WaitAsync(cancellationToken);
        }
        else if (!await _local.WaitAsync(0, cancellationToken))
        {
            return null;
        }

        AsyncServiceScope? scope = null;
        try
        {
            scope = scopes.CreateAsyncScope();
            var db = scope.Value.ServiceProvider.GetRequiredService<BuilderDbContext>();
            if (!db.Database.IsNpgsql())
            {
                await scope.Value.DisposeAsync();
                return new Held(_local, null, null);
            }

            await db.Database.OpenConnectionAsync(cancellationToken);
            var taken = true;
            if (wait)
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({LockKey})", cancellationToken);
            }
            else
            {
                taken = await db.Database.SqlQueryRaw<bool>($"SELECT pg_try_advisory_lock({LockKey}) AS \"Value\"").SingleAsync(cancellationToken);
            }

            if (!taken)
            {
                await db.Database.CloseConnectionAsync();
                await scope.Value.DisposeAsync();
                _local.Release();
                return null;
            }

            return new Held(_local, db, scope);
        }
        catch
        {
            if (scope is { } s)
            {
                await s.DisposeAsync();
            }

            _local.Release();
            throw;
        }
    }

    public void Dispose() => _local.Dispose();

    private sealed class Held(SemaphoreSlim local, BuilderDbContext? db, AsyncServiceScope? scope) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (db is not null)
                {
                    try
                    {
                        await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
                    }
                    finally
                    {
                        // Closing returns the connection to the pool; an unlock that failed leaves the session lock to
                        // the connection's end (the database went away: the session is gone with it).
                        await db.Database.CloseConnectionAsync();
                    }
                }
            }
            finally
            {
                if (scope is { } s)
                {
                    await s.DisposeAsync();
                }

                local.Release();
            }
        }
    }
}
