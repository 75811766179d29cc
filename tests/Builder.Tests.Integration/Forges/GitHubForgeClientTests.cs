using System.Text.Json.Nodes;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Builder.Forges;
using Microsoft.Extensions.Logging.Abstractions;
using static Builder.Tests.Integration.Forges.ForgeTestKit;

namespace Builder.Tests.Integration.Forges;

/// <summary>The GitHub client (through Octokit) against a fake GitHub Enterprise Server on loopback.</summary>
public sealed class GitHubForgeClientTests : IAsyncLifetime
{
    private const string Token = "github_pat_11AAAAAAA0abcdefghijklmnopqrstuvwxyz";
    private const string StatusPath = "/api/v3/repos/acme/billing/statuses/" + Sha;

    private FakeForgeServer _forge = null!;

    public async Task InitializeAsync()
    {
        _forge = await FakeForgeServer.StartAsync();
        _forge.AcceptToken(Token, "pat");
    }

    public async Task DisposeAsync() => await _forge.DisposeAsync();

    private ForgeRepository Repository(RepositoryCredentials? credentials = null, long? installationId = null) =>
        new(ForgeProviders.GitHub, "acme/billing", _forge.GitHubApi, credentials ?? new CloneCredentials("x-access-token", Token), installationId);

    private static CommitStatus Status(CommitState state, string description = "wheels") =>
        new(Sha, state, "builder/wheels", description, new Uri("https://builder.example/builds/17"));

    [Fact]
    public async Task Pending_running_success_post_three_statuses_to_the_enterprise_api_with_the_token()
    {
        using var services = Services();
        var github = services.Client(ForgeProviders.GitHub);

        var results = new List<ForgeCallResult>();
        foreach (var (state, text) in new[] { (CommitState.Pending, "queued"), (CommitState.Running, "building 4 wheels"), (CommitState.Success, "4 wheels published") })
        {
            results.Add(await github.SetCommitStatusAsync(Repository(), Status(state, text), CancellationToken.None));
        }

        Assert.All(results, r => Assert.True(r.Succeeded, r.Message));
        Assert.Equal(
            [$"POST {StatusPath} auth=token(pat)", $"POST {StatusPath} auth=token(pat)", $"POST {StatusPath} auth=token(pat)"],
            _forge.Calls.Select(c => c.ToString()));
        var bodies = _forge.Calls.Select(c => JsonNode.Parse(c.Body)!).ToList();
        Assert.Equal(["pending", "pending", "success"], bodies.Select(b => (string?)b["state"]));
        Assert.Equal(["queued", "Running: building 4 wheels", "4 wheels published"], bodies.Select(b => (string?)b["description"]));
        Assert.All(bodies, b => Assert.Equal("builder/wheels", (string?)b["context"]));
        Assert.All(bodies, b => Assert.Equal("https://builder.example/builds/17", (string?)b["target_url"]));
    }

    [Fact]
    public async Task Cancelled_is_an_error_and_failure_a_failure()
    {
        using var services = Services();
        var github = services.Client(ForgeProviders.GitHub);

        Assert.True((await github.SetCommitStatusAsync(Repository(), Status(CommitState.Failure), CancellationToken.None)).Succeeded);
        Assert.True((await github.SetCommitStatusAsync(Repository(), Status(CommitState.Cancelled), CancellationToken.None)).Succeeded);

        Assert.Equal(["failure", "error"], _forge.Calls.Select(c => (string?)JsonNode.Parse(c.Body)!["state"]));
    }

    [Fact]
    public async Task A_long_description_is_cut_to_140_characters_which_GitHub_takes()
    {
        using var services = Services();

        var result = await services.Client(ForgeProviders.GitHub).SetCommitStatusAsync(Repository(), Status(CommitState.Failure, new string('x', 300)), CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        var sent = (string)JsonNode.Parse(_forge.Calls.Single().Body)!["description"]!;
        Assert.Equal(140, sent.Length);
        Assert.EndsWith("…", sent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_422_is_refused_with_GitHubs_message()
    {
        _forge.Fail("POST", StatusPath, ForgeFault.GitHubDescriptionTooLong);
        using var services = Services();

        var result = await services.Client(ForgeProviders.GitHub).SetCommitStatusAsync(Repository(), Status(CommitState.Success), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.False(result.Retryable);
        Assert.Equal("GitHub answered 422: Validation Failed (description is too long (maximum is 140 characters))", result.Message);
    }

    [Fact]
    public async Task A_token_GitHub_does_not_know_is_refused_without_the_token_in_the_message()
    {
        using var services = Services();
        const string wrong = "ghp_wrongwrongwrongwrongwrongwrong0001";

        var result = await services.Client(ForgeProviders.GitHub).SetCommitStatusAsync(
            Repository(new CloneCredentials("x-access-token", wrong)), Status(CommitState.Pending), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.False(result.Retryable);
        Assert.Equal("GitHub answered 401: Bad credentials", result.Message);
        Assert.Equal("token(unknown)", _forge.Calls.Single().Auth);
        AssertNoSecret(result, wrong, Token);
    }

    [Fact]
    public async Task A_secondary_rate_limit_is_later_after_Retry_After()
    {
        _forge.Fail("POST", StatusPath, ForgeFault.GitHubSecondaryRateLimit);
        using var services = Services();

        var result = await services.Client(ForgeProviders.GitHub).SetCommitStatusAsync(Repository(), Status(CommitState.Pending), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.True(result.Retryable);
        Assert.Equal(TimeSpan.FromSeconds(1), result.RetryAfter);
        Assert.Contains("secondary rate limit", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_later_and_the_next_call_goes_through()
    {
        _forge.Fail("POST", StatusPath, new ForgeFault(429, """{"message":"Too Many Requests"}""", new Dictionary<string, string> { ["Retry-After"] = "1" }));
        using var services = Services();
        var github = services.Client(ForgeProviders.GitHub);

        var limited = await github.SetCommitStatusAsync(Repository(), Status(CommitState.Pending), CancellationToken.None);
        var next = await github.SetCommitStatusAsync(Repository(), Status(CommitState.Pending), CancellationToken.None);

        Assert.True(limited.Retryable);
        Assert.Equal(TimeSpan.FromSeconds(1), limited.RetryAfter);
        Assert.Equal("GitHub answered 429: Too Many Requests", limited.Message);
        Assert.True(next.Succeeded, next.Message);
    }

    [Fact]
    public async Task The_primary_rate_limit_is_later_until_the_reset()
    {
        var reset = DateTimeOffset.UtcNow.AddSeconds(30).ToUnixTimeSeconds();
        _forge.Fail("POST", StatusPath, new ForgeFault(
            403,
            """{"message":"API rate limit exceeded for installation ID 7.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}""",
            new Dictionary<string, string> { ["x-ratelimit-limit"] = "5000", ["x-ratelimit-remaining"] = "0", ["x-ratelimit-reset"] = reset.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        using var services = Services();

        var result = await services.Client(ForgeProviders.GitHub).SetCommitStatusAsync(Repository(), Status(CommitState.Pending), CancellationToken.None);

        Assert.True(result.Retryable, result.Message);
        Assert.InRange(result.RetryAfter!.Value, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(31));
    }

    [Fact]
    public async Task A_500_is_later()
    {
        _forge.Fail("POST", StatusPath, ForgeFault.GitHubServerError);
        using var services = Services();

        var result = await services.Client(ForgeProviders.GitHub).SetCommitStatusAsync(Repository(), Status(CommitState.Pending), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.True(result.Retryable);
        Assert.Equal("GitHub answered 500: Server Error", result.Message);
    }

    [Fact]
    public async Task A_GitHub_that_does_not_answer_in_time_is_later()
    {
        _forge.Fail("POST", StatusPath, ForgeFault.Slow(TimeSpan.FromSeconds(5)));
        var github = new GitHubForgeClient(new GitHubAppTokens(TimeProvider.System), TimeProvider.System, NullLogger<GitHubForgeClient>.Instance)
        {
            CallTimeout = TimeSpan.FromMilliseconds(300),
        };

        var result = await github.SetCommitStatusAsync(Repository(), Status(CommitState.Pending), CancellationToken.None);

        Assert.True(result.Retryable, result.Message);
        Assert.Equal("GitHub did not answer in time", result.Message);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_a_result()
    {
        _forge.Fail("POST", StatusPath, ForgeFault.Slow(TimeSpan.FromSeconds(5)));
        using var services = Services();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            services.Client(ForgeProviders.GitHub).SetCommitStatusAsync(Repository(), Status(CommitState.Pending), cancel.Token));
    }

    [Fact]
    public async Task Release_files_are_uploaded_once_to_a_created_release_and_a_second_attach_uploads_nothing()
    {
        using var services = Services();
        var github = services.Client(ForgeProviders.GitHub);
        byte[] wheel = [1, 2, 3, 4, 5, 6, 7, 8], sdist = [9, 9, 9];
        ReleaseFile[] files = [File("billing-1.0.0-py3-none-any.whl", wheel), File("billing-1.0.0.tar.gz", sdist)];

        var first = await github.AttachReleaseFilesAsync(Repository(), "v1.0.0", files, CancellationToken.None);

        Assert.True(first.Succeeded, first.Message);
        Assert.Equal("GitHub release v1.0.0: 2 file(s) uploaded, 0 replaced, 0 already attached", first.Message);
        var calls = _forge.Calls.Select(c => c.ToString()).ToList();
        Assert.Equal(5, calls.Count);
        Assert.Equal("GET /api/v3/repos/acme/billing/releases/tags/v1.0.0 auth=token(pat)", calls[0]);
        Assert.Equal("POST /api/v3/repos/acme/billing/releases auth=token(pat)", calls[1]);
        Assert.Matches(@"^GET /api/v3/repos/acme/billing/releases/\d+/assets auth=token\(pat\)$", calls[2]);
        Assert.Matches(@"^POST /api/uploads/repos/acme/billing/releases/\d+/assets\?name=billing-1\.0\.0-py3-none-any\.whl auth=token\(pat\)$", calls[3]);
        Assert.Matches(@"^POST /api/uploads/repos/acme/billing/releases/\d+/assets\?name=billing-1\.0\.0\.tar\.gz auth=token\(pat\)$", calls[4]);
        Assert.Equal("<8 bytes>", _forge.Calls[3].Body);
        Assert.Equal("""{"tag_name":"v1.0.0","name":"v1.0.0"}""", Normalize(_forge.Calls[1].Body, "tag_name", "name"));
        Assert.Equal(wheel, _forge.GitHubAssets.Single(a => a.Name.EndsWith(".whl", StringComparison.Ordinal)).Bytes);
        Assert.Equal(sdist, _forge.GitHubAssets.Single(a => a.Name.EndsWith(".tar.gz", StringComparison.Ordinal)).Bytes);
        Assert.All(_forge.GitHubAssets, a => Assert.Equal("uploaded", a.State));

        _forge.ClearCalls();
        var second = await github.AttachReleaseFilesAsync(Repository(), "v1.0.0", files, CancellationToken.None);

        Assert.True(second.Succeeded, second.Message);
        Assert.Equal("GitHub release v1.0.0: 0 file(s) uploaded, 0 replaced, 2 already attached", second.Message);
        Assert.Equal(["GET", "GET"], _forge.Calls.Select(c => c.Method));
        Assert.Equal(2, _forge.GitHubAssets.Count);
    }

    [Fact]
    public async Task A_half_uploaded_asset_is_deleted_and_uploaded_again()
    {
        using var services = Services();
        var github = services.Client(ForgeProviders.GitHub);
        var wheel = Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray();
        ReleaseFile[] files = [File("billing-1.0.0-py3-none-any.whl", wheel)];
        _forge.BreakUploads(1);

        var broken = await github.AttachReleaseFilesAsync(Repository(), "v1.0.0", files, CancellationToken.None);

        Assert.True(broken.Retryable, broken.Message);
        var half = Assert.Single(_forge.GitHubAssets);
        Assert.Equal("new", half.State);

        _forge.ClearCalls();
        var repaired = await github.AttachReleaseFilesAsync(Repository(), "v1.0.0", files, CancellationToken.None);

        Assert.True(repaired.Succeeded, repaired.Message);
        Assert.Equal("GitHub release v1.0.0: 0 file(s) uploaded, 1 replaced, 0 already attached", repaired.Message);
        Assert.Equal(
            ["GET /api/v3/repos/acme/billing/releases/tags/v1.0.0", "GET assets", $"DELETE /api/v3/repos/acme/billing/releases/assets/{half.Id}", "POST upload"],
            _forge.Calls.Select(c => c.Path.EndsWith("/assets", StringComparison.Ordinal)
                ? c.Path.StartsWith("/api/uploads/", StringComparison.Ordinal) ? "POST upload" : "GET assets"
                : $"{c.Method} {c.Path}"));
        var whole = Assert.Single(_forge.GitHubAssets);
        Assert.Equal("uploaded", whole.State);
        Assert.Equal(wheel, whole.Bytes);
    }

    [Fact]
    public async Task An_asset_of_another_size_is_replaced()
    {
        using var services = Services();
        var github = services.Client(ForgeProviders.GitHub);
        await github.AttachReleaseFilesAsync(Repository(), "v1.0.0", [File("billing.whl", [1, 2, 3])], CancellationToken.None);

        var result = await github.AttachReleaseFilesAsync(Repository(), "v1.0.0", [File("billing.whl", [4, 5, 6, 7])], CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal([4, 5, 6, 7], Assert.Single(_forge.GitHubAssets).Bytes);
    }

    [Fact]
    public async Task A_GitHub_App_mints_an_installation_token_with_a_JWT_the_forge_verifies_and_reuses_it()
    {
        var (pem, publicKey) = AppKey();
        _forge.App = (42, publicKey);
        using var services = Services();
        var github = services.Client(ForgeProviders.GitHub);
        var app = new GitHubAppCredentials(42, 7, pem);

        var first = await github.SetCommitStatusAsync(Repository(app), Status(CommitState.Pending), CancellationToken.None);
        var second = await github.SetCommitStatusAsync(Repository(app), Status(CommitState.Success), CancellationToken.None);

        Assert.True(first.Succeeded, first.Message);
        Assert.True(second.Succeeded, second.Message);
        Assert.Equal(
            ["POST /api/v3/app/installations/7/access_tokens auth=jwt", $"POST {StatusPath} auth=token(installation-7-1)", $"POST {StatusPath} auth=token(installation-7-1)"],
            _forge.Calls.Select(c => c.ToString()));
        Assert.Equal(1, _forge.MintedTokens);
    }

    [Fact]
    public async Task The_installation_token_is_minted_again_five_minutes_before_it_expires()
    {
        var (pem, publicKey) = AppKey();
        _forge.App = (42, publicKey);
        var time = new ManualTime(DateTimeOffset.UtcNow);
        using var services = Services(time);
        var github = services.Client(ForgeProviders.GitHub);
        var app = new GitHubAppCredentials(42, null, pem);

        await github.SetCommitStatusAsync(Repository(app, installationId: 9), Status(CommitState.Pending), CancellationToken.None);
        time.Now += TimeSpan.FromMinutes(54);
        await github.SetCommitStatusAsync(Repository(app, installationId: 9), Status(CommitState.Running), CancellationToken.None);
        time.Now += TimeSpan.FromMinutes(2);
        var late = await github.SetCommitStatusAsync(Repository(app, installationId: 9), Status(CommitState.Success), CancellationToken.None);

        Assert.True(late.Succeeded, late.Message);
        Assert.Equal(
            [
                "POST /api/v3/app/installations/9/access_tokens auth=jwt",
                $"POST {StatusPath} auth=token(installation-9-1)",
                $"POST {StatusPath} auth=token(installation-9-1)",
                "POST /api/v3/app/installations/9/access_tokens auth=jwt",
                $"POST {StatusPath} auth=token(installation-9-2)",
            ],
            _forge.Calls.Select(c => c.ToString()));
    }

    [Fact]
    public async Task A_GitHub_App_without_an_installation_is_refused_without_a_call()
    {
        var (pem, _) = AppKey();
        using var services = Services();

        var result = await services.Client(ForgeProviders.GitHub).SetCommitStatusAsync(Repository(new GitHubAppCredentials(42, null, pem)), Status(CommitState.Pending), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.False(result.Retryable);
        Assert.Contains("no installation", result.Message, StringComparison.Ordinal);
        Assert.Empty(_forge.Calls);
        AssertNoSecret(result, pem);
    }

    [Fact]
    public async Task A_GitHub_App_key_the_forge_does_not_know_is_refused_without_the_key_or_JWT_in_the_message()
    {
        var (pem, _) = AppKey();
        var (_, otherPublicKey) = AppKey();
        _forge.App = (42, otherPublicKey);
        using var services = Services();

        var result = await services.Client(ForgeProviders.GitHub).SetCommitStatusAsync(Repository(new GitHubAppCredentials(42, 7, pem)), Status(CommitState.Pending), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.False(result.Retryable);
        Assert.Contains("401", result.Message, StringComparison.Ordinal);
        Assert.Equal(["POST /api/v3/app/installations/7/access_tokens auth=jwt"], _forge.Calls.Select(c => c.ToString()));
        AssertNoSecret(result, pem, "eyJ");
    }

    private static string Normalize(string json, params string[] keep)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        return new JsonObject(keep.Select(k => KeyValuePair.Create(k, node[k]?.DeepClone()))).ToJsonString();
    }
}
