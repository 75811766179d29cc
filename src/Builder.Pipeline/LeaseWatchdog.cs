using Builder.Core.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Pipeline;

/// <summary>
/// Runs in every process that runs jobs (each worker; the embedded default's one process): every heartbeat interval it
/// asks <see cref="ReleaseLifecycle.RecoverAsync"/> to queue again the parts and plans whose lease expired (their worker
/// vanished) and to enqueue publications that were never enqueued. Several watchdogs at once are fine: each recovery is a
/// conditional update that one of them wins. The embedded default first recovers with every lease taken as dead: its
/// job queue lived in memory, and no other process can hold a lease.
/// </summary>
internal sealed partial class LeaseWatchdog(
    IServiceScopeFactory scopes, IOptions<JobOptions> jobs, TimeProvider time, bool embedded, ILogger<LeaseWatchdog> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var first = true;
        using var timer = new PeriodicTimer(jobs.Value.Heartbeat, time);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var lifecycle = scope.ServiceProvider.GetRequiredService<ReleaseLifecycle>();
                var enqueued = await lifecycle.RecoverAsync(everyLeaseIsDead: first && embedded, stoppingToken);
                if (enqueued > 0)
                {
                    LogRecovered(logger, enqueued);
                }

                first = false;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lease watchdog: enqueued {Count} plan(s), part(s) or publication(s) again")]
    private static partial void LogRecovered(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lease watchdog: a round failed (database away?); the next one tries again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
