using Builder.Core.Builds;
using Builder.Core.Forges;
using Microsoft.Extensions.Logging;
using Octokit;
using CommitState = Builder.Core.Forges.CommitState;
using CommitStatus = Builder.Core.Forges.CommitStatus;
using GitHubState = Octokit.CommitState;

namespace Builder.Forges;

/// <summary>
/// Reports to GitHub (github.com or an Enterprise Server) through Octokit: commit statuses, and a tag's release with
/// the built files as assets. Authenticates with a token, or with a GitHub App's installation token.
/// </summary>
public sealed partial class GitHubForgeClient(IGitHubAppTokens appTokens, TimeProvider time, ILogger<GitHubForgeClient> logger) : IForgeClient
{
    /// <summary>A status call or a release listing: GitHub answers in well under a second when it is well.</summary>
    internal TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string Provider => ForgeProviders.GitHub;

    public async Task<ForgeCallResult> SetCommitStatusAsync(ForgeRepository repository, CommitStatus status, CancellationToken cancellationToken)
    {
        var (session, refused) = await OpenAsync(repository, cancellationToken);
        if (session is null)
        {
            return refused!;
        }

        var (credentials, token, owner, name) = session;
        var client = GitHubClients.Create(repository.ApiUrl, credentials, CallTimeout);
        var state = ToGitHub(status.State);
        var description = ForgeText.DescriptionWhereRunningIsPending(status);
        try
        {
            await client.Repository.Status.Create(owner, name, status.Sha, new NewCommitStatus
            {
                State = state,
                Context = status.Context,
                Description = description,
                TargetUrl = status.TargetUrl?.AbsoluteUri,
            }).WaitAsync(cancellationToken);
            return ForgeCallResult.Ok($"GitHub status {status.Context} is {StateName(state)} on {status.Sha}");
        }
        catch (Exception ex) when (Failure(ex, cancellationToken) is { } failure)
        {
            LogCallFailed(logger, repository.Name, "status", failure.Message);
            return ForgeResults.Scrubbed(failure, token);
        }
    }

    public async Task<ForgeCallResult> AttachReleaseFilesAsync(ForgeRepository repository, string tag, IReadOnlyList<ReleaseFile> files, CancellationToken cancellationToken)
    {
        var (session, refused) = await OpenAsync(repository, cancellationToken);
        if (session is null)
        {
            return refused!;
        }

        var (credentials, token, owner, name) = session;
        var client = GitHubClients.Create(repository.ApiUrl, credentials, CallTimeout);
        int uploaded = 0, replaced = 0, kept = 0;
        try
        {
            Release release;
            try
            {
                release = await client.Repository.Release.Get(owner, name, tag).WaitAsync(cancellationToken);
            }
            catch (NotFoundException)
            {
                release = await client.Repository.Release.Create(owner, name, new NewRelease(tag) { Name = tag }).WaitAsync(cancellationToken);
            }

            var assets = await client.Repository.Release.GetAllAssets(owner, name, release.Id).WaitAsync(cancellationToken);
            foreach (var file in files)
            {
                var same = assets.Where(a => a.Name == file.Name).ToList();
                // A whole asset is "uploaded" with the file's size; "new" (or "starter") is what a broken upload leaves.
                if (same.Any(a => a.State == "uploaded" && a.Size == file.Size))
                {
                    kept++;
                    continue;
                }

                foreach (var stale in same)
                {
                    await client.Repository.Release.DeleteAsset(owner, name, stale.Id).WaitAsync(cancellationToken);
                }

                replaced += same.Count > 0 ? 1 : 0;
                uploaded += same.Count > 0 ? 0 : 1;

                // Octokit's HttpClient timeout bounds the whole request, so the upload gets a client whose timeout fits the file.
                var timeout = UploadTimeout(file.Size);
                var uploader = GitHubClients.Create(repository.ApiUrl, credentials, timeout);
                await using var stream = await file.OpenAsync(cancellationToken);
                await uploader.Repository.Release.UploadAsset(
                    release,
                    new ReleaseAssetUpload(file.Name, "application/octet-stream", stream, timeout),
                    cancellationToken);
            }

            return ForgeCallResult.Ok($"GitHub release {tag}: {uploaded} file(s) uploaded, {replaced} replaced, {kept} already attached");
        }
        catch (Exception ex) when (Failure(ex, cancellationToken) is { } failure)
        {
            LogCallFailed(logger, repository.Name, "release " + tag, failure.Message);
            return ForgeResults.Scrubbed(failure, token);
        }
    }

    /// <summary>60 s plus a second per MB, at least 100 s (HttpClient's default).</summary>
    internal static TimeSpan UploadTimeout(long size) =>
        TimeSpan.FromSeconds(Math.Max(100, 60 + (size / (1024 * 1024))));

    /// <summary>What every call needs: the credentials (and the token, to scrub it from messages) and the owner and name; else why not.</summary>
    private sealed record Session(Credentials Credentials, string Token, string Owner, string Name);

    private async Task<(Session? Session, ForgeCallResult? Refused)> OpenAsync(ForgeRepository repository, CancellationToken cancellationToken)
    {
        var (credentials, token, refused) = await CredentialsAsync(repository, cancellationToken);
        if (refused is not null)
        {
            return (null, refused);
        }

        return TrySplit(repository.Name, out var owner, out var name)
            ? (new Session(credentials!, token!, owner, name), null)
            : (null, ForgeCallResult.Refused($"'{repository.Name}' is not a GitHub repository name (owner/name)"));
    }

    private async Task<(Credentials? Credentials, string? Token, ForgeCallResult? Refused)> CredentialsAsync(ForgeRepository repository, CancellationToken cancellationToken)
    {
        switch (repository.Credentials)
        {
            case CloneCredentials clone:
                return (new Credentials(clone.Token), clone.Token, null);
            case GitHubAppCredentials app:
                var installationId = app.InstallationId ?? repository.InstallationId;
                if (installationId is null)
                {
                    return (null, null, ForgeCallResult.Refused(
                        $"GitHub App {app.AppId} has no installation for {repository.Name}: set credentials.githubApp.installationId, or let a webhook delivery from the App name it"));
                }

                try
                {
                    var minted = await appTokens.InstallationTokenAsync(repository.ApiUrl, app, installationId.Value, cancellationToken);
                    return (new Credentials(minted.Token), minted.Token, null);
                }
                catch (ForgeCredentialsException ex)
                {
                    // A refused key is for good; GitHub down or rate-limited while minting is worth another try.
                    var cause = ex.InnerException is { } inner ? Failure(inner, cancellationToken) : null;
                    return (null, null, cause is { Retryable: true }
                        ? ForgeCallResult.Later(ex.Message, cause.RetryAfter)
                        : ForgeCallResult.Refused(ex.Message));
                }
                catch (Exception ex) when (Failure(ex, cancellationToken) is { } failure)
                {
                    return (null, null, failure with { Message = $"minting an installation token for GitHub App {app.AppId}: {failure.Message}" });
                }

            case null:
                return (null, null, ForgeCallResult.Refused($"{repository.Name} has no credentials: GitHub needs a token or a GitHub App to report"));
            default:
                return (null, null, ForgeCallResult.Refused($"GitHub cannot use {repository.Credentials.GetType().Name}"));
        }
    }

    /// <summary>An answer or a fault as a result; null for what is no forge's answer (the caller's cancellation, a bug).</summary>
    private ForgeCallResult? Failure(Exception exception, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        switch (exception)
        {
            case RateLimitExceededException rate:
                return ForgeCallResult.Later(
                    $"GitHub rate limit exceeded: {rate.ApiError?.Message ?? rate.Message}",
                    RetryAfter(rate.HttpResponse, now) ?? Positive(rate.Reset - now));
            case SecondaryRateLimitExceededException secondary:
                // GitHub: without retry-after or x-ratelimit-reset, wait at least a minute.
                return ForgeCallResult.Later(
                    $"GitHub secondary rate limit: {secondary.ApiError?.Message ?? secondary.Message}",
                    RetryAfter(secondary.HttpResponse, now) ?? TimeSpan.FromMinutes(1));
            case ApiException api:
                var code = (int)api.StatusCode;
                var message = $"GitHub answered {code}: {Describe(api)}";
                var retryAfter = RetryAfter(api.HttpResponse, now);
                if (code == 429 || (code == 403 && (HasHeader(api.HttpResponse, "Retry-After") || Header(api.HttpResponse, "x-ratelimit-remaining") == "0")))
                {
                    return ForgeCallResult.Later(message, retryAfter);
                }

                return code >= 500 || code == 408 || code == 0
                    ? ForgeCallResult.Later(message, retryAfter)
                    : ForgeCallResult.Refused(message);
            case HttpRequestException http:
                return ForgeCallResult.Later($"GitHub could not be reached: {http.Message}");
            case OperationCanceledException when !cancellationToken.IsCancellationRequested:
                return ForgeCallResult.Later("GitHub did not answer in time");
            default:
                return null;
        }
    }

    /// <summary>GitHub's message and, for a 422, what each error says ("description is too long (maximum is 140 characters)").</summary>
    private static string Describe(ApiException api)
    {
        var error = api.ApiError;
        var message = error?.Message ?? api.Message;
        var details = error?.Errors?.Select(e => e.Message ?? $"{e.Field} {e.Code}").Where(d => !string.IsNullOrWhiteSpace(d)).ToList();
        return details is { Count: > 0 } ? $"{message} ({string.Join("; ", details)})" : message;
    }

    private static TimeSpan? RetryAfter(IResponse? response, DateTimeOffset now) =>
        ForgeResults.RetryAfter(Header(response, "Retry-After"), Header(response, "x-ratelimit-reset"), now);

    private static bool HasHeader(IResponse? response, string name) => Header(response, name) is not null;

    private static string? Header(IResponse? response, string name) =>
        response?.Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    private static TimeSpan Positive(TimeSpan span) => span < TimeSpan.Zero ? TimeSpan.Zero : span;

    private static bool TrySplit(string fullName, out string owner, out string name)
    {
        var slash = fullName.IndexOf('/', StringComparison.Ordinal);
        owner = slash > 0 ? fullName[..slash] : string.Empty;
        name = slash > 0 ? fullName[(slash + 1)..] : string.Empty;
        return slash > 0 && name.Length > 0 && !name.Contains('/', StringComparison.Ordinal);
    }

    /// <summary>GitHub has no "running" or "cancelled": a running build is pending (its description says it runs), a cancelled one an error.</summary>
    private static GitHubState ToGitHub(CommitState state) => state switch
    {
        CommitState.Pending or CommitState.Running => GitHubState.Pending,
        CommitState.Success => GitHubState.Success,
        CommitState.Failure => GitHubState.Failure,
        CommitState.Cancelled => GitHubState.Error,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    private static string StateName(GitHubState state) => state switch
    {
        GitHubState.Pending => "pending",
        GitHubState.Success => "success",
        GitHubState.Failure => "failure",
        _ => "error",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "GitHub call for {Repository} ({Call}) failed: {Reason}")]
    private static partial void LogCallFailed(ILogger logger, string repository, string call, string reason);
}
