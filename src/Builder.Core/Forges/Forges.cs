using Builder.Core.Builds;

namespace Builder.Core.Forges;

/// <summary>The forges Builder receives tags from and reports back to (a repository's <c>provider</c>).</summary>
public static class ForgeProviders
{
    public const string GitHub = "github";
    public const string GitLab = "gitlab";
    public const string Gitea = "gitea";

    public static readonly IReadOnlyList<string> All = [GitHub, GitLab, Gitea];

    public static bool IsKnown(string? provider) => provider is GitHub or GitLab or Gitea;
}

/// <summary>
/// How Builder authenticates to a repository's forge (git clone and API calls): a token with a user name
/// (<see cref="CloneCredentials"/>: a GitHub fine-grained token, a GitLab project or deploy token; the token is git's
/// password and the API's token), or a GitHub App whose installation token is minted per build.
/// </summary>
public abstract record RepositoryCredentials;

/// <summary>
/// A GitHub App: its id and PEM private key sign a JWT that buys an installation token (an hour long) for
/// <see cref="InstallationId"/>; null: the installation that the latest webhook delivery named.
/// </summary>
public sealed record GitHubAppCredentials(long AppId, long? InstallationId, string PrivateKeyPem) : RepositoryCredentials
{
    /// <summary>Never the private key.</summary>
    public override string ToString() => $"GitHubAppCredentials {{ AppId = {AppId}, InstallationId = {InstallationId}, PrivateKeyPem = *** }}";
}

/// <summary>A repository as a forge client needs it: where its API is and how to authenticate there.</summary>
/// <param name="Name">The repository's full name on the forge ("acme/billing", a GitLab "group/sub/project").</param>
/// <param name="ApiUrl">The API base: https://api.github.com/, https://ghe.example/api/v3/, https://gitlab.example/api/v4/.</param>
/// <param name="InstallationId">The GitHub App installation the latest webhook delivery named, used when the credentials name none.</param>
public sealed record ForgeRepository(string Provider, string Name, Uri ApiUrl, RepositoryCredentials? Credentials, long? InstallationId = null);

/// <summary>A build's state as a forge shows it on a commit.</summary>
public enum CommitState
{
    Pending,
    Running,
    Success,
    Failure,
    Cancelled,
}

/// <param name="Context">The status's name on the forge (<c>builder/wheels</c>): a later status with the same name replaces it.</param>
/// <param name="Description">At most 140 characters (GitHub refuses longer ones with 422).</param>
public sealed record CommitStatus(string Sha, CommitState State, string Context, string Description, Uri? TargetUrl);

/// <summary>The one owner of what a commit status's description may be, for the reporter and every forge client.</summary>
public static class ForgeText
{
    /// <summary>GitHub's limit for a status description (it refuses longer ones with 422); the same text reads the same on every forge.</summary>
    public const int DescriptionLimit = 140;

    /// <summary>At most <paramref name="limit"/> characters, ending with '…' when cut.</summary>
    public static string Truncate(string text, int limit = DescriptionLimit) =>
        text.Length <= limit ? text : string.Concat(text.AsSpan(0, limit - 1), "…");

    /// <summary>A status description: one line, at most <see cref="DescriptionLimit"/> characters.</summary>
    public static string Description(string text) =>
        Truncate(string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim());

    /// <summary>
    /// The description for a forge that has no "running" state (GitHub, Gitea show a running build as pending): it
    /// says that the build runs, at most <see cref="DescriptionLimit"/> characters.
    /// </summary>
    public static string DescriptionWhereRunningIsPending(CommitStatus status) =>
        Truncate(status.State == CommitState.Running && !status.Description.Contains("running", StringComparison.OrdinalIgnoreCase)
            ? "Running: " + status.Description
            : status.Description);
}

/// <summary>A built file to attach to the forge's release of a tag.</summary>
/// <param name="DownloadUrl">Where Builder serves the file (GitLab release links point there).</param>
public sealed record ReleaseFile(string Name, long Size, string Sha256, Uri DownloadUrl, Func<CancellationToken, Task<Stream>> OpenAsync);

/// <summary>
/// What a call to a forge came to. <see cref="Retryable"/>: worth trying again later (network, 5xx, rate limit; then
/// <see cref="RetryAfter"/> when the forge said how long). Not retryable: the forge refused for good (401, 404, 422).
/// <see cref="Message"/> is for the build's record: the HTTP status and the forge's own message, never a secret.
/// </summary>
public sealed record ForgeCallResult(bool Succeeded, bool Retryable, string Message, TimeSpan? RetryAfter = null)
{
    public static ForgeCallResult Ok(string message) => new(true, false, message);

    public static ForgeCallResult Refused(string message) => new(false, false, message);

    public static ForgeCallResult Later(string message, TimeSpan? retryAfter = null) => new(false, true, message, retryAfter);
}

/// <summary>One forge's API, as Builder uses it to report back. Implementations never throw for HTTP answers: they return the result.</summary>
public interface IForgeClient
{
    /// <summary>The <see cref="ForgeProviders"/> value this client serves.</summary>
    string Provider { get; }

    Task<ForgeCallResult> SetCommitStatusAsync(ForgeRepository repository, CommitStatus status, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the forge's release of <paramref name="tag"/> carry <paramref name="files"/> (creating the release when
    /// missing), idempotently: a file already attached whole is left alone, a half-uploaded one is removed and sent again.
    /// </summary>
    Task<ForgeCallResult> AttachReleaseFilesAsync(ForgeRepository repository, string tag, IReadOnlyList<ReleaseFile> files, CancellationToken cancellationToken);
}

/// <summary>Turns a repository's stored credentials into what git clones with (a GitHub App's: a fresh installation token).</summary>
public interface ICloneCredentialSource
{
    Task<CloneCredentials?> ForCloneAsync(ForgeRepository repository, CancellationToken cancellationToken);
}

public static class CloneCredentialSourceExtensions
{
    /// <summary>
    /// What git reads <paramref name="repository"/> with (a clone, an ls-remote); a <see cref="BuildStepException"/>
    /// naming the repository when the forge would not give credentials, so the build or the request says why.
    /// </summary>
    public static async Task<CloneCredentials?> ForGitAsync(
        this ICloneCredentialSource source, IRepositorySecrets secrets, SourceRepository repository, CancellationToken cancellationToken)
    {
        try
        {
            return await source.ForCloneAsync(secrets.Forge(repository), cancellationToken);
        }
        catch (ForgeCredentialsException ex)
        {
            throw new BuildStepException($"git: no credentials to read {repository.Name}: {ex.Message}", ex);
        }
    }
}

/// <summary>Mints GitHub App installation tokens (cached until shortly before they expire).</summary>
public interface IGitHubAppTokens
{
    Task<CloneCredentials> InstallationTokenAsync(Uri apiUrl, GitHubAppCredentials app, long installationId, CancellationToken cancellationToken);
}

/// <summary>Lists a remote repository's tags (the manual trigger: "build this tag" without a webhook).</summary>
public interface ITagResolver
{
    /// <summary>The commit the tag points to (peeled), and the tag's own object id (the tag object for an annotated tag); null when the tag does not exist.</summary>
    /// <exception cref="BuildStepException">The repository cannot be read (authentication failed, not found, unreachable).</exception>
    Task<ResolvedTag?> ResolveAsync(string cloneUrl, string tag, CloneCredentials? credentials, CancellationToken cancellationToken);
}

public sealed record ResolvedTag(string Tag, string ObjectSha, string CommitSha);

/// <summary>The forge would not give Builder credentials (a GitHub App's key refused, no installation known); the message names why, never a secret.</summary>
public sealed class ForgeCredentialsException(string message, Exception? inner = null) : Exception(message, inner);
