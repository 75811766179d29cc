using Microsoft.Extensions.Options;

namespace Builder.Index.Retention;

/// <summary>
/// Runs retention policies on their period (<c>Builder:Retention:Hours</c>) in every web process; the
/// <see cref="RetentionLock"/> and the due times read under it make each period's run happen in one process, once.
/// Not a Hangfire recurring job: only the web process composes the index's admin (<see cref="ReleaseAdmin"/>), the
/// production web process runs no Hangfire server, and a policy's period and grace follow the process's
/// <see cref="TimeProvider"/> (a cron expression has no "every 36 hours since this policy last ran").
/// </summary>
internal sealed partial class RetentionSchedule(IServiceScopeFactory scopes, IOptions<RetentionOptions> options, TimeProvider time, ILogger<RetentionSchedule> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Tick, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var policies = scope.ServiceProvider.GetRequiredService<RetentionPolicies>();
                foreach (var run in await policies.RunDueAsync(stoppingToken))
                {
                    LogRan(logger, run.PolicyId, run.Done.Count);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention policy {PolicyId} ran on its schedule: {Count} release(s) yanked or deleted")]
    private static partial void LogRan(ILogger logger, long policyId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention schedule: a round failed (database or store away?); the next one tries again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
