using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Index;

/// <summary>
/// One holder at a time across every process of the installation, for work that several processes may each start (a
/// schedule every web process runs, an admin's request meanwhile). PostgreSQL: a session-level advisory lock on
/// <see cref="Key"/>, on a connection of its own, held until disposed (a dropped connection releases it). The embedded
/// default's one process: an in-process lock. Each kind of work is a subclass with its own key.
/// </summary>
public abstract class InstallationLock(IServiceScopeFactory scopes, long key) : IDisposable
{
    private readonly SemaphoreSlim _local = new(1, 1);

    /// <summary>The PostgreSQL advisory lock's key.</summary>
    public long Key => key;

    /// <summary>The lock, or null when <paramref name="wait"/> is false and another process (or request) holds it; dispose to release.</summary>
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
                return new Held(_local, null, null, key);
            }

            await db.Database.OpenConnectionAsync(cancellationToken);
            var taken = true;
            if (wait)
            {
                await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_lock({0})", [key], cancellationToken);
            }
            else
            {
                taken = await db.Database.SqlQueryRaw<bool>("SELECT pg_try_advisory_lock({0}) AS \"Value\"", key).SingleAsync(cancellationToken);
            }

            if (!taken)
            {
                await db.Database.CloseConnectionAsync();
                await scope.Value.DisposeAsync();
                _local.Release();
                return null;
            }

            return new Held(_local, db, scope, key);
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

    public void Dispose()
    {
        _local.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class Held(SemaphoreSlim local, BuilderDbContext? db, AsyncServiceScope? scope, long key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (db is not null)
                {
                    try
                    {
                        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock({0})", [key], CancellationToken.None);
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
