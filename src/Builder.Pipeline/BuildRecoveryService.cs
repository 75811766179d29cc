using Builder.Core.Builds;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Builder.Pipeline;

/// <summary>
/// Embedded mode keeps Hangfire's queue in memory, so a restart loses it. The database is the source of truth:
/// at start, every build still queued or running is enqueued again (the job is safe to repeat).
/// </summary>
internal sealed partial class BuildRecoveryService(IServiceScopeFactory scopes, IBuildDispatcher dispatcher, ILogger<BuildRecoveryService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var unfinished = await db.Builds
            .Where(b => b.State == BuildState.Queued || b.State == BuildState.Running)
            .OrderBy(b => b.Id)
            .Select(b => b.Id)
            .ToListAsync(cancellationToken);
        foreach (var id in unfinished)
        {
            dispatcher.Enqueue(id);
            LogRequeued(logger, id);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} was unfinished at the last stop; enqueued again")]
    private static partial void LogRequeued(ILogger logger, long buildId);
}
