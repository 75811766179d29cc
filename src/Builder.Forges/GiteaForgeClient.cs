using System.Net.Http.Json;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Microsoft.Extensions.Logging;

namespace Builder.Forges;

/// <summary>Reports commit statuses to Gitea (and Forgejo) through its REST API (v1) with an access token. Release files are not attached there.</summary>
public sealed partial class GiteaForgeClient(IHttpClientFactory httpClientFactory, TimeProvider time, ILogger<GiteaForgeClient> logger) : IForgeClient
{
    public const string HttpClientName = "Builder.Forges.Gitea";

    private const string Forge = "Gitea";

    internal TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string Provider => ForgeProviders.Gitea;

    public async Task<ForgeCallResult> SetCommitStatusAsync(ForgeRepository repository, CommitStatus status, CancellationToken cancellationToken)
    {
        if (repository.Credentials is not CloneCredentials credentials)
        {
            return ForgeCallResult.Refused(repository.Credentials is null
                ? $"{repository.Name} has no credentials: Gitea needs an access token to report"
                : $"Gitea cannot use {repository.Credentials.GetType().Name}: it needs an access token");
        }

        var slash = repository.Name.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == repository.Name.Length - 1)
        {
            return ForgeCallResult.Refused($"'{repository.Name}' is not a Gitea repository name (owner/name)");
        }

        var state = ToGitea(status.State);
        var path = $"repos/{Uri.EscapeDataString(repository.Name[..slash])}/{Uri.EscapeDataString(repository.Name[(slash + 1)..])}/statuses/{Uri.EscapeDataString(status.Sha)}";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(repository.ApiUrl, path))
        {
            Content = JsonContent.Create(new
            {
                state,
                context = status.Context,
                description = ForgeText.DescriptionWhereRunningIsPending(status),
                target_url = status.TargetUrl?.AbsoluteUri,
            }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "token " + credentials.Token);
        var answer = await ForgeHttp.SendAsync(httpClientFactory.CreateClient(HttpClientName), request, CallTimeout, Forge, cancellationToken);
        if (answer.IsSuccess)
        {
            return ForgeCallResult.Ok($"Gitea status {status.Context} is {state} on {status.Sha}");
        }

        var failure = ForgeResults.Scrubbed(ForgeHttp.Failure(answer, Forge, time.GetUtcNow()), credentials.Token);
        LogCallFailed(logger, repository.Name, failure.Message);
        return failure;
    }

    public Task<ForgeCallResult> AttachReleaseFilesAsync(ForgeRepository repository, string tag, IReadOnlyList<ReleaseFile> files, CancellationToken cancellationToken) =>
        Task.FromResult(ForgeCallResult.Refused("attaching release files is not supported for Gitea"));

    /// <summary>Gitea has no "running" or "cancelled" state: a running build is pending (its description says it runs), a cancelled one an error.</summary>
    private static string ToGitea(CommitState state) => state switch
    {
        CommitState.Pending or CommitState.Running => "pending",
        CommitState.Success => "success",
        CommitState.Failure => "failure",
        CommitState.Cancelled => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gitea status for {Repository} failed: {Reason}")]
    private static partial void LogCallFailed(ILogger logger, string repository, string reason);
}
