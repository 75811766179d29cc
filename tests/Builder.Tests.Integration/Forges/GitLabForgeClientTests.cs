using System.Text.Json.Nodes;
using Builder.Core.Builds;
using Builder.Core.Forges;
using static Builder.Tests.Integration.Forges.ForgeTestKit;

namespace Builder.Tests.Integration.Forges;

/// <summary>The GitLab and Gitea clients against a fake GitLab (/api/v4/) and Gitea (/api/v1/) on loopback.</summary>
public sealed class GitLabForgeClientTests : IAsyncLifetime
{
    private const string Token = "glpat-abcdefghijklmnopqrst";
    private const string StatusPath = "/api/v4/projects/group%2Fsub%2Fbilling/statuses/" + Sha;

    private FakeForgeServer _forge = null!;

    public async Task InitializeAsync()
    {
        _forge = await FakeForgeServer.StartAsync();
        _forge.AcceptToken(Token, "project-token");
    }

    public async Task DisposeAsync() => await _forge.DisposeAsync();

    private ForgeRepository Repository(RepositoryCredentials? credentials = null) =>
        new(ForgeProviders.GitLab, "group/sub/billing", _forge.GitLabApi, credentials ?? new CloneCredentials("builder", Token));

    private static CommitStatus Status(CommitState state, string description = "wheels") =>
        new(Sha, state, "builder/wheels", description, new Uri("https://builder.example/builds/17"));

    [Fact]
    public async Task Pending_running_success_post_three_statuses_with_the_private_token()
    {
        using var services = Services();
        var gitlab = services.Client(ForgeProviders.GitLab);

        var results = new List<ForgeCallResult>();
        foreach (var state in new[] { CommitState.Pending, CommitState.Running, CommitState.Success })
        {
            results.Add(await gitlab.SetCommitStatusAsync(Repository(), Status(state), CancellationToken.None));
        }

        Assert.All(results, r => Assert.True(r.Succeeded, r.Message));
        Assert.Equal(
            [$"POST {StatusPath} auth=private-token(project-token)", $"POST {StatusPath} auth=private-token(project-token)", $"POST {StatusPath} auth=private-token(project-token)"],
            _forge.Calls.Select(c => c.ToString()));
        Assert.Equal(
            [
                "state=pending&name=builder%2Fwheels&description=wheels&target_url=https%3A%2F%2Fbuilder.example%2Fbuilds%2F17",
                "state=running&name=builder%2Fwheels&description=wheels&target_url=https%3A%2F%2Fbuilder.example%2Fbuilds%2F17",
                "state=success&name=builder%2Fwheels&description=wheels&target_url=https%3A%2F%2Fbuilder.example%2Fbuilds%2F17",
            ],
            _forge.Calls.Select(c => c.Body));
    }

    [Fact]
    public async Task Failure_and_cancelled_are_failed_and_canceled()
    {
        using var services = Services();
        var gitlab = services.Client(ForgeProviders.GitLab);

        Assert.True((await gitlab.SetCommitStatusAsync(Repository(), Status(CommitState.Failure), CancellationToken.None)).Succeeded);
        Assert.True((await gitlab.SetCommitStatusAsync(Repository(), Status(CommitState.Cancelled), CancellationToken.None)).Succeeded);

        Assert.Equal(["failed", "canceled"], _forge.Calls.Select(c => c.Body.Split('&')[0]["state=".Length..]));
    }

    [Fact]
    public async Task Setting_the_state_a_status_already_has_is_success()
    {
        using var services = Services();
        var gitlab = services.Client(ForgeProviders.GitLab);
        await gitlab.SetCommitStatusAsync(Repository(), Status(CommitState.Running), CancellationToken.None);

        var again = await gitlab.SetCommitStatusAsync(Repository(), Status(CommitState.Running), CancellationToken.None);

        Assert.True(again.Succeeded, again.Message);
        Assert.Equal($"GitLab status builder/wheels is already running on {Sha}", again.Message);
        Assert.Equal(2, _forge.Calls.Count);
    }

    [Fact]
    public async Task A_token_GitLab_does_not_know_is_refused_without_the_token_in_the_message()
    {
        using var services = Services();
        const string wrong = "glpat-wrongwrongwrongwrong";

        var result = await services.Client(ForgeProviders.GitLab).SetCommitStatusAsync(Repository(new CloneCredentials("builder", wrong)), Status(CommitState.Pending), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.False(result.Retryable);
        Assert.Equal("GitLab answered 401: 401 Unauthorized", result.Message);
        AssertNoSecret(result, wrong, Token);
    }

    [Fact]
    public async Task A_429_is_later_after_Retry_After()
    {
        _forge.Fail("POST", StatusPath, ForgeFault.GitLabRateLimit);
        using var services = Services();

        var result = await services.Client(ForgeProviders.GitLab).SetCommitStatusAsync(Repository(), Status(CommitState.Pending), CancellationToken.None);

        Assert.True(result.Retryable, result.Message);
        Assert.Equal(TimeSpan.FromSeconds(1), result.RetryAfter);
        Assert.Equal("GitLab answered 429: Retry later", result.Message);
    }

    [Fact]
    public async Task A_500_is_later()
    {
        _forge.Fail("POST", StatusPath, ForgeFault.GitLabServerError);
        using var services = Services();

        var result = await services.Client(ForgeProviders.GitLab).SetCommitStatusAsync(Repository(), Status(CommitState.Pending), CancellationToken.None);

        Assert.True(result.Retryable);
        Assert.Null(result.RetryAfter);
        Assert.Equal("GitLab answered 500: 500 Internal Server Error", result.Message);
    }

    [Fact]
    public async Task A_GitHub_App_is_refused_for_GitLab_without_a_call()
    {
        using var services = Services();

        var result = await services.Client(ForgeProviders.GitLab).SetCommitStatusAsync(
            Repository(new GitHubAppCredentials(1, 2, "-----BEGIN RSA PRIVATE KEY-----")), Status(CommitState.Pending), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.False(result.Retryable);
        Assert.Empty(_forge.Calls);
    }

    [Fact]
    public async Task Release_links_are_added_once_to_a_created_release()
    {
        using var services = Services();
        var gitlab = services.Client(ForgeProviders.GitLab);
        ReleaseFile[] files = [File("billing-1.0.0-py3-none-any.whl", [1, 2, 3]), File("billing-1.0.0.tar.gz", [4, 5])];
        const string release = "/api/v4/projects/group%2Fsub%2Fbilling/releases";

        var first = await gitlab.AttachReleaseFilesAsync(Repository(), "v1.0.0", files, CancellationToken.None);

        Assert.True(first.Succeeded, first.Message);
        Assert.Equal("GitLab release v1.0.0: 2 link(s) added, 0 replaced, 0 already linked", first.Message);
        Assert.Equal(
            [
                $"GET {release}/v1.0.0",
                $"POST {release}",
                $"GET {release}/v1.0.0/assets/links?per_page=100",
                $"POST {release}/v1.0.0/assets/links",
                $"POST {release}/v1.0.0/assets/links",
            ],
            _forge.Calls.Select(c => $"{c.Method} {c.Path}{c.Query}"));
        Assert.Equal("v1.0.0", (string?)JsonNode.Parse(_forge.Calls[1].Body)!["tag_name"]);
        var link = JsonNode.Parse(_forge.Calls[3].Body)!;
        Assert.Equal("billing-1.0.0-py3-none-any.whl", (string?)link["name"]);
        Assert.Equal("https://builder.example/files/billing-1.0.0-py3-none-any.whl", (string?)link["url"]);
        Assert.Equal("package", (string?)link["link_type"]);

        _forge.ClearCalls();
        var second = await gitlab.AttachReleaseFilesAsync(Repository(), "v1.0.0", files, CancellationToken.None);

        Assert.True(second.Succeeded, second.Message);
        Assert.Equal("GitLab release v1.0.0: 0 link(s) added, 0 replaced, 2 already linked", second.Message);
        Assert.Equal([$"GET {release}/v1.0.0", $"GET {release}/v1.0.0/assets/links"], _forge.Calls.Select(c => $"{c.Method} {c.Path}"));
        Assert.Equal(2, _forge.GitLabLinks.Count);
    }

    [Fact]
    public async Task A_link_to_another_address_is_replaced()
    {
        using var services = Services();
        var gitlab = services.Client(ForgeProviders.GitLab);
        var old = File("billing.whl", [1]) with { DownloadUrl = new Uri("https://old.example/billing.whl") };
        await gitlab.AttachReleaseFilesAsync(Repository(), "v1.0.0", [old], CancellationToken.None);

        var result = await gitlab.AttachReleaseFilesAsync(Repository(), "v1.0.0", [File("billing.whl", [1])], CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal("https://builder.example/files/billing.whl", (string?)Assert.Single(_forge.GitLabLinks)["url"]);
    }

    [Fact]
    public async Task Gitea_gets_a_status_with_its_token()
    {
        const string giteaToken = "0123456789abcdef0123456789abcdef01234567";
        _forge.AcceptToken(giteaToken, "gitea");
        using var services = Services();
        var gitea = services.Client(ForgeProviders.Gitea);
        var repository = new ForgeRepository(ForgeProviders.Gitea, "acme/billing", _forge.GiteaApi, new CloneCredentials("builder", giteaToken));

        var running = await gitea.SetCommitStatusAsync(repository, Status(CommitState.Running, "building"), CancellationToken.None);
        var cancelled = await gitea.SetCommitStatusAsync(repository, Status(CommitState.Cancelled, "cancelled"), CancellationToken.None);
        var files = await gitea.AttachReleaseFilesAsync(repository, "v1.0.0", [File("a.whl", [1])], CancellationToken.None);

        Assert.True(running.Succeeded, running.Message);
        Assert.True(cancelled.Succeeded, cancelled.Message);
        Assert.False(files.Succeeded);
        Assert.Equal(
            [$"POST /api/v1/repos/acme/billing/statuses/{Sha} auth=token(gitea)", $"POST /api/v1/repos/acme/billing/statuses/{Sha} auth=token(gitea)"],
            _forge.Calls.Select(c => c.ToString()));
        var bodies = _forge.Calls.Select(c => JsonNode.Parse(c.Body)!).ToList();
        Assert.Equal(["pending", "error"], bodies.Select(b => (string?)b["state"]));
        Assert.Equal("Running: building", (string?)bodies[0]["description"]);
        Assert.Equal("builder/wheels", (string?)bodies[0]["context"]);
    }
}
