using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Core.Packaging;
using Builder.Data;
using Builder.Index;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Pipeline;

/// <summary>
/// The Hangfire job that builds one part of a release on a worker that takes its architecture's queue: under the part's
/// lease (<see cref="ReleaseLifecycle.StartPartAsync"/>), refreshed by a heartbeat, it checks out the commit the plan
/// resolved from the build's source bundle (<see cref="BuildSource"/>), builds with the settings the plan recorded, tests the part's targets in containers, stages the files in the artifact store by content, and
/// records the part succeeded (the last part's success enqueues the release's publication) or failed (which fails the
/// release). Its only argument is the part id. A run that cannot take the lease (another run holds it, the part or its
/// build is finished) does nothing; a run that loses it (cancelled, taken over) stops its containers and ends.
/// </summary>
public sealed partial class BuildPartJob(
    BuilderDbContext db,
    IDbContextFactory<BuilderDbContext> contexts,
    BuildSource sources,
    IWheelBuilder wheels,
    PackageArtifacts artifacts,
    ReleaseLifecycle lifecycle,
    IOptions<BuildOptions> options,
    IOptions<JobOptions> jobs,
    TimeProvider time,
    ILogger<BuildPartJob> logger)
{
    [AutomaticRetry(Attempts = BuildJob.MaxAttempts - 1, DelaysInSeconds = [10, 60])]
    [JobDisplayName("Build part {0}")]
    public async Task RunAsync(long partId, CancellationToken cancellationToken)
    {
        var lease = ReleaseLifecycle.NewLease(options.Value.WorkerName);
        if (await lifecycle.StartPartAsync(partId, lease, cancellationToken) is not var (build, part, takenFrom))
        {
            LogNothingToDo(logger, partId);
            return;
        }

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["BuildId"] = build.Id, ["PartId"] = partId, ["Repository"] = build.Repository?.Name ?? "?" });
        await db.BuildTargets.Where(t => t.BuildId == build.Id && t.PartId == partId).ExecuteDeleteAsync(cancellationToken);
        var work = options.Value.NewWorkDirectory(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{build.Id}-part-{partId}-{lease[^12..]}"));
        await using var log = new DbBuildLog(contexts, build.Id);
        await using var heartbeat = new LeaseHeartbeat(jobs.Value.Heartbeat, ct => lifecycle.PartHeartbeatAsync(partId, lease, ct), time);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, heartbeat.Lost);
        var prefix = $"[{part.Architecture} part {partId}]";
        try
        {
            // The image the plan chose; a part planned before plans recorded it takes this worker's, and records it.
            if (part.Image is null)
            {
                var image = options.Value.Images.GetValueOrDefault(part.Architecture);
                await db.BuildParts.Where(p => p.Id == partId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Image, image), cancellationToken);
                part.Image = image;
            }

            log.WriteLine($"{prefix} started on {options.Value.WorkerName} with image {part.Image}, attempt {part.Attempts}{(takenFrom is null ? "" : $" (took over from {takenFrom}, whose lease expired)")}");
            var failure = await BuildAsync(build, part, lease, work, log, run.Token);
            if (failure is not null)
            {
                log.WriteLine($"[builder] FAILED: {failure}");
                await lifecycle.PartFailedAsync(partId, build.Id, lease, failure);
            }
        }
        catch (Exception ex) when (ex is BuildStepException or ArtifactStoreUnavailableException)
        {
            // The store's own retries already waited out Builder:Storage:RetrySeconds: building again would not help.
            log.WriteLine($"[builder] FAILED: {ex.Message}");
            await lifecycle.PartFailedAsync(partId, build.Id, lease, ex.Message);
        }
        catch (OperationCanceledException ex) when (ex is LeaseLostException || heartbeat.IsLost || cancellationToken.IsCancellationRequested)
        {
            if (ex is LeaseLostException || heartbeat.IsLost || !await lifecycle.HoldsPartAsync(partId, lease, CancellationToken.None))
            {
                // The part is no longer this run's: its build was cancelled (tag deleted) or failed in another part, or
                // another run took it over after this one missed its heartbeats. The runner removed the containers.
                log.WriteLine($"{prefix} stopped: {await lifecycle.LostReasonAsync(partId)}");
                return;
            }

            // The worker is stopping: the part is handed back and Hangfire runs it again.
            log.WriteLine($"{prefix} interrupted: the worker is stopping");
            await lifecycle.ReleasePartAsync(partId, build.Id, lease, "interrupted: the worker stopped");
            throw;
        }
        catch (Exception ex) when (part.Attempts >= BuildJob.MaxAttempts)
        {
            LogFault(logger, ex, build.Id, partId, part.Attempts);
            var message = $"{part.Architecture}: internal error after {part.Attempts} attempts: {ex.GetType().Name}: {ex.Message}";
            log.WriteLine($"[builder] FAILED: {message}");
            await lifecycle.PartFailedAsync(partId, build.Id, lease, message);
        }
        catch (Exception ex)
        {
            LogFault(logger, ex, build.Id, partId, part.Attempts);
            log.WriteLine($"{prefix} attempt {part.Attempts} failed with an internal error ({ex.GetType().Name}: {ex.Message}); it will be retried");
            await lifecycle.ReleasePartAsync(partId, build.Id, lease, $"attempt {part.Attempts} failed with an internal error; retried");
            throw;
        }
        finally
        {
            BuildJob.TryDelete(work);
        }
    }

    /// <summary>Builds the part; stages its files and records it succeeded, or returns why it failed.</summary>
    private async Task<string?> BuildAsync(Build build, BuildPart part, string lease, string work, DbBuildLog log, CancellationToken cancellationToken)
    {
        var source = Path.Combine(work, "src");
        var checkout = await sources.FetchForPartAsync(build, source, work, log, cancellationToken);
        if (build.ResolvedCommit is { } planned && checkout.CommitSha != planned)
        {
            throw new BuildStepException($"tag '{build.Tag}' moved from {planned} to {checkout.CommitSha} while the release was building; tag again to build the new commit");
        }

        // The project's settings as the plan recorded them (a build planned before they were recorded reads them from
        // the same pyproject.toml again); the identifiers are the part's.
        var settings = build.PlannedSettings is { } recorded
            ? ProjectBuildSettings.FromJson(recorded)
            : BuildMatrix.Plan(await BuildJob.ReadPyprojectAsync(source, cancellationToken), options.Value).Project;
        var request = new WheelBuildRequest(build.Id, part.Architecture, source, Path.Combine(work, "out"), part.IncludeSdist)
        {
            PartId = part.Id,
            Image = part.Image,
            EarlierRunWorkers = part.Attempts > 1 ? await lifecycle.EarlierRunWorkersAsync(part.Id, lease, cancellationToken) : [],
            Identifiers = part.IdentifierList,
            Project = settings,
        };
        var result = await wheels.BuildAsync(request, log, cancellationToken);
        if (!await lifecycle.HoldsPartAsync(part.Id, lease, cancellationToken))
        {
            throw new LeaseLostException("the part's lease was lost while it built");
        }

        if (result.ImageDigest is { } digest)
        {
            // Provenance names the image by content: what this run built in, recorded before its success is.
            await db.BuildParts.Where(p => p.Id == part.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.ImageDigest, digest), cancellationToken);
        }

        foreach (var target in result.Targets)
        {
            db.BuildTargets.Add(new BuildTarget
            {
                BuildId = build.Id,
                PartId = part.Id,
                Name = target.Name,
                Architecture = part.Architecture,
                Succeeded = target.Succeeded,
                Seconds = Math.Round(target.Duration.TotalSeconds, 2),
                Error = target.Error,
                Files = string.Join(' ', target.Files),
            });
        }

        await db.SaveChangesAsync(cancellationToken);
        if (!result.Succeeded)
        {
            return result.Error ?? $"{part.Architecture}: the build failed";
        }

        // Each file is checked here, where its bytes are on this disk (a valid distribution with the tag's version), and
        // staged by content: another run of this part (a zombie that lost its lease) stages other bytes under other
        // keys, so what this run records is what its keys hold. The rows carry everything the published rows will say:
        // the publication promotes the staged objects without reading them again.
        var staged = new List<StagedFile>();
        foreach (var file in await ReleasePublisher.CheckBuiltAsync(build.Tag, build.Version!, result.Files, cancellationToken))
        {
            await artifacts.StageAsync(part, file.Name.Filename, file.Path, file.Sha256, file.MetadataFile, cancellationToken);
            staged.Add(new StagedFile
            {
                BuildId = build.Id,
                PartId = part.Id,
                Filename = file.Name.Filename,
                Sha256 = file.Sha256,
                Size = file.Size,
                Project = file.Project,
                Version = file.Name.Version,
                RequiresPython = file.Metadata.RequiresPython,
                MetadataSha256 = file.MetadataSha256,
                MetadataSize = file.MetadataFile?.Length,
                Target = TargetOf(result.Targets, file.Path),
                Sboms = WheelSboms.Format(file.Sboms),
            });
        }

        if (!await lifecycle.PartSucceededAsync(part.Id, build.Id, lease, staged, cancellationToken))
        {
            throw new LeaseLostException("the part's lease was lost before its success was recorded");
        }

        log.WriteLine($"[{part.Architecture} part {part.Id}] done: {string.Join(", ", staged.Select(f => f.Filename))}");
        return null;
    }

    /// <summary>The target whose outputs include the file at <paramref name="path"/> (by canonical name): its identifier, or <c>sdist</c>.</summary>
    private static string? TargetOf(IReadOnlyList<TargetResult> targets, string path)
    {
        var name = Canonical(Path.GetFileName(path));
        return targets.FirstOrDefault(t => t.Files.Any(f => Canonical(Path.GetFileName(f)) == name))?.Name;

        static string Canonical(string fileName) => DistributionFilename.TryParse(fileName, out var parsed) && parsed is not null ? parsed.Canonical : fileName;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Build part {PartId}: missing, finished, or held by another run; nothing to do")]
    private static partial void LogNothingToDo(ILogger logger, long partId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Build {BuildId} part {PartId} attempt {Attempt} failed with a fault")]
    private static partial void LogFault(ILogger logger, Exception exception, long buildId, long partId, int attempt);
}
