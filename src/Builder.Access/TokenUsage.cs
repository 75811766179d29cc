using System.Collections.Concurrent;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Builder.Access;

/// <summary>
/// When and from where each token was last used. Requests only note it in memory (a token used a thousand times a
/// second must not write a thousand rows); <see cref="TokenUsageWriter"/> stores the latest use every few seconds and at
/// shutdown. The first use is recorded at once, with its audit event, by <see cref="CredentialVerifier"/>.
/// </summary>
public sealed class TokenUsage
{
    private ConcurrentDictionary<long, (DateTimeOffset At, string? Address)> _pending = new();

    public void Touch(long tokenId, DateTimeOffset at, string? address) => _pending[tokenId] = (at, address);

    internal IReadOnlyDictionary<long, (DateTimeOffset At, string? Address)> Take() => Interlocked.Exchange(ref _pending, new());
}

internal sealed partial class TokenUsageWriter(TokenUsage usage, IServiceScopeFactory scopes, ILogger<TokenUsageWriter> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await WriteAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the last uses are written below.
        }

        await WriteAsync(CancellationToken.None);
    }

    internal async Task WriteAsync(CancellationToken cancellationToken)
    {
        var uses = usage.Take();
        if (uses.Count == 0)
        {
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            foreach (var (id, (at, address)) in uses)
            {
                // Never move the time backwards (another process may have written a later use).
                await db.Tokens.Where(t => t.Id == id && (t.LastUsedAt == null || t.LastUsedAt < at))
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, at).SetProperty(t => t.LastUsedFrom, address), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException)
        {
            // Last-use times are informational: a database hiccup costs one interval's worth, not the request path.
            LogWriteFailed(logger, uses.Count, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the last use of {Count} tokens")]
    private static partial void LogWriteFailed(ILogger logger, int count, Exception exception);
}
