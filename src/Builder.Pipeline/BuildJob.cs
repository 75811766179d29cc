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
/// The Hangfire job that starts one recorded tag push on its way: it clones the tag, plans the release's matrix, stages
/// the source as a git bundle for the parts, and records one <see cref="BuildPart"/> per part with the project's settings, which <see cref="ReleaseLifecycle"/> enqueues on its architecture's
/// queue. Its only argument is the build id. Delivery is at least once, and a run may meet another: it plans only under
/// the build's planning lease (a queued build, or one whose planning run died), so a planned build is never planned again.
/// </summary>
public sealed partial class BuildJob(
    BuilderDbContext db,
    BuildSource sources,
    ReleaseLifecycle lifecycle,
    ProjectQuotas quotas,
    IDbContextFactory<BuilderDbContext> contexts,
    IOptions<BuildOptions> options,
    IOptions<JobOptions> jobs,
    TimeProvider time,
    ILogger<BuildJob> logger)
{
    /// <summary>Runs of one build step before a fault (not a build failure) fails it; matches the retry attributes.</summary>
    public const int MaxAttempts = 3;

    // Faults (database or Docker engine unreachable) are retried; a build that fails for its own reasons is a value, not a fault.
    [AutomaticRetry(Attempts = MaxAttempts - 1, DelaysInSeconds = [10, 60])]
    [JobDisplayName("Build {0}")]
    public async Task RunAsync(long buildId, CancellationToken cancellationToken)
    {
        var lease = ReleaseLifecycle.NewLease(options.Value.WorkerName);
        if (!await lifecycle.StartPlanAsync(buildId, lease, cancellationToken))
        {
            LogNothingToDo(logger, buildId);
            return;
        }

        var build = await db.Builds.AsNoTracking().Include(b => b.Repository).SingleAsync(b => b.Id == buildId, cancellationToken);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["BuildId"] = buildId, ["Repository"] = build.Repository!.Name });
        var work = options.Value.NewWorkDirectory(buildId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using var log = new DbBuildLog(contexts, buildId);
        await using var heartbeat = new LeaseHeartbeat(jobs.Value.Heartbeat, ct => lifecycle.PlanHeartbeatAsync(buildId, lease, ct), time);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, heartbeat.Lost);
        try
        {
            log.WriteLine($"[builder] build {buildId}: {build.Repository!.Name} tag {build.Tag} ({build.CommitSha}), attempt {build.Attempts}");
            await PlanAsync(build, lease, work, log, run.Token);
        }
        catch (Exception ex) when (ex is BuildStepException or ArtifactStoreUnavailableException)
        {
            // The store's own retries (staging the source bundle) already waited out Builder:Storage:RetrySeconds, as a
            // part's staging does: planning again would not help.
            log.WriteLine($"[builder] FAILED: {ex.Message}");
            await lifecycle.FailAsync(buildId, ex.Message);
        }
        catch (OperationCanceledException) when (heartbeat.IsLost)
        {
            log.WriteLine("[builder] stopped: the build is no longer this run's to plan (cancelled, or taken over after a missed heartbeat)");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The worker is stopping: hand the build back; Hangfire (or the embedded recovery) runs it again.
            log.WriteLine("[builder] interrupted: the worker is stopping; the build will run again");
            await lifecycle.ReleasePlanAsync(buildId, lease, "interrupted: the worker stopped");
            throw;
        }
        catch (Exception ex) when (build.Attempts >= MaxAttempts)
        {
            // The last attempt: record the failure instead of leaving the build "running" behind a failed job.
            LogFault(logger, ex, buildId, build.Attempts);
            var message = $"internal error after {build.Attempts} attempts: {ex.GetType().Name}: {ex.Message}";
            log.WriteLine($"[builder] FAILED: {message}");
            await lifecycle.FailAsync(buildId, message);
        }
        catch (Exception ex)
        {
            LogFault(logger, ex, buildId, build.Attempts);
            log.WriteLine($"[builder] attempt {build.Attempts} failed with an internal error ({ex.GetType().Name}: {ex.Message}); it will be retried");
            await lifecycle.ReleasePlanAsync(buildId, lease, $"attempt {build.Attempts} failed with an internal error; retried");
            throw;
        }
        finally
        {
            TryDelete(work);
        }
    }

    /// <summary>Clones the tag, plans the matrix, and records the parts (which the lifecycle enqueues).</summary>
    private async Task PlanAsync(Build build, string lease, string work, DbBuildLog log, CancellationToken cancellationToken)
    {
        if (TagVersion.Refusal(build.Tag, out var version) is { } refusal)
        {
            throw new BuildStepException(refusal);
        }

        var source = Path.Combine(work, "src");
        var checkout = await sources.FetchAsync(build, source, log, cancellationToken);
        if (!await lifecycle.RecordSourceAsync(build.Id, lease, version, checkout.CommitSha, cancellationToken))
        {
            log.WriteLine("[builder] stopped: the build is no longer this run's to plan (cancelled, or taken over)");
            return;
        }

        // File names are immutable: a tag published from one commit is never published again from another.
        var published = await db.Builds.AsNoTracking()
            .Where(b => b.RepositoryId == build.RepositoryId && b.Tag == build.Tag && b.State == BuildState.Succeeded && b.Id != build.Id)
            .Select(b => new { b.ResolvedCommit, b.Project })
            .FirstOrDefaultAsync(cancellationToken);
        if (published is not null && published.ResolvedCommit != checkout.CommitSha)
        {
            throw new BuildStepException(
                $"tag '{build.Tag}' was published from commit {published.ResolvedCommit} and now points at {checkout.CommitSha}; published files are immutable, so nothing was built (tag a new version instead)");
        }

        if (published is not null)
        {
            log.WriteLine($"[builder] tag '{build.Tag}' is already published from commit {checkout.CommitSha}; nothing to do");
            await lifecycle.SucceedAlreadyPublishedAsync(build.Id, lease, published.Project!);
            return;
        }

        var pyproject = await ReadPyprojectAsync(source, cancellationToken);
        // Before any container starts: a project already at its quota could publish nothing this build makes.
        if (await ProjectOfAsync(build, pyproject, cancellationToken) is { } project && await quotas.FullRefusalAsync(project, cancellationToken) is { } full)
        {
            throw new BuildStepException(full);
        }

        var plan = BuildMatrix.Plan(pyproject, options.Value);
        WritePlan(plan, log);
        var parts = BuildMatrix.Parts(build.Id, plan, options.Value.ParallelTargets, options.Value.Images);
        // The parts start from this clone, bundled, rather than each cloning from the forge again (a bundle a run that
        // loses its lease staged stays under the build's staging prefix: another run's bundle may have the same key).
        var bundle = await sources.StageBundleAsync(build, source, work, log, cancellationToken);
        if (!await lifecycle.RecordPlanAsync(build.Id, lease, parts, plan.Project, bundle, cancellationToken))
        {
            log.WriteLine("[builder] stopped: the build is no longer this run's to plan (cancelled, or taken over)");
            return;
        }

        foreach (var part in parts)
        {
            log.WriteLine($"[builder] part {part.Id} ({part.Architecture}: {string.Join(", ", part.IdentifierList)}{(part.IncludeSdist ? ", sdist" : "")}) queued on {BuildQueues.ForArchitecture(part.Architecture)}");
        }
    }

    /// <summary>
    /// The project this build is expected to publish, before it is built: the tree's <c>[project] name</c>, else the
    /// project the repository's last published build published (null: not known until the files are built; the
    /// publication checks the quota then).
    /// </summary>
    private async Task<string?> ProjectOfAsync(Build build, string? pyproject, CancellationToken cancellationToken) =>
        PyprojectName.Read(pyproject)
        ?? await db.Builds.AsNoTracking().Where(b => b.RepositoryId == build.RepositoryId && b.State == BuildState.Succeeded && b.Project != null)
            .OrderByDescending(b => b.Id).Select(b => b.Project).FirstOrDefaultAsync(cancellationToken);

    internal static async Task<string?> ReadPyprojectAsync(string source, CancellationToken cancellationToken)
    {
        var path = Path.Combine(source, "pyproject.toml");
        return File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken) : null;
    }

    /// <summary>The release's matrix, written to the build log: what the project asked for, what was honored and ignored.</summary>
    private static void WritePlan(BuildPlan plan, DbBuildLog log)
    {
        log.WriteLine($"[plan] {plan.Origin}");
        foreach (var line in plan.Honored)
        {
            log.WriteLine($"[plan] honored: {line}");
        }

        foreach (var line in plan.Ignored)
        {
            log.WriteLine($"[plan] ignored: {line}");
        }

        foreach (var (arch, identifiers) in plan.Architectures)
        {
            log.WriteLine($"[plan] {arch}: {string.Join(", ", identifiers)}");
        }
    }

    internal static void TryDelete(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        // Git pack files are read-only; clear the attribute so the whole tree can go.
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal);
        }

        Directory.Delete(directory, recursive: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId}: missing, finished, planned, or planned by another run; nothing to do")]
    private static partial void LogNothingToDo(ILogger logger, long buildId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Build {BuildId} attempt {Attempt} failed with a fault")]
    private static partial void LogFault(ILogger logger, Exception exception, long buildId, int attempt);
}
