using Builder.Core.Builds;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Builder.Pipeline;

/// <summary>
/// Ends a release built in parts. The release is all or nothing: the part that finds every part succeeded publishes
/// the staged files together (two finishing at once both publish the same files, which is success); the first part to
/// fail fails the release, cancels the parts still running and drops what was staged.
/// </summary>
public sealed partial class ReleaseCompletion(
    IDbContextFactory<BuilderDbContext> contexts,
    IArtifactStore store,
    IBuildDispatcher dispatcher,
    ReleasePublisher publisher,
    TimeProvider time,
    ILogger<ReleaseCompletion> logger)
{
    /// <summary>Whether the build was cancelled (its tag deleted), read fresh from the database.</summary>
    public async Task<bool> IsCancelledAsync(long buildId)
    {
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        return await db.Builds.AnyAsync(b => b.Id == buildId && b.State == BuildState.Cancelled, CancellationToken.None);
    }

    /// <summary>Records the build's failure (unless it is already finished) and stops the rest of its parts.</summary>
    public async Task FailAsync(Build build, string message)
    {
        // The failure must be recorded even if the job's token fires now.
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        var now = time.GetUtcNow();
        var updated = await db.Builds.Where(b => b.Id == build.Id && b.State != BuildState.Succeeded && b.State != BuildState.Failed && b.State != BuildState.Cancelled)
            .ExecuteUpdateAsync(u => u.SetProperty(b => b.State, BuildState.Failed).SetProperty(b => b.Error, message).SetProperty(b => b.FinishedAt, now), CancellationToken.None);
        if (updated == 0)
        {
            // Already finished (published, failed by another part, or cancelled): that state stands.
            return;
        }

        build.State = BuildState.Failed;
        build.Error = message;
        build.FinishedAt = now;
        LogFailed(logger, build.Id, message);
        var parts = await db.BuildParts.AsNoTracking().Where(p => p.BuildId == build.Id).ToListAsync(CancellationToken.None);
        foreach (var part in parts.Where(p => p.State is BuildState.Queued or BuildState.Running && p.JobId is not null))
        {
            dispatcher.Cancel(part.JobId!);
        }

        await DropStagedAsync(parts, CancellationToken.None);
    }

    /// <summary>
    /// Publishes the release when every part of it succeeded; otherwise leaves it to the part still running. Returns
    /// the published file names, or null when it was not this part's turn.
    /// </summary>
    public async Task<IReadOnlyList<string>?> TryPublishAsync(Build build, string work, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var parts = await db.BuildParts.AsNoTracking().Where(p => p.BuildId == build.Id).OrderBy(p => p.Id).ToListAsync(cancellationToken);
        var state = await db.Builds.Where(b => b.Id == build.Id).Select(b => b.State).SingleAsync(cancellationToken);
        if (state != BuildState.Running || parts.Count == 0 || parts.Any(p => p.State != BuildState.Succeeded))
        {
            return null;
        }

        // A pure project split into parts built its one py3-none-any wheel in each: the first part's copy is published.
        var staged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            foreach (var name in part.FileList.Where(n => !staged.ContainsKey(n)))
            {
                staged[name] = part.StagingKey(name);
            }
        }

        var directory = Path.Combine(work, "release");
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        foreach (var (name, key) in staged)
        {
            var path = Path.Combine(directory, name);
            var content = await store.OpenReadAsync(key, cancellationToken)
                ?? throw new InvalidOperationException($"staged file {key} is missing from the artifact store");
            await using (content.Stream)
            await using (var file = File.Create(path))
            {
                await content.Stream.CopyToAsync(file, cancellationToken);
            }

            paths.Add(path);
        }

        var files = await ReleasePublisher.CheckAsync(build.Tag, build.Version!, paths, cancellationToken);
        await publisher.PublishAsync(files, build, cancellationToken);
        await DropStagedAsync(parts, CancellationToken.None);
        return files.Select(f => f.Name.Filename).ToList();
    }

    /// <summary>Removes the files the parts staged (absent ones are fine).</summary>
    public async Task DropStagedAsync(IEnumerable<BuildPart> parts, CancellationToken cancellationToken)
    {
        foreach (var part in parts)
        {
            foreach (var name in part.FileList)
            {
                await store.DeleteAsync(part.StagingKey(name), cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, long buildId, string reason);
}
