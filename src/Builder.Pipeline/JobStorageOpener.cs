using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Builder.Pipeline;

/// <summary>
/// Opens the job storage while the process starts, before it takes requests. Hangfire's PostgreSQL storage installs or
/// checks its schema in its constructor, with blocking database calls, under the service provider's singleton lock. Left
/// to the first request that enqueues (a process with no job server resolves the storage nowhere else), a burst of
/// uploads or deliveries right after start all wait on that lock on thread-pool threads, starving the pool that the
/// installer's own database reads complete on, and every one of them times out.
/// </summary>
internal sealed class JobStorageOpener(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<JobStorage>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
