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
/// The Hangfire job that builds one part of a release on a worker that takes its architecture's queue: it clones the
/// commit the plan resolved, builds and tests the part's targets in containers, stages the files in the artifact
/// store, and then lets <see cref="ReleaseCompletion"/> publish the release if it was the last part, or fail it.
/// Its only argument is the part id; a part whose row is gone (the build was planned again) or whose build is
/// finished (failed, cancelled) does nothing.
/// </summary>
public sealed partial class BuildPartJob(
    BuilderDbContext db,
    IDbContextFactory<BuilderDbContext> contexts,
    ISourceFetcher sources,
    IRepositorySecrets secrets,
    IWheelBuilder wheels,
    IArtifactStore store,
    ReleaseCompletion completion,
    IOptions<BuildOptions> options,
    TimeProvider time,
    ILogger<BuildPartJob> logger)
{
    [AutomaticRetry(Attempts = BuildJob.MaxAttempts - 1, DelaysInSeconds = [10, 60])]
    [JobDisplayName("Build part {0}")]
    public async Task RunAsync(long partId, CancellationToken cancellationToken)
    {
        var part = await db.BuildParts.SingleOrDefaultAsync(p => p.Id == partId, cancellationToken);
        var build = part is null ? null : await db.Builds.Include(b => b.Repository).SingleOrDefaultAsync(b => b.Id == part.BuildId, cancellationToken);
        if (part is null || build is null || build.IsFinished || part.State is BuildState.Succeeded or BuildState.Failed)
        {
            LogNothingToDo(logger, partId);
            return;
        }

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["BuildId"] = build.Id, ["PartId"] = partId });
        part.State = BuildState.Running;
        part.StartedAt = time.GetUtcNow();
        part.Attempts++;
        part.Error = null;
        await db.BuildTargets.Where(t => t.BuildId == build.Id && t.PartId == partId).ExecuteDeleteAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);

        var work = options.Value.NewWorkDirectory(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{build.Id}-part-{partId}"));
        await using var log = new DbBuildLog(contexts, build.Id);
        var prefix = $"[{part.Architecture} part {partId}]";
        try
        {
            log.WriteLine($"{prefix} started on {options.Value.WorkerName}, attempt {part.Attempts}");
            var failure = await BuildAsync(build, part, work, log, cancellationToken);
            if (failure is not null)
            {
                log.WriteLine($"[builder] FAILED: {failure}");
                await completion.FailAsync(build, failure);
                return;
            }

            log.WriteLine($"{prefix} done: {string.Join(", ", part.FileList)}");
            if (await completion.TryPublishAsync(build, work, cancellationToken) is { } published)
            {
                log.WriteLine($"[builder] published {build.Project} {build.Version}: {string.Join(", ", published)}");
                LogSucceeded(logger, build.Id, build.Project!, build.Version!);
            }
        }
        catch (Exception ex) when (ex is BuildStepException or PublishConflictException)
        {
            log.WriteLine($"[builder] FAILED: {ex.Message}");
            await MarkPartAsync(part, BuildState.Failed, ex.Message);
            await completion.FailAsync(build, ex.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (await completion.IsCancelledAsync(build.Id))
            {
                // The tag was deleted: the containers are gone (the runner removes them on cancellation); nothing more to do.
                log.WriteLine($"{prefix} cancelled: the tag was deleted");
                await MarkPartAsync(part, BuildState.Cancelled, "cancelled: the tag was deleted");
                return;
            }

            // The worker is stopping (or the release failed in another part): Hangfire runs the part again if it still matters.
            log.WriteLine($"{prefix} interrupted: the worker is stopping");
            throw;
        }
        catch (Exception ex) when (part.Attempts >= BuildJob.MaxAttempts)
        {
            LogFault(logger, ex, build.Id, partId, part.Attempts);
            var message = $"{part.Architecture}: internal error after {part.Attempts} attempts: {ex.GetType().Name}: {ex.Message}";
            log.WriteLine($"[builder] FAILED: {message}");
            await MarkPartAsync(part, BuildState.Failed, message);
            await completion.FailAsync(build, message);
        }
        catch (Exception ex)
        {
            LogFault(logger, ex, build.Id, partId, part.Attempts);
            log.WriteLine($"{prefix} attempt {part.Attempts} failed with an internal error ({ex.GetType().Name}: {ex.Message}); it will be retried");
            throw;
        }
        finally
        {
            BuildJob.TryDelete(work);
        }
    }

    /// <summary>Builds the part; stages its files and marks it succeeded, or marks it failed and returns the reason.</summary>
    private async Task<string?> BuildAsync(Build build, BuildPart part, string work, DbBuildLog log, CancellationToken cancellationToken)
    {
        var source = Path.Combine(work, "src");
        var checkout = await sources.FetchAsync(new SourceRequest(build.Repository!.CloneUrl, build.Tag, build.CommitSha, secrets.Credentials(build.Repository)), source, log, cancellationToken);
        if (build.ResolvedCommit is { } planned && checkout.CommitSha != planned)
        {
            throw new BuildStepException($"tag '{build.Tag}' moved from {planned} to {checkout.CommitSha} while the release was building; tag again to build the new commit");
        }

        // The project's settings come from the same pyproject.toml the plan read; the identifiers are the part's.
        var plan = BuildMatrix.Plan(await BuildJob.ReadPyprojectAsync(source, cancellationToken), options.Value);
        var request = new WheelBuildRequest(build.Id, part.Architecture, source, Path.Combine(work, "out"), part.IncludeSdist)
        {
            Identifiers = part.IdentifierList,
            Project = plan.Project,
        };
        var result = await wheels.BuildAsync(request, log, cancellationToken);
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
            var error = result.Error ?? $"{part.Architecture}: the build failed";
            await MarkPartAsync(part, BuildState.Failed, error);
            return error;
        }

        var staged = new List<string>();
        foreach (var path in result.Files)
        {
            var name = Path.GetFileName(path);
            var key = part.StagingKey(name);
            // A part run again may have built other bytes (builds are not always reproducible): the newest run's file wins.
            await store.DeleteAsync(key, cancellationToken);
            await store.PutAsync(key, path, await FileHash.Sha256Async(path, cancellationToken), cancellationToken);
            staged.Add(name);
        }

        part.Files = string.Join(' ', staged);
        await MarkPartAsync(part, BuildState.Succeeded, null);
        return null;
    }

    private async Task MarkPartAsync(BuildPart part, BuildState state, string? error)
    {
        part.State = state;
        part.Error = error;
        part.FinishedAt = time.GetUtcNow();
        await db.SaveChangesAsync(CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Build part {PartId}: its row is gone or its build is finished; nothing to do")]
    private static partial void LogNothingToDo(ILogger logger, long partId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} published {Project} {Version}")]
    private static partial void LogSucceeded(ILogger logger, long buildId, string project, string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Build {BuildId} part {PartId} attempt {Attempt} failed with a fault")]
    private static partial void LogFault(ILogger logger, Exception exception, long buildId, long partId, int attempt);
}
