using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Core.Packaging;
using Builder.Data;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Pipeline;

/// <summary>
/// The Hangfire job that starts one recorded tag push on its way: it clones the tag, plans the release's matrix, and
/// enqueues one <see cref="BuildPartJob"/> per part on its architecture's queue. Its only argument is the build id.
/// Delivery is at least once, so it is safe to repeat: a finished build is left alone, and a re-run plans afresh
/// (the parts of the previous run find their rows gone and stop).
/// </summary>
public sealed partial class BuildJob(
    BuilderDbContext db,
    IDbContextFactory<BuilderDbContext> contexts,
    ISourceFetcher sources,
    IRepositorySecrets secrets,
    IBuildDispatcher dispatcher,
    ReleaseCompletion completion,
    IOptions<BuildOptions> options,
    TimeProvider time,
    ILogger<BuildJob> logger)
{
    /// <summary>Runs of one build before a fault (not a build failure) fails it; matches the retry attribute below.</summary>
    public const int MaxAttempts = 3;

    // Faults (database or Docker engine unreachable) are retried; a build that fails for its own reasons is a value, not a fault.
    [AutomaticRetry(Attempts = MaxAttempts - 1, DelaysInSeconds = [10, 60])]
    [JobDisplayName("Build {0}")]
    public async Task RunAsync(long buildId, CancellationToken cancellationToken)
    {
        var build = await db.Builds.Include(b => b.Repository).Include(b => b.Targets).Include(b => b.Parts)
            .SingleOrDefaultAsync(b => b.Id == buildId, cancellationToken);
        if (build is null)
        {
            LogMissing(logger, buildId);
            return;
        }

        if (build.IsFinished)
        {
            return;
        }

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["BuildId"] = buildId });
        build.State = BuildState.Running;
        build.StartedAt = time.GetUtcNow();
        build.Attempts++;
        build.Error = null;
        await completion.DropStagedAsync(build.Parts, cancellationToken);
        db.BuildTargets.RemoveRange(build.Targets);
        db.BuildParts.RemoveRange(build.Parts);
        await db.SaveChangesAsync(cancellationToken);

        var work = options.Value.NewWorkDirectory(buildId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using var log = new DbBuildLog(contexts, buildId);
        try
        {
            log.WriteLine($"[builder] build {buildId}: {build.Repository!.Name} tag {build.Tag} ({build.CommitSha}), attempt {build.Attempts}");
            await PlanAsync(build, work, log, cancellationToken);
        }
        catch (BuildStepException ex)
        {
            await FailAsync(build, ex.Message, log);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The worker is stopping: leave the build Running; Hangfire (or the embedded recovery) runs it again.
            log.WriteLine("[builder] interrupted: the worker is stopping; the build will run again");
            throw;
        }
        catch (Exception ex) when (build.Attempts >= MaxAttempts)
        {
            // The last attempt: record the failure instead of leaving the build "running" behind a failed job.
            LogFault(logger, ex, buildId, build.Attempts);
            await FailAsync(build, $"internal error after {build.Attempts} attempts: {ex.GetType().Name}: {ex.Message}", log);
        }
        catch (Exception ex)
        {
            LogFault(logger, ex, buildId, build.Attempts);
            log.WriteLine($"[builder] attempt {build.Attempts} failed with an internal error ({ex.GetType().Name}: {ex.Message}); it will be retried");
            throw;
        }
        finally
        {
            TryDelete(work);
        }
    }

    /// <summary>Clones the tag, plans the matrix, records the parts and enqueues each on its architecture's queue.</summary>
    private async Task PlanAsync(Build build, string work, DbBuildLog log, CancellationToken cancellationToken)
    {
        if (!TagVersion.TryParse(build.Tag, out var version))
        {
            throw new BuildStepException($"tag '{build.Tag}' does not name a PEP 440 version (expected a tag like v1.2.3)");
        }

        build.Version = version;
        var source = Path.Combine(work, "src");
        var checkout = await sources.FetchAsync(new SourceRequest(build.Repository!.CloneUrl, build.Tag, build.CommitSha, secrets.Credentials(build.Repository)), source, log, cancellationToken);
        build.ResolvedCommit = checkout.CommitSha;
        await db.SaveChangesAsync(cancellationToken);
        if (await completion.IsCancelledAsync(build.Id))
        {
            log.WriteLine("[builder] cancelled: the tag was deleted");
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
            build.Project = published.Project;
            build.State = BuildState.Succeeded;
            build.FinishedAt = time.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            return;
        }

        var plan = BuildMatrix.Plan(await ReadPyprojectAsync(source, cancellationToken), options.Value);
        WritePlan(plan, log);
        var parts = BuildMatrix.Parts(build.Id, plan, options.Value.ParallelTargets);
        build.Parts.AddRange(parts);
        await db.SaveChangesAsync(cancellationToken);

        // Recorded first, then enqueued: a part whose job id is not saved yet still finds its row.
        foreach (var part in parts)
        {
            part.JobId = dispatcher.EnqueuePart(part.Id, part.Architecture);
            log.WriteLine($"[builder] part {part.Id} ({part.Architecture}: {string.Join(", ", part.IdentifierList)}{(part.IncludeSdist ? ", sdist" : "")}) queued on {BuildQueues.ForArchitecture(part.Architecture)}");
        }

        await db.SaveChangesAsync(CancellationToken.None);
    }

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

    private async Task FailAsync(Build build, string message, DbBuildLog log)
    {
        log.WriteLine($"[builder] FAILED: {message}");
        await completion.FailAsync(build, message);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Build {BuildId} does not exist; nothing to do")]
    private static partial void LogMissing(ILogger logger, long buildId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Build {BuildId} attempt {Attempt} failed with a fault")]
    private static partial void LogFault(ILogger logger, Exception exception, long buildId, int attempt);
}
