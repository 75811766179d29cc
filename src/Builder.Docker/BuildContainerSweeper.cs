using Builder.Core.Configuration;
using Docker.DotNet;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Docker;

/// <summary>
/// At start, removes the build containers this process (<c>Builder:Build:WorkerName</c>) owns: a process killed mid-build
/// (kill -9, OOM, power loss) never reached its own cleanup, and its containers would otherwise run on. Registered before
/// the job server, so no build of this process is running yet: every container with our owner label is a leftover.
/// </summary>
internal sealed partial class BuildContainerSweeper(IDockerClientFactory clients, IOptions<BuildOptions> options, ILogger<BuildContainerSweeper> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var owner = options.Value.WorkerName;
        try
        {
            var removed = await SweepAsync(owner, cancellationToken);
            LogSwept(logger, removed, owner);
        }
        catch (Exception ex) when (ex is DockerApiException or HttpRequestException or IOException or TimeoutException)
        {
            // The engine may come up after us; builds report an unreachable engine themselves. Not fatal to starting.
            LogSweepFailed(logger, ex, owner);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Removes every container labelled managed by Builder and owned by <paramref name="owner"/>; returns how many.</summary>
    internal async Task<int> SweepAsync(string owner, CancellationToken cancellationToken)
    {
        using var docker = clients.Create();
        var containers = await BuildContainerRunner.ListManagedAsync(docker, [$"{BuildContainerRunner.OwnerLabel}={owner}"], cancellationToken);
        foreach (var container in containers)
        {
            await BuildContainerRunner.RemoveAsync(docker, container.ID, cancellationToken);
            container.Labels.TryGetValue(BuildContainerRunner.BuildIdLabel, out var buildId);
            LogRemoved(logger, container.ID, buildId ?? "?", owner);
        }

        return containers.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Startup sweep removed {Count} leftover build container(s) of owner {Owner}")]
    private static partial void LogSwept(ILogger logger, int count, string owner);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed leftover build container {ContainerId} of build {BuildId} (owner {Owner})")]
    private static partial void LogRemoved(ILogger logger, string containerId, string buildId, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Startup sweep of build containers of owner {Owner} failed; leftovers stay until the next start")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, string owner);
}
