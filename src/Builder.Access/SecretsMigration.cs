using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Builder.Access;

/// <summary>
/// At start (after the schema is in place): repositories registered before secrets were encrypted get their webhook
/// secret encrypted, and a clone URL carrying credentials is split into the URL and encrypted credentials. Safe to run
/// in several processes at once: each row is only rewritten while it still holds plain text.
/// </summary>
internal sealed partial class SecretsMigration(IServiceScopeFactory scopes, RepositorySecrets secrets, TimeProvider time, ILogger<SecretsMigration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var candidates = await db.Repositories
            .Where(r => r.PlaintextWebhookSecret != "" || EF.Functions.Like(r.CloneUrl, "%@%"))
            .ToListAsync(cancellationToken);
        var migrated = 0;
        foreach (var repository in candidates)
        {
            var changed = false;
            if (repository.PlaintextWebhookSecret.Length > 0)
            {
                secrets.SetWebhookSecret(repository, repository.PlaintextWebhookSecret);
                changed = true;
            }

            var (url, credentials) = RepositorySecrets.SplitCloneUrl(repository.CloneUrl);
            if (credentials is not null)
            {
                repository.CloneUrl = url;
                secrets.SetCredentials(repository, credentials);
                changed = true;
            }

            if (changed)
            {
                repository.UpdatedAt = time.GetUtcNow();
                migrated++;
            }
        }

        if (migrated > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            LogMigrated(logger, migrated);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Encrypted the secrets of {Count} repositories registered before secrets were encrypted at rest (clone credentials moved out of their URLs)")]
    private static partial void LogMigrated(ILogger logger, int count);
}
