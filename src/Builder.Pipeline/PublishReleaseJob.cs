using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Data;
using Hangfire;
using Hangfire.Server;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Pipeline;

/// <summary>
/// The one step that publishes a release, enqueued by the last part's success (and again by the watchdog when that
/// enqueue was lost): it reads the staged files the parts recorded, checks each against its recorded digest and the tag,
/// and publishes them together with the build's success in one transaction (<see cref="ReleasePublisher"/>). Safe to
/// run any number of times, at once too: a finished build is left alone, the publish lock orders two runs, and the second
/// finds the files published and the build no longer running.
/// </summary>
public sealed partial class PublishReleaseJob(
    BuilderDbContext db,
    IDbContextFactory<BuilderDbContext> contexts,
    PackageArtifacts artifacts,
    ReleasePublisher publisher,
    ReleaseLifecycle lifecycle,
    BuildEventDispatcher events,
    IOptions<BuildOptions> options,
    ILogger<PublishReleaseJob> logger)
{
    [AutomaticRetry(Attempts = BuildJob.MaxAttempts - 1, DelaysInSeconds = [5, 30])]
    [JobDisplayName("Publish build {0}")]
    public async Task RunAsync(long buildId, PerformContext? context, CancellationToken cancellationToken)
    {
        if (!await lifecycle.StartPublishAsync(buildId, cancellationToken))
        {
            LogNothingToDo(logger, buildId);
            return;
        }

        var build = await db.Builds.AsNoTracking().Include(b => b.Repository).SingleAsync(b => b.Id == buildId, cancellationToken);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["BuildId"] = buildId, ["Repository"] = build.Repository?.Name ?? "?" });
        var parts = await db.BuildParts.AsNoTracking().Where(p => p.BuildId == buildId).OrderBy(p => p.Id).ToListAsync(cancellationToken);
        var attempt = (context?.GetJobParameter<int>("RetryCount") ?? 0) + 1;
        var work = options.Value.NewWorkDirectory(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{buildId}-publish-{Guid.NewGuid():N}"));
        await using var log = new DbBuildLog(contexts, buildId);
        try
        {
            var paths = await FetchStagedAsync(parts, Path.Combine(work, "release"), cancellationToken);
            var files = await ReleasePublisher.CheckAsync(build.Tag, build.Version!, paths, cancellationToken);
            switch (await publisher.PublishAsync(files, buildId, cancellationToken))
            {
                case PublishOutcome.BuildEnded:
                    log.WriteLine("[builder] not published: the release was cancelled or failed while it was being published");
                    break;
                default:
                    log.WriteLine($"[builder] published {files[0].Project} {build.Version}: {string.Join(", ", files.Select(f => f.Name.Filename))}");
                    LogPublished(logger, buildId, files[0].Project, build.Version!);
                    await lifecycle.DropStagedAsync(parts, CancellationToken.None);
                    // The index caches hear of it through the "published" event: delivered now rather than at the next poll.
                    await events.DeliverAsync(CancellationToken.None);
                    break;
            }
        }
        catch (Exception ex) when (ex is BuildStepException or PublishConflictException or ArtifactStoreUnavailableException)
        {
            // A run that lost the race to a finished publication (its staged files already dropped) fails nothing.
            log.WriteLine(await lifecycle.FailAsync(buildId, ex.Message)
                ? $"[builder] FAILED: {ex.Message}"
                : $"[builder] publishing stopped: the release is already finished ({ex.Message})");
        }
        catch (Exception ex) when (attempt >= BuildJob.MaxAttempts && !cancellationToken.IsCancellationRequested)
        {
            LogFault(logger, ex, buildId, attempt);
            var message = $"publishing failed with an internal error after {attempt} attempts: {ex.GetType().Name}: {ex.Message}";
            log.WriteLine($"[builder] FAILED: {message}");
            await lifecycle.FailAsync(buildId, message);
        }
        catch (Exception ex)
        {
            LogFault(logger, ex, buildId, attempt);
            log.WriteLine($"[builder] publishing attempt {attempt} failed ({ex.GetType().Name}: {ex.Message}); it will be retried");
            throw;
        }
        finally
        {
            BuildJob.TryDelete(work);
        }
    }

    /// <summary>
    /// Copies each staged file out of the store and checks its bytes against the digest its part recorded. A pure
    /// project split into parts built its one py3-none-any wheel in each: the first part's copy is published.
    /// </summary>
    private async Task<List<string>> FetchStagedAsync(IReadOnlyList<BuildPart> parts, string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            foreach (var (name, sha256) in part.StagedFiles.Where(f => seen.Add(f.Name)))
            {
                var content = await artifacts.OpenStagedAsync(part, name, sha256, cancellationToken)
                    ?? throw new BuildStepException($"staged file {name} of part {part.Id} is missing from the artifact store ({PackageArtifacts.DescribeStaged(part, name, sha256)}); build the tag again");
                var path = Path.Combine(directory, name);
                string actual;
                await using (content.Stream)
                await using (var file = File.Create(path))
                {
                    actual = await Builder.Core.Packaging.FileHash.CopyAsync(content.Stream, file, cancellationToken);
                }

                if (actual != sha256)
                {
                    throw new BuildStepException($"staged file {name} of part {part.Id} has sha256 {actual}, not the {sha256} its part recorded; nothing was published");
                }

                paths.Add(path);
            }
        }

        return paths;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Publish build {BuildId}: finished, or not every part succeeded; nothing to do")]
    private static partial void LogNothingToDo(ILogger logger, long buildId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} published {Project} {Version}")]
    private static partial void LogPublished(ILogger logger, long buildId, string project, string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing build {BuildId} failed with a fault (attempt {Attempt})")]
    private static partial void LogFault(ILogger logger, Exception exception, long buildId, int attempt);
}
