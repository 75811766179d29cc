using System.Globalization;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Builder.Core.Packaging;
using Builder.Index;

namespace Builder.Pipeline;

/// <summary>
/// A build's source: cloned from the forge once, by the plan (the one place that turns a repository's stored
/// credentials into what git clones with: a token as it is; a GitHub App's as a fresh installation token), and kept as a
/// git bundle beside the build's staged files, from which every part starts, on any worker host. A part clones from the
/// forge only when there is no bundle (the plan's host has no git command) or it cannot be used, and says why in the log.
/// </summary>
public sealed class BuildSource(ISourceFetcher sources, IRepositorySecrets secrets, ICloneCredentialSource credentials, RepositoryAddresses addresses, PackageArtifacts artifacts)
{
    private const string BundleName = "source.bundle";

    /// <summary>Clones the build's tag from its forge into <paramref name="directory"/>, if its addresses may be reached now.</summary>
    public async Task<SourceCheckout> FetchAsync(Build build, string directory, IBuildLog log, CancellationToken cancellationToken)
    {
        var repository = build.Repository ?? throw new InvalidOperationException($"build {build.Id} was loaded without its repository");
        await addresses.EnsureGitMayReachAsync(repository, cancellationToken);
        var clone = await credentials.ForGitAsync(secrets, repository, cancellationToken);
        return await sources.FetchAsync(new SourceRequest(repository.CloneUrl, build.Tag, build.CommitSha, clone), directory, log, cancellationToken);
    }

    /// <summary>
    /// Bundles the plan's checkout of the tag (in <paramref name="work"/>) and stages it for the parts; its sha256, or null
    /// (said in the log) when this host cannot make one.
    /// </summary>
    public async Task<string?> StageBundleAsync(Build build, string checkout, string work, IBuildLog log, CancellationToken cancellationToken)
    {
        var path = Path.Combine(work, BundleName);
        try
        {
            await sources.BundleAsync(checkout, build.Tag, path, cancellationToken);
        }
        catch (SourceBundleException ex)
        {
            log.WriteLine($"[git] no source bundle ({ex.Message}): each part clones from the forge");
            return null;
        }

        var sha256 = await FileHash.Sha256Async(path, cancellationToken);
        await artifacts.StageSourceBundleAsync(build.Id, path, sha256, cancellationToken);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[git] source bundle of {build.Tag} staged for the parts ({new FileInfo(path).Length} bytes, sha256 {sha256})"));
        File.Delete(path);
        return sha256;
    }

    /// <summary>
    /// A part's checkout of the planned commit: from the build's source bundle when it has one, else (or when the bundle is
    /// gone or unusable, which the log says) from the forge.
    /// </summary>
    public async Task<SourceCheckout> FetchForPartAsync(Build build, string directory, string work, IBuildLog log, CancellationToken cancellationToken)
    {
        if (build.SourceBundleSha256 is { } sha256 && build.ResolvedCommit is { } commit)
        {
            Directory.CreateDirectory(work);
            var path = Path.Combine(work, BundleName);
            try
            {
                await DownloadBundleAsync(build.Id, sha256, path, cancellationToken);
                return await sources.FetchBundleAsync(path, build.Tag, commit, directory, log, cancellationToken);
            }
            catch (SourceBundleException ex)
            {
                log.WriteLine($"[git] the build's source bundle cannot be used ({ex.Message}); cloning from the forge");
                BuildJob.TryDelete(directory);
            }
            finally
            {
                File.Delete(path);
            }
        }

        return await FetchAsync(build, directory, log, cancellationToken);
    }

    private async Task DownloadBundleAsync(long buildId, string sha256, string path, CancellationToken cancellationToken)
    {
        var content = await artifacts.OpenSourceBundleAsync(buildId, sha256, cancellationToken)
            ?? throw new SourceBundleException($"it is missing from the artifact store (sha256 {sha256})");
        string actual;
        await using (content.Stream)
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true))
        {
            actual = await FileHash.CopyAsync(content.Stream, file, cancellationToken);
        }

        if (actual != sha256)
        {
            throw new SourceBundleException($"its bytes have sha256 {actual}, not the {sha256} the plan recorded");
        }
    }
}
