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
/// The Hangfire job that turns one recorded tag push into a published release. Its only argument is the build id.
/// Delivery is at least once, so every step is safe to repeat: a finished build is left alone, and publishing
/// identical files again is success.
/// </summary>
public sealed partial class BuildJob(
    BuilderDbContext db,
    IDbContextFactory<BuilderDbContext> contexts,
    ISourceFetcher sources,
    IWheelBuilder wheels,
    ReleasePublisher publisher,
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
        var build = await db.Builds.Include(b => b.Repository).Include(b => b.Targets).SingleOrDefaultAsync(b => b.Id == buildId, cancellationToken);
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
        db.BuildTargets.RemoveRange(build.Targets);
        await db.SaveChangesAsync(cancellationToken);

        var work = Path.Combine(options.Value.WorkDir is { Length: > 0 } dir ? dir : Path.GetTempPath(),
            $"builder-{buildId}-{Guid.NewGuid():N}");
        await using var log = new DbBuildLog(contexts, buildId);
        try
        {
            log.WriteLine($"[builder] build {buildId}: {build.Repository!.Name} tag {build.Tag} ({build.CommitSha}), attempt {build.Attempts}");
            var files = await BuildAsync(build, work, log, cancellationToken);
            await publisher.PublishAsync(files, build, cancellationToken);
            log.WriteLine($"[builder] published {build.Project} {build.Version}: {string.Join(", ", files.Select(f => f.Name.Filename))}");
            LogSucceeded(logger, buildId, build.Project!, build.Version!);
        }
        catch (BuildStepException ex)
        {
            await FailAsync(build, ex.Message, log);
        }
        catch (PublishConflictException ex)
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

    private async Task<IReadOnlyList<CheckedFile>> BuildAsync(Build build, string work, DbBuildLog log, CancellationToken cancellationToken)
    {
        if (!TagVersion.TryParse(build.Tag, out var version))
        {
            throw new BuildStepException($"tag '{build.Tag}' does not name a PEP 440 version (expected a tag like v1.2.3)");
        }

        build.Version = version;
        var source = Path.Combine(work, "src");
        var checkout = await sources.FetchAsync(new SourceRequest(build.Repository!.CloneUrl, build.Tag, build.CommitSha), source, log, cancellationToken);
        build.ResolvedCommit = checkout.CommitSha;
        await db.SaveChangesAsync(cancellationToken);

        var plan = await PlanAsync(source, log, cancellationToken);
        var outputs = new List<string>();
        var first = true;
        foreach (var (arch, identifiers) in plan.Architectures)
        {
            var request = new WheelBuildRequest(build.Id, arch, source, Path.Combine(work, "out", arch), IncludeSdist: first && plan.Sdist)
            {
                Identifiers = identifiers,
                Project = plan.Project,
            };
            first = false;
            var result = await wheels.BuildAsync(request, log, cancellationToken);
            foreach (var target in result.Targets)
            {
                build.Targets.Add(new BuildTarget
                {
                    Name = target.Name,
                    Architecture = arch,
                    Succeeded = target.Succeeded,
                    Seconds = Math.Round(target.Duration.TotalSeconds, 2),
                    Error = target.Error,
                    Files = string.Join(' ', target.Files),
                });
            }

            await db.SaveChangesAsync(cancellationToken);
            if (!result.Succeeded)
            {
                throw new BuildStepException(result.Error ?? $"{arch}: the build failed");
            }

            outputs.AddRange(result.Files);
        }

        return await ReleasePublisher.CheckAsync(build.Tag, version, outputs, cancellationToken);
    }

    /// <summary>The release's matrix from the server settings and the project's pyproject.toml, written to the build log.</summary>
    private async Task<BuildPlan> PlanAsync(string source, DbBuildLog log, CancellationToken cancellationToken)
    {
        var path = Path.Combine(source, "pyproject.toml");
        var toml = File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken) : null;
        var plan = BuildMatrix.Plan(toml, options.Value);
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

        return plan;
    }

    private async Task FailAsync(Build build, string message, DbBuildLog log)
    {
        log.WriteLine($"[builder] FAILED: {message}");
        build.State = BuildState.Failed;
        build.Error = message;
        build.FinishedAt = time.GetUtcNow();
        // The failure must be recorded even if the job's token fires now.
        await db.SaveChangesAsync(CancellationToken.None);
        LogFailed(logger, build.Id, message);
    }

    private static void TryDelete(string directory)
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} published {Project} {Version}")]
    private static partial void LogSucceeded(ILogger logger, long buildId, string project, string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Build {BuildId} attempt {Attempt} failed with a fault")]
    private static partial void LogFault(ILogger logger, Exception exception, long buildId, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, long buildId, string reason);
}
