using Microsoft.Extensions.Options;

namespace Builder.Index;

/// <summary>
/// Reads the published index and renders every project's pages once at start, in the background, so the first reader
/// of each page after a restart does not wait for a database round trip and a render (about 2,000 pages a few
/// seconds). One project at a time: it must not compete with requests for the two cores of a small host. The cache's generation check keeps a
/// page rendered before a concurrent publish out of the cache, so warming never serves stale pages.
/// </summary>
internal sealed partial class IndexWarmer(IndexCache cache, IOptions<IndexOptions> options, ILogger<IndexWarmer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.WarmOnStart)
        {
            return;
        }

        var started = TimeProvider.System.GetTimestamp();
        // The published index first: the project list of principals limited to some projects and the catalog's
        // listings (the web UI's packages page) read it.
        await cache.GetPublishedAsync(stoppingToken);
        var projects = await cache.ListProjectsAsync(stoppingToken);
        foreach (var project in projects)
        {
            await cache.WarmProjectAsync(project, stoppingToken);
        }

        var elapsed = TimeProvider.System.GetElapsedTime(started);
        LogWarmed(logger, projects.Count, elapsed.TotalSeconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Index cache warmed: {Projects} projects in {Seconds:F1} s")]
    private static partial void LogWarmed(ILogger logger, int projects, double seconds);
}
