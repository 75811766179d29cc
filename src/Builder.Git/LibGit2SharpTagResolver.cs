using Builder.Core.Builds;
using Builder.Core.Forges;
using LibGit2Sharp;

namespace Builder.Git;

/// <summary>Resolves a tag on a remote without cloning it (git ls-remote), with the repository's credentials.</summary>
public sealed class LibGit2SharpTagResolver : ITagResolver
{
    public Task<ResolvedTag?> ResolveAsync(string cloneUrl, string tag, CloneCredentials? credentials, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            IEnumerable<Reference> references;
            try
            {
                references = Repository.ListRemoteReferences(cloneUrl, credentials is null ? null : LibGit2SharpSourceFetcher.Once(credentials)).ToList();
            }
            catch (LibGit2SharpException ex)
            {
                throw new BuildStepException($"git: listing the tags of {LibGit2SharpSourceFetcher.Redact(cloneUrl)} failed: {LibGit2SharpSourceFetcher.Describe(ex, cloneUrl)}", ex);
            }

            // ls-remote lists an annotated tag twice: refs/tags/v1 (the tag object) and refs/tags/v1^{} (its commit).
            var name = "refs/tags/" + tag;
            var direct = references.FirstOrDefault(r => r.CanonicalName == name);
            if (direct is null)
            {
                return null;
            }

            var peeled = references.FirstOrDefault(r => r.CanonicalName == name + "^{}");
            var objectSha = direct.TargetIdentifier;
            return new ResolvedTag(tag, objectSha, peeled?.TargetIdentifier ?? objectSha);
        }, cancellationToken);
}
