using System.Net.Http.Json;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Microsoft.Extensions.Logging;

namespace Builder.Forges;

/// <summary>
/// Reports to GitLab through its REST API (v4) with a project or personal access token (<c>PRIVATE-TOKEN</c>): commit
/// statuses, and a tag's release with links to the files Builder serves. A deploy token clones but cannot call the
/// API; GitLab refuses it and the result says so.
/// </summary>
public sealed partial class GitLabForgeClient(IHttpClientFactory httpClientFactory, TimeProvider time, ILogger<GitLabForgeClient> logger) : IForgeClient
{
    public const string HttpClientName = "Builder.Forges.GitLab";

    private const string Forge = "GitLab";

    internal TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string Provider => ForgeProviders.GitLab;

    public async Task<ForgeCallResult> SetCommitStatusAsync(ForgeRepository repository, CommitStatus status, CancellationToken cancellationToken)
    {
        if (repository.Credentials is not CloneCredentials credentials)
        {
            return NoToken(repository);
        }

        var state = ToGitLab(status.State);
        var form = new List<KeyValuePair<string, string>>
        {
            new("state", state),
            new("name", status.Context),
            new("description", ForgeText.Truncate(status.Description)),
        };
        if (status.TargetUrl is { } target)
        {
            form.Add(new("target_url", target.AbsoluteUri));
        }

        var answer = await SendAsync(
            HttpMethod.Post, repository, credentials, $"{Project(repository)}/statuses/{Uri.EscapeDataString(status.Sha)}", new FormUrlEncodedContent(form), cancellationToken);
        if (answer.IsSuccess)
        {
            return ForgeCallResult.Ok($"GitLab status {status.Context} is {state} on {status.Sha}");
        }

        // GitLab refuses to set the state a status already has ("Cannot transition status via :run from :running").
        if (answer.Fault is null && answer.Status == 400 && answer.Message.Contains("Cannot transition status", StringComparison.Ordinal))
        {
            return ForgeCallResult.Ok($"GitLab status {status.Context} is already {state} on {status.Sha}");
        }

        return Failed(repository, "status", answer, credentials);
    }

    public async Task<ForgeCallResult> AttachReleaseFilesAsync(ForgeRepository repository, string tag, IReadOnlyList<ReleaseFile> files, CancellationToken cancellationToken)
    {
        if (repository.Credentials is not CloneCredentials credentials)
        {
            return NoToken(repository);
        }

        var release = $"{Project(repository)}/releases/{Uri.EscapeDataString(tag)}";
        var found = await SendAsync(HttpMethod.Get, repository, credentials, release, null, cancellationToken);
        if (found.Fault is null && found.Status == 404)
        {
            var created = await SendAsync(
                HttpMethod.Post, repository, credentials, $"{Project(repository)}/releases", JsonContent.Create(new { tag_name = tag, name = tag }), cancellationToken);
            if (!created.IsSuccess)
            {
                return Failed(repository, "release " + tag, created, credentials);
            }
        }
        else if (!found.IsSuccess)
        {
            return Failed(repository, "release " + tag, found, credentials);
        }

        var listed = await SendAsync(HttpMethod.Get, repository, credentials, $"{release}/assets/links?per_page=100", null, cancellationToken);
        if (!listed.IsSuccess)
        {
            return Failed(repository, "release " + tag, listed, credentials);
        }

        var links = JsonSerializer.Deserialize<List<ReleaseLink>>(listed.Body, JsonOptions) ?? [];
        int added = 0, replaced = 0, kept = 0;
        foreach (var file in files)
        {
            var url = file.DownloadUrl.AbsoluteUri;
            var same = links.Where(l => l.Name == file.Name).ToList();
            if (same.Any(l => l.Url == url))
            {
                kept++;
                continue;
            }

            // A link of that name to somewhere else (an older Builder address): GitLab keeps names unique per release.
            foreach (var stale in same)
            {
                var deleted = await SendAsync(HttpMethod.Delete, repository, credentials, $"{release}/assets/links/{stale.Id}", null, cancellationToken);
                if (!deleted.IsSuccess && deleted.Status != 404)
                {
                    return Failed(repository, "release " + tag, deleted, credentials);
                }
            }

            var linked = await SendAsync(
                HttpMethod.Post, repository, credentials, $"{release}/assets/links", JsonContent.Create(new { name = file.Name, url, link_type = "package" }), cancellationToken);
            if (!linked.IsSuccess)
            {
                return Failed(repository, "release " + tag, linked, credentials);
            }

            replaced += same.Count > 0 ? 1 : 0;
            added += same.Count > 0 ? 0 : 1;
        }

        return ForgeCallResult.Ok($"GitLab release {tag}: {added} link(s) added, {replaced} replaced, {kept} already linked");
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private sealed record ReleaseLink(long Id, string Name, string Url);

    private async Task<ForgeHttpAnswer> SendAsync(HttpMethod method, ForgeRepository repository, CloneCredentials credentials, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(repository.ApiUrl, path)) { Content = content };
        request.Headers.Add("PRIVATE-TOKEN", credentials.Token);
        return await ForgeHttp.SendAsync(httpClientFactory.CreateClient(HttpClientName), request, CallTimeout, Forge, cancellationToken);
    }

    private ForgeCallResult Failed(ForgeRepository repository, string call, ForgeHttpAnswer answer, CloneCredentials credentials)
    {
        var failure = ForgeResults.Scrubbed(ForgeHttp.Failure(answer, Forge, time.GetUtcNow()), credentials.Token);
        LogCallFailed(logger, repository.Name, call, failure.Message);
        return failure;
    }

    /// <summary>The project by its URL-encoded path (<c>group%2Fsub%2Fproject</c>), as GitLab's API takes it in place of the id.</summary>
    private static string Project(ForgeRepository repository) => "projects/" + Uri.EscapeDataString(repository.Name);

    private static ForgeCallResult NoToken(ForgeRepository repository) => ForgeCallResult.Refused(
        repository.Credentials is null
            ? $"{repository.Name} has no credentials: GitLab needs a project or personal access token to report"
            : $"GitLab cannot use {repository.Credentials.GetType().Name}: it needs a project or personal access token");

    private static string ToGitLab(CommitState state) => state switch
    {
        CommitState.Pending => "pending",
        CommitState.Running => "running",
        CommitState.Success => "success",
        CommitState.Failure => "failed",
        CommitState.Cancelled => "canceled",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "GitLab call for {Repository} ({Call}) failed: {Reason}")]
    private static partial void LogCallFailed(ILogger logger, string repository, string call, string reason);
}
