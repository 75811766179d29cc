using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Builder.Data;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Host;

/// <summary>
/// The forges' own documented payloads (Fixtures/Webhooks, see SOURCES.md there), sent byte for byte and signed the way
/// each forge signs: GitHub <c>X-Hub-Signature-256: sha256=hex</c>, GitLab <c>X-Gitlab-Token</c>, Gitea
/// <c>X-Gitea-Signature: hex</c>. The HMACs are computed here, not with Builder's own code. Where a test needs SHAs
/// of a real local repository (a create or release event resolves its tag with git ls-remote on the file:// clone
/// URL), it rewrites only those fields in a copy of the fixture and says so.
/// </summary>
public sealed class ForgeWebhookTests : IDisposable
{
    private const string Zeros = "0000000000000000000000000000000000000000";

    // GitHub's push examples: tag simple-tag at this commit (lightweight: after == head_commit.id).
    private const string GitHubName = "Codertocat/Hello-World";
    private const string GitHubSha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

    // GitLab's Tag Push Hook example.
    private const string GitLabName = "jsmith/example";
    private const string GitLabSha = "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7";

    // Gitea's push example (a branch push).
    private const string GiteaName = "gitea/webhooks";
    private const string GiteaSha = "bffeb74224043ba2feb48d137756c8a9331c449a";

    private readonly BuilderWebFactory _factory = new();
    private readonly HttpClient _admin;
    private readonly HttpClient _forge;
    private readonly string _root = TestPaths.NewTempDirectory("forge-hooks");

    public ForgeWebhookTests()
    {
        _admin = _factory.CreateAdminClient();
        _forge = _factory.CreateClient();
    }

    public void Dispose()
    {
        _admin.Dispose();
        _forge.Dispose();
        _factory.Dispose();
        TestPaths.DeleteDirectory(_root);
    }

    // ---------------------------------------------------------------- GitHub

    [Fact]
    public async Task GitHub_tag_created_push_builds_head_commit_and_its_redelivery_is_the_same_build()
    {
        var repo = await RegisterAsync(new() { ["provider"] = "github", ["name"] = GitHubName, ["cloneUrl"] = NowhereUrl() });
        var body = Fixture("github/push.tag-created.json");
        var deliveryId = Guid.NewGuid().ToString();

        using var first = await SendGitHubAsync(body, repo.Secret, "push", deliveryId);
        using var again = await SendGitHubAsync(body, repo.Secret, "push", deliveryId);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var id = await IdOfAsync(first);
        Assert.Equal(id, await IdOfAsync(again));
        var build = await BuildAsync(id);
        Assert.Equal("simple-tag", build.GetProperty("tag").GetString());
        Assert.Equal(GitHubSha, build.GetProperty("commit").GetString());
        Assert.Equal("queued", build.GetProperty("state").GetString());
        Assert.Equal([id], _factory.Dispatcher.Enqueued);

        // The payload names its GitHub App installation (5): the repository keeps it for the App's tokens.
        var repository = JsonDocument.Parse(await _admin.GetStringAsync($"/api/repositories/{repo.Id}")).RootElement;
        Assert.Equal(5, repository.GetProperty("installationId").GetInt64());

        var deliveries = await DeliveriesAsync(repo.Id);
        Assert.Equal(2, deliveries.Count);
        Assert.Equal("duplicate", deliveries[0].GetProperty("outcome").GetString());
        Assert.Equal($"duplicate of build {id}", deliveries[0].GetProperty("detail").GetString());
        Assert.Equal("built", deliveries[1].GetProperty("outcome").GetString());
        Assert.All(deliveries, d =>
        {
            Assert.Equal("github", d.GetProperty("provider").GetString());
            Assert.Equal("push", d.GetProperty("event").GetString());
            Assert.Equal(deliveryId, d.GetProperty("deliveryId").GetString());
            Assert.Equal(id, d.GetProperty("buildId").GetInt64());
        });
    }

    [Fact]
    public async Task GitHub_tag_deleted_push_cancels_the_queued_build_of_that_tag_and_queues_nothing()
    {
        var repo = await RegisterAsync(new() { ["provider"] = "github", ["name"] = GitHubName, ["cloneUrl"] = NowhereUrl() });
        using var created = await SendGitHubAsync(Fixture("github/push.tag-created.json"), repo.Secret, "push");
        var id = await IdOfAsync(created);

        using var deleted = await SendGitHubAsync(Fixture("github/push.tag-deleted.json"), repo.Secret, "push");

        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        var answer = JsonDocument.Parse(await deleted.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal([id], answer.GetProperty("cancelled").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal("cancelled", (await BuildAsync(id)).GetProperty("state").GetString());
        Assert.Equal([id], _factory.Dispatcher.Enqueued);
        Assert.Equal(1, await BuildRowsAsync());
        var delivery = (await DeliveriesAsync(repo.Id))[0];
        Assert.Equal("cancelled", delivery.GetProperty("outcome").GetString());
        Assert.Equal("simple-tag", delivery.GetProperty("tag").GetString());
        Assert.Equal($"tag simple-tag deleted; cancelled build {id}", delivery.GetProperty("detail").GetString());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("buildId").ValueKind);
    }

    [Fact]
    public async Task GitHub_delete_event_of_a_tag_without_unfinished_builds_is_recorded_as_cancelled_with_nothing_to_cancel()
    {
        var repo = await RegisterAsync(new() { ["provider"] = "github", ["name"] = GitHubName, ["cloneUrl"] = NowhereUrl() });

        using var response = await SendGitHubAsync(Fixture("github/delete.tag.json"), repo.Secret, "delete");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var delivery = Assert.Single(await DeliveriesAsync(repo.Id));
        Assert.Equal("cancelled", delivery.GetProperty("outcome").GetString());
        Assert.Equal("tag simple-tag deleted; no unfinished build to cancel", delivery.GetProperty("detail").GetString());
        Assert.Empty(_factory.Dispatcher.Enqueued);
    }

    [Fact]
    public async Task GitHub_branch_push_is_204_and_ignored_naming_the_branch_ref()
    {
        var repo = await RegisterAsync(new() { ["provider"] = "github", ["name"] = GitHubName, ["cloneUrl"] = NowhereUrl() });

        using var response = await SendGitHubAsync(Fixture("github/push.branch-created.json"), repo.Secret, "push");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var delivery = Assert.Single(await DeliveriesAsync(repo.Id));
        Assert.Equal("ignored", delivery.GetProperty("outcome").GetString());
        Assert.Contains("refs/heads/master", delivery.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await BuildRowsAsync());
        Assert.Empty(_factory.Dispatcher.Enqueued);
    }

    [Fact]
    public async Task GitHub_create_event_resolves_the_tag_on_the_repository_and_the_push_of_the_same_tag_is_the_same_build()
    {
        var git = await LocalRepositoryAsync("simple-tag", annotated: false);
        var repo = await RegisterAsync(new() { ["provider"] = "github", ["name"] = GitHubName, ["cloneUrl"] = git.CloneUrl });

        // create.tag.json unchanged: it names the tag only, so Builder resolves simple-tag on the file:// clone URL.
        using var create = await SendGitHubAsync(Fixture("github/create.tag.json"), repo.Secret, "create");

        Assert.Equal(HttpStatusCode.Accepted, create.StatusCode);
        var id = await IdOfAsync(create);
        var build = await BuildAsync(id);
        Assert.Equal("simple-tag", build.GetProperty("tag").GetString());
        Assert.Equal(git.CommitSha, build.GetProperty("commit").GetString());

        // The push GitHub sends with the create: a copy of push.tag-created.json with the SHAs rewritten to the local
        // repository's commit (the fixture's 6113728f... does not exist there); everything else as GitHub sent it.
        var push = Mutate("github/push.tag-created.json", json =>
        {
            json["after"] = git.CommitSha;
            json["head_commit"]!["id"] = git.CommitSha;
        });
        using var pushed = await SendGitHubAsync(push, repo.Secret, "push");

        Assert.Equal(HttpStatusCode.Accepted, pushed.StatusCode);
        Assert.Equal(id, await IdOfAsync(pushed));
        Assert.Equal([id], _factory.Dispatcher.Enqueued);
        Assert.Equal(1, await BuildRowsAsync());
        var deliveries = await DeliveriesAsync(repo.Id);
        Assert.Equal(["duplicate", "built"], deliveries.Select(d => d.GetProperty("outcome").GetString()));
        Assert.Equal(["push", "create"], deliveries.Select(d => d.GetProperty("event").GetString()));
        Assert.All(deliveries, d => Assert.Equal(git.CommitSha, d.GetProperty("commit").GetString()));
    }

    [Fact]
    public async Task GitHub_push_of_an_annotated_tag_builds_the_peeled_commit_not_the_tag_object()
    {
        var git = await LocalRepositoryAsync("simple-tag", annotated: true);
        Assert.NotEqual(git.CommitSha, git.TagObjectSha);
        var repo = await RegisterAsync(new() { ["provider"] = "github", ["name"] = GitHubName, ["cloneUrl"] = git.CloneUrl });

        // Built by hand (octokit has no annotated-tag push example): a copy of push.tag-created.json whose `after` is
        // the local tag object and `head_commit.id` its commit, as GitHub documents for annotated tags.
        var push = Mutate("github/push.tag-created.json", json =>
        {
            json["after"] = git.TagObjectSha;
            json["head_commit"]!["id"] = git.CommitSha;
        });
        using var response = await SendGitHubAsync(push, repo.Secret, "push");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var build = await BuildAsync(await IdOfAsync(response));
        Assert.Equal(git.CommitSha, build.GetProperty("commit").GetString());
        Assert.Equal("simple-tag", build.GetProperty("tag").GetString());
    }

    [Fact]
    public async Task GitHub_release_published_builds_only_for_a_release_triggered_repository_which_then_ignores_tag_pushes()
    {
        var git = await LocalRepositoryAsync("0.0.1", annotated: true);
        var repo = await RegisterAsync(new() { ["provider"] = "github", ["name"] = GitHubName, ["cloneUrl"] = git.CloneUrl });
        var release = Fixture("github/release.published.json");

        using var ignored = await SendGitHubAsync(release, repo.Secret, "release");

        Assert.Equal(HttpStatusCode.NoContent, ignored.StatusCode);
        var first = Assert.Single(await DeliveriesAsync(repo.Id));
        Assert.Equal("ignored", first.GetProperty("outcome").GetString());
        Assert.Contains("trigger 'tag'", first.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await BuildRowsAsync());

        using (var patch = await _admin.PatchAsJsonAsync($"/api/repositories/{repo.Id}", new { trigger = "release" }))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        using var built = await SendGitHubAsync(release, repo.Secret, "release");

        Assert.Equal(HttpStatusCode.Accepted, built.StatusCode);
        var id = await IdOfAsync(built);
        var build = await BuildAsync(id);
        Assert.Equal("0.0.1", build.GetProperty("tag").GetString());
        Assert.Equal(git.CommitSha, build.GetProperty("commit").GetString());

        // A push of the same tag (a copy of push.tag-created.json rewritten to ref refs/tags/0.0.1 and the local SHAs).
        var push = Mutate("github/push.tag-created.json", json =>
        {
            json["ref"] = "refs/tags/0.0.1";
            json["after"] = git.TagObjectSha;
            json["head_commit"]!["id"] = git.CommitSha;
        });
        using var pushed = await SendGitHubAsync(push, repo.Secret, "push");

        Assert.Equal(HttpStatusCode.NoContent, pushed.StatusCode);
        var last = (await DeliveriesAsync(repo.Id))[0];
        Assert.Equal("ignored", last.GetProperty("outcome").GetString());
        Assert.Contains("trigger 'release'", last.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal([id], _factory.Dispatcher.Enqueued);
        Assert.Equal(1, await BuildRowsAsync());
    }

    [Fact]
    public async Task GitHub_ping_is_200_and_recorded_as_pong()
    {
        var repo = await RegisterAsync(new() { ["provider"] = "github", ["name"] = "Octocoders/Hello-World", ["cloneUrl"] = NowhereUrl() });

        using var response = await SendGitHubAsync(Fixture("github/ping.json"), repo.Secret, "ping");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("pong", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var delivery = Assert.Single(await DeliveriesAsync(repo.Id));
        Assert.Equal("pong", delivery.GetProperty("outcome").GetString());
        Assert.Equal("ping", delivery.GetProperty("event").GetString());
        Assert.Equal(0, await BuildRowsAsync());
    }

    [Fact]
    public async Task The_same_name_on_two_instances_registers_twice_and_a_delivery_builds_for_the_repository_whose_secret_signed_it()
    {
        var enterprise = await RegisterAsync(new()
        {
            ["provider"] = "github",
            ["name"] = GitHubName,
            ["cloneUrl"] = NowhereUrl(),
            ["apiUrl"] = "https://ghe.example/api/v3",
        });
        var dotCom = await RegisterAsync(new() { ["provider"] = "github", ["name"] = GitHubName, ["cloneUrl"] = NowhereUrl() });

        using (var twice = await _admin.PostAsJsonAsync("/api/repositories", new { provider = "github", name = GitHubName, cloneUrl = NowhereUrl() }))
        {
            Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        }

        // Neither instance is the payload's (octocoders.github.io): the secret alone decides.
        using var response = await SendGitHubAsync(Fixture("github/push.tag-created.json"), dotCom.Secret, "push");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = await IdOfAsync(response);
        Assert.Equal(dotCom.Id, await BuildRepositoryIdAsync(id));
        Assert.Equal("built", Assert.Single(await DeliveriesAsync(dotCom.Id)).GetProperty("outcome").GetString());
        Assert.Empty(await DeliveriesAsync(enterprise.Id));
        Assert.Equal([id], _factory.Dispatcher.Enqueued);
    }

    // ---------------------------------------------------------------- GitLab

    [Fact]
    public async Task GitLab_tag_push_builds_checkout_sha_a_retry_is_the_same_build_and_a_deletion_cancels_it()
    {
        var repo = await RegisterAsync(new() { ["provider"] = "gitlab", ["name"] = GitLabName, ["cloneUrl"] = NowhereUrl() });
        var body = Fixture("gitlab/tag_push.json");
        var idempotencyKey = Guid.NewGuid().ToString();
        var eventUuid = Guid.NewGuid().ToString();

        using var first = await SendGitLabAsync(body, repo.Secret, eventUuid, idempotencyKey);
        // GitLab's retry keeps the Idempotency-Key; the other UUIDs are new per request.
        using var retry = await SendGitLabAsync(body, repo.Secret, Guid.NewGuid().ToString(), idempotencyKey);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var id = await IdOfAsync(first);
        Assert.Equal(id, await IdOfAsync(retry));
        var build = await BuildAsync(id);
        Assert.Equal("v1.0.0", build.GetProperty("tag").GetString());
        Assert.Equal(GitLabSha, build.GetProperty("commit").GetString());
        Assert.Equal([id], _factory.Dispatcher.Enqueued);

        // GitLab's doc has no deletion example; its data builder sends after = zeros and checkout_sha = null.
        var deletion = Mutate("gitlab/tag_push.json", json =>
        {
            json["before"] = GitLabSha;
            json["after"] = Zeros;
            json["checkout_sha"] = null;
        });
        using var deleted = await SendGitLabAsync(deletion, repo.Secret, Guid.NewGuid().ToString(), Guid.NewGuid().ToString());

        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        Assert.Equal("cancelled", (await BuildAsync(id)).GetProperty("state").GetString());
        Assert.Equal([id], _factory.Dispatcher.Enqueued);

        var deliveries = await DeliveriesAsync(repo.Id);
        Assert.Equal(["cancelled", "duplicate", "built"], deliveries.Select(d => d.GetProperty("outcome").GetString()));
        Assert.Equal($"duplicate of build {id}", deliveries[1].GetProperty("detail").GetString());
        Assert.Equal($"tag v1.0.0 deleted; cancelled build {id}", deliveries[0].GetProperty("detail").GetString());
        var recorded = deliveries[2];
        Assert.Equal("gitlab", recorded.GetProperty("provider").GetString());
        Assert.Equal("Tag Push Hook", recorded.GetProperty("event").GetString());
        Assert.Equal(eventUuid, recorded.GetProperty("deliveryId").GetString());
        Assert.Equal(idempotencyKey, recorded.GetProperty("idempotencyKey").GetString());
        Assert.Equal(idempotencyKey, deliveries[1].GetProperty("idempotencyKey").GetString());
    }

    [Fact]
    public async Task GitLab_wrong_token_and_unknown_project_get_the_same_401_and_both_are_recorded_as_refused()
    {
        var body = Fixture("gitlab/tag_push.json");

        // Before registration, the fixture's jsmith/example is an unknown project.
        using var unknown = await SendGitLabAsync(body, "some-token-0123456789", Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        var repo = await RegisterAsync(new() { ["provider"] = "gitlab", ["name"] = GitLabName, ["cloneUrl"] = NowhereUrl() });
        using var mismatch = await SendGitLabAsync(body, "some-token-0123456789", Guid.NewGuid().ToString(), Guid.NewGuid().ToString());

        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, mismatch.StatusCode);
        Assert.Equal(unknown.Content.Headers.ContentType?.ToString(), mismatch.Content.Headers.ContentType?.ToString());
        // The bodies are equal but for the per-request traceId that ASP.NET Core's problem details add.
        Assert.Equal(WithoutTraceId(await unknown.Content.ReadAsStringAsync()), WithoutTraceId(await mismatch.Content.ReadAsStringAsync()));
        Assert.DoesNotContain(GitLabName, await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var known = Assert.Single(await DeliveriesAsync(repo.Id));
        Assert.Equal("refused", known.GetProperty("outcome").GetString());
        Assert.Contains($"does not match the webhook secret of '{GitLabName}'", known.GetProperty("detail").GetString(), StringComparison.Ordinal);

        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var orphan = Assert.Single(await scope.ServiceProvider.GetRequiredService<BuilderDbContext>().WebhookDeliveries.Where(d => d.RepositoryId == null).ToListAsync());
            Assert.Equal("refused", orphan.Outcome);
            Assert.Equal("gitlab", orphan.Provider);
            Assert.Contains($"'{GitLabName}' is not registered", orphan.Detail, StringComparison.Ordinal);
        }

        var audit = JsonDocument.Parse(await _admin.GetStringAsync("/api/audit?action=webhook:refused")).RootElement.GetProperty("events");
        Assert.Equal(2, audit.GetArrayLength());
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("is not registered", StringComparison.Ordinal));
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("does not match", StringComparison.Ordinal));
        Assert.Equal(0, await BuildRowsAsync());
        Assert.Empty(_factory.Dispatcher.Enqueued);
    }

    // ---------------------------------------------------------------- Gitea

    [Fact]
    public async Task Gitea_branch_push_is_ignored_a_tag_push_builds_and_a_wrong_signature_is_401()
    {
        var repo = await RegisterAsync(new()
        {
            // The fixture's instance (localhost:3000) as the API URL: never contacted, push events carry their commit.
            ["provider"] = "gitea",
            ["name"] = GiteaName,
            ["cloneUrl"] = NowhereUrl(),
            ["apiUrl"] = "http://localhost:3000/api/v1",
        });

        using var branch = await SendGiteaAsync(Fixture("gitea/push.branch.json"), repo.Secret, "push");

        Assert.Equal(HttpStatusCode.NoContent, branch.StatusCode);
        var ignored = Assert.Single(await DeliveriesAsync(repo.Id));
        Assert.Equal("ignored", ignored.GetProperty("outcome").GetString());
        Assert.Contains("refs/heads/develop", ignored.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Gitea's docs have no tag-push example: a copy of the branch push with ref refs/tags/v1.0.0.
        var tagPush = Mutate("gitea/push.branch.json", json => json["ref"] = "refs/tags/v1.0.0");
        using var built = await SendGiteaAsync(tagPush, repo.Secret, "push");

        Assert.Equal(HttpStatusCode.Accepted, built.StatusCode);
        var id = await IdOfAsync(built);
        var build = await BuildAsync(id);
        Assert.Equal("v1.0.0", build.GetProperty("tag").GetString());
        Assert.Equal(GiteaSha, build.GetProperty("commit").GetString());
        Assert.Equal([id], _factory.Dispatcher.Enqueued);
        var recorded = (await DeliveriesAsync(repo.Id))[0];
        Assert.Equal("gitea", recorded.GetProperty("provider").GetString());
        Assert.Equal("built", recorded.GetProperty("outcome").GetString());

        using var forged = await SendGiteaAsync(tagPush, "another-secret-0123456789", "push");

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Contains("X-Gitea-Signature", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("refused", (await DeliveriesAsync(repo.Id))[0].GetProperty("outcome").GetString());
        Assert.Equal(1, await BuildRowsAsync());
    }

    // ---------------------------------------------------------------- manual trigger

    [Fact]
    public async Task Manual_trigger_builds_the_peeled_commit_once_and_refuses_unknown_or_malformed_tags()
    {
        var git = await LocalRepositoryAsync("v1.0.0", annotated: true);
        var repo = await RegisterAsync(new() { ["provider"] = "github", ["name"] = "acme/billing", ["cloneUrl"] = git.CloneUrl });
        var path = $"/api/repositories/{repo.Id}/builds";

        using var first = await _admin.PostAsJsonAsync(path, new { tag = "v1.0.0" });
        using var second = await _admin.PostAsJsonAsync(path, new { tag = "v1.0.0" });

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var created = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement;
        var again = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement;
        var id = created.GetProperty("id").GetInt64();
        Assert.True(created.GetProperty("created").GetBoolean());
        Assert.False(again.GetProperty("created").GetBoolean());
        Assert.Equal(id, again.GetProperty("id").GetInt64());
        Assert.Equal(git.CommitSha, created.GetProperty("commit").GetString());
        var build = await BuildAsync(id);
        Assert.Equal(git.CommitSha, build.GetProperty("commit").GetString());
        Assert.Equal("v1.0.0", build.GetProperty("tag").GetString());
        Assert.Equal([id], _factory.Dispatcher.Enqueued);

        using var unknown = await _admin.PostAsJsonAsync(path, new { tag = "v9.9.9" });
        using var refs = await _admin.PostAsJsonAsync(path, new { tag = "refs/tags/x" });
        using var missing = await _admin.PostAsJsonAsync(path, new { });

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("'v9.9.9'", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, refs.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal(1, await BuildRowsAsync());
    }

    // ---------------------------------------------------------------- helpers

    private sealed record Registered(long Id, string Secret);

    /// <summary>The bytes of a fixture, exactly as stored.</summary>
    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Webhooks", name));

    /// <summary>A copy of a fixture with some fields rewritten (re-serialized: only for tests that say why).</summary>
    private static byte[] Mutate(string name, Action<JsonObject> change)
    {
        var json = JsonNode.Parse(Fixture(name))!.AsObject();
        change(json);
        return Encoding.UTF8.GetBytes(json.ToJsonString());
    }

    /// <summary>A file:// URL where no repository is: these tests' push events carry their commit, so it is never read.</summary>
    private string NowhereUrl() => new Uri(Path.Combine(_root, "nowhere-" + Guid.NewGuid().ToString("N"), "repo.git")).AbsoluteUri;

    private Task<TaggedRepository> LocalRepositoryAsync(string tag, bool annotated) =>
        GitRepositories.CreateAsync(Path.Combine(_root, "git-" + Guid.NewGuid().ToString("N")),
            new Dictionary<string, string> { ["README.md"] = "hello\n" }, tag, annotated);

    private async Task<Registered> RegisterAsync(Dictionary<string, object?> body)
    {
        using var response = await _admin.PostAsJsonAsync("/api/repositories", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"register: {(int)response.StatusCode} {text}");
        var json = JsonDocument.Parse(text).RootElement;
        return new Registered(json.GetProperty("id").GetInt64(), json.GetProperty("webhookSecret").GetString()!);
    }

    private static string Hmac(string secret, byte[] body) => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private async Task<HttpResponseMessage> SendGitHubAsync(byte[] body, string secret, string gitHubEvent, string? deliveryId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/github") { Content = Json(body) };
        request.Headers.Add("X-GitHub-Event", gitHubEvent);
        request.Headers.Add("X-GitHub-Delivery", deliveryId ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Hmac(secret, body));
        request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/044aadd");
        return await _forge.SendAsync(request);
    }

    private async Task<HttpResponseMessage> SendGitLabAsync(byte[] body, string token, string eventUuid, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/gitlab") { Content = Json(body) };
        request.Headers.Add("X-Gitlab-Event", "Tag Push Hook");
        request.Headers.Add("X-Gitlab-Token", token);
        request.Headers.Add("X-Gitlab-Event-UUID", eventUuid);
        request.Headers.Add("X-Gitlab-Webhook-UUID", Guid.NewGuid().ToString());
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        request.Headers.UserAgent.ParseAdd("GitLab/17.0.0");
        return await _forge.SendAsync(request);
    }

    private async Task<HttpResponseMessage> SendGiteaAsync(byte[] body, string secret, string giteaEvent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/gitea") { Content = Json(body) };
        request.Headers.Add("X-Gitea-Event", giteaEvent);
        request.Headers.Add("X-Gitea-Delivery", Guid.NewGuid().ToString());
        request.Headers.Add("X-Gitea-Signature", Hmac(secret, body));
        return await _forge.SendAsync(request);
    }

    private static async Task<long> IdOfAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetInt64();
    }

    private async Task<JsonElement> BuildAsync(long id) => JsonDocument.Parse(await _admin.GetStringAsync($"/api/builds/{id}")).RootElement;

    private async Task<List<JsonElement>> DeliveriesAsync(long repositoryId) =>
        JsonDocument.Parse(await _admin.GetStringAsync($"/api/repositories/{repositoryId}/deliveries")).RootElement.EnumerateArray().ToList();

    private async Task<int> BuildRowsAsync()
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<BuilderDbContext>().Builds.CountAsync();
    }

    private async Task<long> BuildRepositoryIdAsync(long buildId)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<BuilderDbContext>().Builds.Where(b => b.Id == buildId).Select(b => b.RepositoryId).SingleAsync();
    }

    private static string WithoutTraceId(string problem)
    {
        var json = JsonNode.Parse(problem)!.AsObject();
        json.Remove("traceId");
        return json.ToJsonString();
    }
}
