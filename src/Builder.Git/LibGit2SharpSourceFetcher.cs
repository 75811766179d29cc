using Builder.Core.Builds;
using LibGit2Sharp;

namespace Builder.Git;

/// <summary>Clones with LibGit2Sharp and checks out the commit a tag points to.</summary>
public sealed class LibGit2SharpSourceFetcher : ISourceFetcher
{
    public Task<SourceCheckout> FetchAsync(SourceRequest request, string directory, IBuildLog log, CancellationToken cancellationToken)
    {
        // LibGit2Sharp is synchronous; run it off the request thread and honour cancellation between transfer callbacks.
        return Task.Run(() =>
        {
            try
            {
                return Fetch(request, directory, log, cancellationToken);
            }
            catch (LibGit2SharpException ex) when (!cancellationToken.IsCancellationRequested)
            {
                // Unreachable host, bad credentials, missing repository: the build's owner can act on these.
                throw new BuildStepException($"git: cloning {Redact(request.CloneUrl)} failed: {Describe(ex)}", ex);
            }
        }, cancellationToken);
    }

    private static SourceCheckout Fetch(SourceRequest request, string directory, IBuildLog log, CancellationToken cancellationToken)
    {
        log.WriteLine($"[git] cloning {Redact(request.CloneUrl)}");
        var options = new CloneOptions { Checkout = false };
        options.FetchOptions.OnTransferProgress = _ => !cancellationToken.IsCancellationRequested;
        if (request.Credentials is { } credentials)
        {
            // Asked for only when the host answers 401; the token never becomes part of a URL that could be logged.
            options.FetchOptions.CredentialsProvider = (_, _, _) => new UsernamePasswordCredentials { Username = credentials.Username, Password = credentials.Token };
        }

        // Clone with BranchName = tag fails ("refs/remotes/origin/<tag> not found"): clone, then check out the peeled tag.
        Repository.Clone(request.CloneUrl, directory, options);
        cancellationToken.ThrowIfCancellationRequested();

        using var repo = new Repository(directory);
        var tag = repo.Tags[request.Tag]
            ?? throw new BuildStepException($"tag '{request.Tag}' does not exist in {Redact(request.CloneUrl)} (deleted or not pushed?)");
        // For an annotated tag GitHub delivers the tag object's SHA; Tag.Target is already the commit there.
        var tagTarget = tag.IsAnnotated ? tag.Annotation.Sha : tag.Target.Sha;
        if (tag.PeeledTarget is not Commit commit)
        {
            throw new BuildStepException($"tag '{request.Tag}' points to a {tag.PeeledTarget.GetType().Name}, not a commit");
        }

        // The webhook names the tag object (annotated tags) or the commit (lightweight tags); anything else means the tag moved.
        if (!string.Equals(request.DeliveredSha, tagTarget, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(request.DeliveredSha, commit.Sha, StringComparison.OrdinalIgnoreCase))
        {
            throw new BuildStepException(
                $"tag '{request.Tag}' now points to {commit.Sha}, but the push delivered {request.DeliveredSha}: the tag was moved; push the tag again to build it");
        }

        Commands.Checkout(repo, commit, new CheckoutOptions { CheckoutModifiers = CheckoutModifiers.Force });
        log.WriteLine($"[git] checked out {request.Tag} at {commit.Sha}");
        return new SourceCheckout(commit.Sha);
    }

    /// <summary>
    /// libgit2's message, with "authentication failed" said plainly when the host refused the credentials (libgit2
    /// reports a 401 after credentials as "too many redirects or authentication replays").
    /// </summary>
    internal static string Describe(LibGit2SharpException ex) =>
        ex.Message.Contains("authentication replays", StringComparison.OrdinalIgnoreCase)
        || ex.Message.Contains("401", StringComparison.Ordinal)
        || ex.Message.Contains("authentication required", StringComparison.OrdinalIgnoreCase)
            ? $"authentication failed: the host refused the repository's credentials (or none were set) ({ex.Message})"
            : ex.Message;

    /// <summary>Keeps credentials embedded in a clone URL out of logs.</summary>
    internal static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.UserInfo)
            ? url.Replace(uri.UserInfo + "@", "***@", StringComparison.Ordinal)
            : url;
}


