using Builder.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Builder.Access;

/// <summary>
/// Production: the first process of a new installation makes the Data Protection key ring's first key while holding
/// a PostgreSQL advisory lock, so processes starting together agree on one key instead of each making its own (a
/// process could not read what another encrypted until it refreshed its key ring).
/// </summary>
internal sealed class KeyRingInitializer(IServiceScopeFactory scopes, IDataProtectionProvider protection) : IHostedService
{
    private const long LockKey = 0x4b4559524e47; // "KEYRNG"

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({LockKey})", cancellationToken);
            // Reading the current key ring creates the first key when there is none.
            protection.CreateProtector("Builder.KeyRing.Start").Protect("start"u8.ToArray());
        }
        finally
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
            await db.Database.CloseConnectionAsync();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
