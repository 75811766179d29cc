using Builder.Core.Builds;
using Builder.Core.Forges;

namespace Builder.Pipeline;

/// <summary>
/// Checks out a build's tag: the one place that turns a repository's stored credentials into what git clones with
/// (a token as it is; a GitHub App's as a fresh installation token) for the plan and every part.
/// </summary>
public sealed class BuildSource(ISourceFetcher sources, IRepositorySecrets secrets, ICloneCredentialSource credentials)
{
    public async Task<SourceCheckout> FetchAsync(Build build, string directory, IBuildLog log, CancellationToken cancellationToken)
    {
        var repository = build.Repository ?? throw new InvalidOperationException($"build {build.Id} was loaded without its repository");
        var clone = await credentials.ForGitAsync(secrets, repository, cancellationToken);
        return await sources.FetchAsync(new SourceRequest(repository.CloneUrl, build.Tag, build.CommitSha, clone), directory, log, cancellationToken);
    }
}
