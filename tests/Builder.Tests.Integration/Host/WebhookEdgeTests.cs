using System.Net;
using System.Text.Json;
using Builder.Data;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Host;

public sealed class WebhookEdgeTests : IDisposable
{
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";
    private readonly BuilderWebFactory _factory;
    private readonly BuilderClient _client;

    public WebhookEdgeTests()
    {
        _factory = new BuilderWebFactory();
        _client = new BuilderClient(_factory.CreateClient(), BuilderInstance.AdminToken);
    }

    public void Dispose() => _factory.Dispose();

    private async Task<int> BuildRowsAsync()
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<BuilderDbContext>().Builds.CountAsync();
    }

    private static string TagPush(string repo, string tag = "v1.0.0", string sha = Sha) =>
        BuilderClient.PushPayload(repo, "refs/tags/" + tag, new string('0', 40), sha);

    [Fact]
    public async Task A_signed_tag_push_records_a_build_enqueues_its_id_and_answers_202_with_its_url()
    {
        var repo = await _client.RegisterAsync("acme/billing", "https://git.example.invalid/acme/billing.git");

        using var response = await _client.SendWebhookAsync(TagPush(repo.Name), repo.WebhookSecret);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var id = json.GetProperty("id").GetInt64();
        Assert.EndsWith($"/api/builds/{id}", json.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.Equal([id], _factory.Dispatcher.Enqueued);
        var build = await _client.GetBuildAsync(id);
        Assert.Equal("queued", build.State);
        Assert.Equal("v1.0.0", build.Json.GetProperty("tag").GetString());
        Assert.Equal(Sha, build.Json.GetProperty("commit").GetString());
    }

    [Fact]
    public async Task A_forged_signature_is_401_and_records_nothing()
    {
        var repo = await _client.RegisterAsync("acme/billing", "https://git.example.invalid/acme/billing.git");

        using var forged = await _client.SendWebhookAsync(TagPush(repo.Name), "a-different-secret-entirely");
        using var missing = await _client.SendWebhookAsync(TagPush(repo.Name), secret: null);
        using var garbage = await _client.SendWebhookAsync(TagPush(repo.Name), secret: null, signature: "sha256=zz");

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);
        Assert.Contains("X-Hub-Signature-256", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await BuildRowsAsync());
        Assert.Empty(_factory.Dispatcher.Enqueued);
    }

    [Fact]
    public async Task A_signature_over_other_bytes_is_401()
    {
        var repo = await _client.RegisterAsync("acme/billing", "https://git.example.invalid/acme/billing.git");
        var signedFor = Builder.Core.Webhooks.WebhookSignature.Compute(repo.WebhookSecret, System.Text.Encoding.UTF8.GetBytes(TagPush(repo.Name, "v1.0.0")));

        using var response = await _client.SendWebhookAsync(TagPush(repo.Name, "v9.9.9"), secret: null, signature: signedFor);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await BuildRowsAsync());
    }

    [Fact]
    public async Task An_unknown_repository_gets_the_same_401_as_a_bad_signature_and_the_audit_log_says_which()
    {
        var repo = await _client.RegisterAsync("acme/billing", "https://git.example.invalid/acme/billing.git");

        using var unknown = await _client.SendWebhookAsync(TagPush("nobody/unknown"), "whatever-secret-1234");
        using var forged = await _client.SendWebhookAsync(TagPush(repo.Name), "whatever-secret-1234");

        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        var unknownProblem = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement;
        var forgedProblem = JsonDocument.Parse(await forged.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(forgedProblem.GetProperty("detail").GetString(), unknownProblem.GetProperty("detail").GetString());
        Assert.DoesNotContain("nobody/unknown", unknownProblem.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(0, await BuildRowsAsync());

        await using var scope = _factory.Services.CreateAsyncScope();
        var refusals = await scope.ServiceProvider.GetRequiredService<BuilderDbContext>().Audit
            .Where(a => a.Action == "webhook:refused").OrderBy(a => a.Id).Select(a => a.Detail).ToListAsync();
        Assert.Equal(2, refusals.Count);
        Assert.Contains("'nobody/unknown' is not registered", refusals[0], StringComparison.Ordinal);
        Assert.Contains("does not match the webhook secret of 'acme/billing'", refusals[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1, 2]")]
    [InlineData("{\"ref\": \"refs/tags/v1\"}")]
    public async Task Malformed_payloads_are_400(string body)
    {
        using var response = await _client.SendWebhookAsync(body, "whatever-secret-1234");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await BuildRowsAsync());
    }

    [Fact]
    public async Task Branch_pushes_tag_deletions_and_other_events_queue_nothing()
    {
        var repo = await _client.RegisterAsync("acme/billing", "https://git.example.invalid/acme/billing.git");

        using var branch = await _client.SendWebhookAsync(BuilderClient.PushPayload(repo.Name, "refs/heads/main", new string('0', 40), Sha), repo.WebhookSecret);
        using var deletion = await _client.SendWebhookAsync(BuilderClient.PushPayload(repo.Name, "refs/tags/v1.0.0", Sha, new string('0', 40), deleted: true), repo.WebhookSecret);
        using var issue = await _client.SendWebhookAsync(TagPush(repo.Name), repo.WebhookSecret, gitHubEvent: "issues");
        using var ping = await _client.SendWebhookAsync("{\"zen\":\"Keep it simple.\",\"repository\":{\"full_name\":\"acme/billing\"}}", repo.WebhookSecret, gitHubEvent: "ping");

        Assert.Equal(HttpStatusCode.NoContent, branch.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deletion.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, issue.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal(0, await BuildRowsAsync());
        Assert.Empty(_factory.Dispatcher.Enqueued);
    }

    [Fact]
    public async Task The_same_tag_and_commit_delivered_twice_is_one_build()
    {
        var repo = await _client.RegisterAsync("acme/billing", "https://git.example.invalid/acme/billing.git");

        using var first = await _client.SendWebhookAsync(TagPush(repo.Name), repo.WebhookSecret);
        using var second = await _client.SendWebhookAsync(TagPush(repo.Name), repo.WebhookSecret);
        using var otherCommit = await _client.SendWebhookAsync(TagPush(repo.Name, sha: "fedcba9876543210fedcba9876543210fedcba98"), repo.WebhookSecret);

        var firstId = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        var secondId = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        var otherId = JsonDocument.Parse(await otherCommit.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(firstId, secondId);
        Assert.NotEqual(firstId, otherId);
        Assert.Equal(2, await BuildRowsAsync());
        Assert.Equal([firstId, otherId], _factory.Dispatcher.Enqueued);
    }

    private static string? Start(string? text) => text is { Length: > 200 } ? text[..200] + "…" : text;

    /// <summary>The embedded database's bytes on disk: the main file and its write-ahead log.</summary>
    private long DatabaseBytes() =>
        new[] { "builder.db", "builder.db-wal" }.Select(name => new FileInfo(Path.Combine(_factory.DataDir, name))).Where(f => f.Exists).Sum(f => f.Length);

    [Fact]
    public async Task Deliveries_store_and_log_a_bounded_amount_whatever_their_payload_carries()
    {
        const int Bound = 4000;
        var repo = await _client.RegisterAsync("acme/billing", "https://git.example.invalid/acme/billing.git");
        var before = DatabaseBytes();
        // Refused: about 20 MB of payload each (under GitHub's 25 MB), a tag under a wrong signature (the payload names
        // it twice), an unsigned repository name (named four times).
        var forgedPayload = TagPush(repo.Name, "v1-" + new string('x', 10 * 1024 * 1024));
        var unknownPayload = TagPush("acme/" + new string('x', 5 * 1024 * 1024));
        Assert.All(new[] { forgedPayload, unknownPayload }, p => Assert.InRange(p.Length, 20 * 1024 * 1024, 25 * 1024 * 1024));
        using var forged = await _client.SendWebhookAsync(forgedPayload, "a-different-secret-entirely");
        using var unknown = await _client.SendWebhookAsync(unknownPayload, secret: null);
        // Signed, but with a 1 MB tag, or a commit that is not a SHA.
        using var longTag = await _client.SendWebhookAsync(TagPush(repo.Name, "v1." + new string('9', 1024 * 1024)), repo.WebhookSecret);
        using var notASha = await _client.SendWebhookAsync(TagPush(repo.Name, sha: new string('z', 100_000)), repo.WebhookSecret);

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, longTag.StatusCode);
        Assert.Contains("the tag name is 1048579 characters long", await longTag.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, notASha.StatusCode);
        Assert.Contains("is not a commit SHA", await notASha.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await BuildRowsAsync());
        Assert.Empty(_factory.Dispatcher.Enqueued);

        var grown = DatabaseBytes() - before;
        Assert.True(grown < 1024 * 1024, $"the database grew by {grown} bytes for four deliveries");
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            var deliveries = await db.WebhookDeliveries.AsNoTracking().ToListAsync();
            Assert.Equal(4, deliveries.Count);
            Assert.All(deliveries, d => Assert.True(
                new[] { d.Event, d.DeliveryId, d.RepositoryName, d.Tag, d.CommitSha, d.Detail }.All(f => f is null or { Length: <= Bound }), $"delivery {d.Id}: {Start(d.Detail)}"));
            // A refused delivery keeps nothing of what its payload claims to build.
            Assert.All(deliveries.OrderBy(d => d.Id).Take(2), d => Assert.Equal(("refused", null, null), (d.Outcome, d.Tag, d.CommitSha)));
            var audit = await db.Audit.AsNoTracking().ToListAsync();
            Assert.All(audit, a => Assert.True(new[] { a.Target, a.Detail, a.Project }.All(f => f is null or { Length: <= Bound }), $"audit {a.Id}: {a.Action}"));
        }

        var lines = _factory.Logs.Entries.Select(e => e.Line).ToList();
        Assert.Contains(lines, l => l.Contains("Webhook from github refused", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.True(l.Length <= Bound, $"a log line of {l.Length} characters: {Start(l)}"));
    }
}
