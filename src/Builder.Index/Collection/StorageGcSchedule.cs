using Microsoft.Extensions.Options;

namespace Builder.Index.Collection;

/// <summary>
/// Runs garbage collection every <c>Builder:Storage:GcHours</c> in one process at a time: each process serving the index
/// looks every so often (the period, at most five minutes; never at start) and collects when the last collection, by any
/// process or admin, is that old (<see cref="StorageCollector.RunIfDueAsync"/>, under <see cref="StorageGcLock"/>).
/// A Hangfire recurring job is not used: the web process, which serves the admin route and records reads, runs no
/// Hangfire server in production, and the period is counted from the last collection, whoever ran it.
/// </summary>
internal sealed partial class StorageGcSchedule(IServiceScopeFactory scopes, IOptions<StorageGcOptions> options, TimeProvider time, ILogger<StorageGcSchedule> logger)
    : BackgroundService
{
    private static readonly TimeSpan MostBetweenLooks = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = options.Value.Every;
        if (every <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(every < MostBetweenLooks ? every : MostBetweenLooks, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<StorageCollector>().RunIfDueAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage garbage collection failed (store or database away?); the next look tries again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
