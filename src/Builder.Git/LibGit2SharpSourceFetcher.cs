using Builder.Core.Builds;
using LibGit2Sharp;
using LibGit2Sharp.Handlers;

namespace Builder.Git;

/// <summary>
/// Clones with LibGit2Sharp and checks out the commit a tag points to. Bundles are made and read with the git command
/// (libgit2 has no bundle support); a host without it builds every part from the forge.
/// </summary>
public sealed partial class LibGit2SharpSourceFetcher : ISourceFetcher
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
                throw new BuildStepException($"git: cloning {Redact(request.CloneUrl)} failed: {Describe(ex, request.CloneUrl)}", ex);
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
            options.FetchOptions.CredentialsProvider = Once(credentials);
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

    public async Task BundleAsync(string checkout, string tag, string bundlePath, CancellationToken cancellationToken)
    {
        // The tag's ref alone: its object (an annotated tag), its commit and all the history before it, which tools that
        // version from git (setuptools-scm, hatch-vcs, versioneer) read; no other branch or tag.
        await GitCommand.RunAsync(["-C", checkout, "bundle", "create", Path.GetFullPath(bundlePath), $"refs/tags/{tag}"], cancellationToken);
    }

    public async Task<SourceCheckout> FetchBundleAsync(string bundlePath, string tag, string commitSha, string directory, IBuildLog log, CancellationToken cancellationToken)
    {
        await GitCommand.RunAsync(["init", "--quiet", directory], cancellationToken);
        await GitCommand.RunAsync(["-C", directory, "fetch", "--quiet", "--no-tags", Path.GetFullPath(bundlePath), $"refs/tags/{tag}:refs/tags/{tag}"], cancellationToken);
        return await Task.Run(() =>
        {
            using var repo = new Repository(directory);
            if (repo.Tags[tag]?.PeeledTarget is not Commit commit || !string.Equals(commit.Sha, commitSha, StringComparison.OrdinalIgnoreCase))
            {
                throw new SourceBundleException($"the source bundle's tag '{tag}' does not point at the planned commit {commitSha}");
            }

            Commands.Checkout(repo, commit, new CheckoutOptions { CheckoutModifiers = CheckoutModifiers.Force });
            log.WriteLine($"[git] checked out {tag} at {commit.Sha} from the build's source bundle (not cloned again)");
            return new SourceCheckout(commit.Sha);
        }, cancellationToken);
    }

    /// <summary>
    /// The credentials for one operation, given once. libgit2 asks again after each 401 to them and gives up only after
    /// 15 tries ("too many redirects or authentication replays") — 14 refused logins at the host, enough to trip its
    /// lockout. Asked a second time, the host refused them: fail the operation with that said.
    /// </summary>
    internal static CredentialsHandler Once(CloneCredentials credentials)
    {
        var asked = 0;
        return (_, _, _) => Interlocked.Increment(ref asked) == 1
            ? new UsernamePasswordCredentials { Username = credentials.Username, Password = credentials.Token }
            : throw new LibGit2SharpException(CredentialsRefused);
    }

    private const string CredentialsRefused =
        "authentication failed: the host refused the repository's credentials (wrong or expired token, or no access to the repository)";

    /// <summary>
    /// What went wrong, in libgit2's words only where they cannot carry the host's: "authentication failed" said plainly
    /// when the host wanted credentials (HTTP 401; LibGit2Sharp 0.32 says "remote authentication required but no callback
    /// set" when none were given, and, had they been given more than once, "too many redirects or authentication
    /// replays"; <see cref="Once"/> says its own), the HTTP status, a connection or name that failed, TLS. Whatever else
    /// a remote host answered — an ERR line of git's protocol ("remote error: ..."), the content type of a page that is
    /// not git's, any message Builder does not know — is named by its kind only: the clone URL may name an internal
    /// host, and its answer must not reach the build's log, a build's error or an API answer. A file:// repository's
    /// messages are the server's own disk speaking, and kept.
    /// </summary>
    internal static string Describe(LibGit2SharpException ex, string url)
    {
        var message = ex.Message.Trim();
        if (url.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return message;
        }

        return message switch
        {
            var m when m.StartsWith("authentication failed", StringComparison.Ordinal) => m,
            var m when m.Contains("authentication required", StringComparison.OrdinalIgnoreCase)
                => $"authentication failed: the host wants credentials and the repository has none ({m})",
            var m when m.Contains("authentication replays", StringComparison.OrdinalIgnoreCase) || m.Contains("status code: 401", StringComparison.Ordinal)
                => $"authentication failed: the host refused the repository's credentials ({m})",
            var m when HttpStatus().IsMatch(m) => m,
            var m when m.StartsWith("failed to resolve address for ", StringComparison.Ordinal) => "the host name could not be resolved",
            var m when m.StartsWith("failed to connect to ", StringComparison.Ordinal) => "could not connect to the host" + OsReason(m),
            var m when m.Contains("timed out", StringComparison.OrdinalIgnoreCase) => "the host did not answer in time",
            var m when m.StartsWith("SSL error", StringComparison.Ordinal) || m.Contains("certificate", StringComparison.OrdinalIgnoreCase)
                => "the TLS connection to the host failed (an untrusted certificate, or a host that does not speak TLS there)",
            var m when m.StartsWith("too many redirects", StringComparison.Ordinal) => "the host redirected too many times",
            var m when m.StartsWith("remote error:", StringComparison.Ordinal)
                => "the host refused with a message of its own (not shown: it could be an internal host's answer)",
            var m when m.StartsWith("invalid content-type", StringComparison.Ordinal)
                => "the host answered with a page that is not git's smart HTTP protocol (not shown: it could be an internal host's answer)",
            _ => "the host's answer could not be read as git's (libgit2's message is not shown: it could quote an internal host's answer)",
        };
    }

    /// <summary>The operating system's reason at the end of "failed to connect to HOST: Connection refused", when it is plain words.</summary>
    private static string OsReason(string message)
    {
        var colon = message.LastIndexOf(": ", StringComparison.Ordinal);
        var reason = colon < 0 ? string.Empty : message[(colon + 2)..];
        return reason.Length is > 0 and <= 60 && reason.All(c => char.IsAsciiLetter(c) || c == ' ') ? $" ({reason})" : string.Empty;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^unexpected http status code: \d{3}$")]
    private static partial System.Text.RegularExpressions.Regex HttpStatus();

    /// <summary>Keeps credentials embedded in a clone URL out of logs.</summary>
    internal static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.UserInfo)
            ? url.Replace(uri.UserInfo + "@", "***@", StringComparison.Ordinal)
            : url;
}


