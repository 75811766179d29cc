using Builder.Core.Builds;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Webhooks;

/// <summary>
/// Cancels the unfinished builds of a deleted tag: each is recorded Cancelled first (so no part publishes it and a
/// plan job still cloning stops), then the jobs of its parts are deleted, which fires their cancellation tokens and
/// stops their containers.
/// </summary>
internal static class BuildCancellation
{
    public static async Task<IReadOnlyList<long>> CancelTagAsync(
        BuilderDbContext db, IBuildDispatcher dispatcher, TimeProvider time, long repositoryId, string tag, CancellationToken cancellationToken)
    {
        var builds = await db.Builds.Include(b => b.Parts)
            .Where(b => b.RepositoryId == repositoryId && b.Tag == tag && (b.State == BuildState.Queued || b.State == BuildState.Running))
            .ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        foreach (var build in builds)
        {
            build.State = BuildState.Cancelled;
            build.Error = $"cancelled: tag '{tag}' was deleted";
            build.FinishedAt = now;
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var part in builds.SelectMany(b => b.Parts).Where(p => p.JobId is not null && p.State is BuildState.Queued or BuildState.Running))
        {
            dispatcher.Cancel(part.JobId!);
        }

        return builds.Select(b => b.Id).ToList();
    }
}
