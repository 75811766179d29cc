using Builder.Core.Builds;
using Builder.Data;
using Builder.Index;
using Hangfire;
using Hangfire.Server;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Builder.Pipeline;

/// <summary>
/// The one step that publishes a release, enqueued by the last part's success (and again by the watchdog when that
/// enqueue was lost): it takes the staged files the parts recorded (each checked by its part against the tag) and
/// publishes them by promotion, together with the build's success in one transaction (<see cref="ReleasePublisher"/>):
/// the store checks each staged object against the digest its part recorded and copies it inside itself, so no byte is
/// read or sent again. Safe to
/// run any number of times, at once too: a finished build is left alone, the publish lock orders two runs, and the second
/// finds the files published and the build no longer running.
/// </summary>
public sealed partial class PublishReleaseJob(
    BuilderDbContext db,
    IDbContextFactory<BuilderDbContext> contexts,
    ReleasePublisher publisher,
    ReleaseLifecycle lifecycle,
    ReleaseProvenance provenance,
    BuildEventDispatcher events,
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
        var attempt = (context?.GetJobParameter<int>("RetryCount") ?? 0) + 1;
        await using var log = new DbBuildLog(contexts, buildId);
        try
        {
            var files = await StagedFilesAsync(build, cancellationToken);
            switch (await publisher.PublishAsync(files, buildId, cancellationToken))
            {
                case PublishOutcome.BuildEnded:
                    log.WriteLine("[builder] not published: the release was cancelled or failed while it was being published");
                    break;
                default:
                    log.WriteLine($"[builder] published {files[0].Project} {build.Version}: {string.Join(", ", files.Select(f => f.Filename))}");
                    LogPublished(logger, buildId, files[0].Project, build.Version!);
                    await lifecycle.DropStagedAsync(buildId, CancellationToken.None);
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
    }

    /// <summary>
    /// The release's files: what the parts staged, as one project. A pure project split into parts built its one
    /// py3-none-any wheel in each: the first part's copy is published.
    /// </summary>
    private async Task<List<FileToPublish>> StagedFilesAsync(Build build, CancellationToken cancellationToken)
    {
        var staged = await db.StagedFiles.AsNoTracking().Where(f => f.BuildId == build.Id).OrderBy(f => f.PartId).ThenBy(f => f.Id).ToListAsync(cancellationToken);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var files = staged.Where(f => seen.Add(f.Filename)).ToList();
        ReleasePublisher.CheckRelease(files.Select(f => f.Project).ToList());
        // Each file is published with its signed provenance (made here, before the publication's transaction).
        var parts = await db.BuildParts.AsNoTracking().Where(p => p.BuildId == build.Id).ToListAsync(cancellationToken);
        var attested = await provenance.AttestAsync(build, parts, files, cancellationToken);
        return files.Select(f => FileToPublish.Staged(f) with { Provenance = attested[f.Filename] }).ToList();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Publish build {BuildId}: finished, or not every part succeeded; nothing to do")]
    private static partial void LogNothingToDo(ILogger logger, long buildId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} published {Project} {Version}")]
    private static partial void LogPublished(ILogger logger, long buildId, string project, string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing build {BuildId} failed with a fault (attempt {Attempt})")]
    private static partial void LogFault(ILogger logger, Exception exception, long buildId, int attempt);
}
