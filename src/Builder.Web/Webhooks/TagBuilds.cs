using Builder.Core.Builds;
using Builder.Core.Forges;
using Builder.Data;
using Builder.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Webhooks;

/// <summary>A tag's build: the one it made (<see cref="Created"/>) or the one that already builds that tag and commit.</summary>
internal sealed record TagBuild(long BuildId, bool Created)
{
    /// <summary>What the delivery (or manual trigger) that asked did: <see cref="WebhookOutcomes.Built"/> or <see cref="WebhookOutcomes.Duplicate"/>.</summary>
    public string Outcome => Created ? WebhookOutcomes.Built : WebhookOutcomes.Duplicate;

    /// <summary>The delivery record's sentence for it.</summary>
    public string Detail => Created ? $"queued build {BuildId}" : $"duplicate of build {BuildId}";
}

/// <summary>
/// The one way a tag becomes a build, whatever asked (a push, a create or release event, a redelivery, the manual
/// trigger): one build per (repository, tag, commit). A tag known without its commit is resolved on the repository
/// (git ls-remote with its credentials) to the peeled commit, so a create and a push of one tag find each other.
/// </summary>
internal sealed class TagBuilds(
    BuilderDbContext db, ReleaseLifecycle lifecycle, ITagResolver tags, IRepositorySecrets secrets, ICloneCredentialSource credentials, RepositoryAddresses addresses)
{
    /// <summary>The commit a tag points to on the repository now; null when the repository has no such tag.</summary>
    /// <exception cref="BuildStepException">The repository cannot be read (a refused address, authentication, network); the message says why.</exception>
    public async Task<ResolvedTag?> ResolveAsync(SourceRepository repository, string tag, CancellationToken cancellationToken)
    {
        await addresses.EnsureGitMayReachAsync(repository, cancellationToken);
        var clone = await credentials.ForGitAsync(secrets, repository, cancellationToken);
        return await tags.ResolveAsync(repository.CloneUrl, tag, clone, cancellationToken);
    }

    public async Task<TagBuild> QueueAsync(SourceRepository repository, string tag, string commitSha, string? deliveryId, CancellationToken cancellationToken)
    {
        if (await FindAsync(repository.Id, tag, commitSha, cancellationToken) is { } existing)
        {
            return new TagBuild(existing, false);
        }

        try
        {
            var build = await lifecycle.QueueAsync(new Build
            {
                RepositoryId = repository.Id,
                Tag = tag,
                CommitSha = commitSha,
                DeliveryId = deliveryId,
            }, cancellationToken);
            return new TagBuild(build.Id, true);
        }
        catch (DbUpdateException)
        {
            // The same tag arrived twice at once: the unique index let one insert through; answer with that build.
            return await FindAsync(repository.Id, tag, commitSha, CancellationToken.None) is { } raced
                ? new TagBuild(raced, false)
                : throw new InvalidOperationException($"queueing {repository.Name} {tag} at {commitSha} failed, and no build of it exists");
        }
    }

    /// <summary>The newest build of a tag and commit (a redelivery after "build again" answers with the newest generation).</summary>
    private async Task<long?> FindAsync(long repositoryId, string tag, string sha, CancellationToken cancellationToken) =>
        await db.Builds.AsNoTracking().Where(b => b.RepositoryId == repositoryId && b.Tag == tag && b.CommitSha == sha)
            .OrderByDescending(b => b.Generation).Select(b => (long?)b.Id).FirstOrDefaultAsync(cancellationToken);
}
