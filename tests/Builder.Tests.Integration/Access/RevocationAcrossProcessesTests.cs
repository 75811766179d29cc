using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;
using Xunit.Abstractions;
using static Builder.Tests.Integration.Access.AccessClientHelpers;
using static Builder.Tests.Integration.Access.TrustedPublishingHelpers;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// Production mode: two web processes (each with its own data directory) on one fresh PostgreSQL database, as behind a
/// load balancer. A token revoked through one is refused by the other from its next request on (PostgreSQL NOTIFY), and
/// a secret one encrypted the other decrypts (the Data Protection key ring lives in the database), and a CI job's ID token
/// is exchanged once across both (its jti is kept in the database) for a token both honour.
/// </summary>
public sealed class RevocationAcrossProcessesTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("revocation");
    private PostgresDatabase _database = null!;
    private LocalOidcProvider _gitlab = null!;
    private BuilderProcess _a = null!;
    private BuilderProcess _b = null!;
    private HttpClient _httpA = null!;
    private HttpClient _httpB = null!;

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        _gitlab = await LocalOidcProvider.StartAsync("gitlab");
        _a = await BuilderProcess.StartWebAsync(Production("a"));
        _b = await BuilderProcess.StartWebAsync(Production("b"));
        _httpA = new HttpClient { BaseAddress = new Uri(_a.BaseUrl!), Timeout = TimeSpan.FromSeconds(60) };
        _httpB = new HttpClient { BaseAddress = new Uri(_b.BaseUrl!), Timeout = TimeSpan.FromSeconds(60) };
    }

    public void Dispose()
    {
        _httpA?.Dispose();
        _httpB?.Dispose();
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _database.DisposeAsync();
        await _gitlab.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    [Fact]
    public async Task A_token_revoked_on_one_process_is_refused_by_the_other_within_two_seconds()
    {
        await PublishAsync(_httpA, Distributions.Wheel(Dir(_root, "dist"), "acme-sdk", "1.0.0"), "acme-sdk", "1.0.0");
        var token = await CreateTokenAsync(_httpA, new { name = "ci-reader", scopes = new[] { "read" }, projects = new[] { "acme-*" } });
        var credentials = TokenBasic(token.Secret);
        // B learns of the upload through NOTIFY too; then it has verified the token and keeps it for up to a minute.
        var warm = await PollAsync(() => GetAsync(_httpB, "/simple/acme-sdk/", credentials), r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(10));
        Assert.True(warm.Value.Status == HttpStatusCode.OK, $"B answers {warm.Value.Status} {warm.Value.Reason}");
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_httpB, "/simple/acme-sdk/", credentials)).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_httpA, "/simple/acme-sdk/", credentials)).Status);

        await RevokeTokenAsync(_httpA, token.Id);
        var sinceRevoked = Stopwatch.StartNew();
        var onA = await GetAsync(_httpA, "/simple/acme-sdk/", credentials);
        var onB = await PollAsync(() => GetAsync(_httpB, "/simple/acme-sdk/", credentials), r => r.Status != HttpStatusCode.OK,
            TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(5));
        var delay = sinceRevoked.Elapsed;
        output.WriteLine($"B refused the revoked token {delay.TotalMilliseconds:0} ms after DELETE returned on A; B served it {onB.Attempts - 1} more time(s) before that.");

        Assert.Equal(HttpStatusCode.Unauthorized, onA.Status);
        Assert.StartsWith("token revoked on ", onA.Reason, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, onB.Value.Status);
        Assert.StartsWith("token revoked on ", onB.Value.Reason, StringComparison.Ordinal);
        Assert.True(delay < TimeSpan.FromSeconds(2), $"B served the revoked token for {delay} ({onB.Attempts - 1} requests)");
        // And it stays refused, on both.
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(_httpB, "/simple/", credentials)).Status);
        Assert.Equal(1, await _database.ScalarAsync($"SELECT COUNT(*) FROM builder_audit WHERE \"Action\" = 'token:revoked' AND \"Target\" = 'token:{token.Id}'"));
    }

    [Fact]
    public async Task A_password_changed_on_one_process_ends_the_persons_web_session_on_the_other_within_two_seconds()
    {
        const string password = "dora-password-1";
        using (var created = await _httpA.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/people")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { userName = "dora", password, roles = new[] { new { role = "reader" } } }),
            Headers = { Authorization = BuilderInstance.AdminAuthorization },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // Dora signs in to the web UI on B, which then keeps her session's principal cached.
        var jar = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = jar, AllowAutoRedirect = false }) { BaseAddress = _httpB.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var form = await browser.GetStringAsync("/sign-in");
        using (var signedIn = await browser.PostAsync("/sign-in", new FormUrlEncodedContent(
            [new("userName", "dora"), new("password", password), new("__csrf", Ui.UiClient.AntiforgeryToken(form))])))
        {
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        }

        var session = jar.GetCookies(_httpB.BaseAddress!)["builder_session"]!.Value;
        async Task<HttpStatusCode> WhoAmIOnBAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/whoami") { Headers = { { "Cookie", "builder_session=" + session } } };
            using var answer = await _httpB.SendAsync(request);
            return answer.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await WhoAmIOnBAsync());
        Assert.Equal(HttpStatusCode.OK, await WhoAmIOnBAsync());

        using (var changed = await _httpA.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "/api/people/dora")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { password = "dora-password-2" }),
            Headers = { Authorization = BuilderInstance.AdminAuthorization },
        }))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        var sinceChanged = Stopwatch.StartNew();
        var onB = await PollAsync(WhoAmIOnBAsync, status => status != HttpStatusCode.OK, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(5));
        var delay = sinceChanged.Elapsed;
        output.WriteLine($"B refused the session {delay.TotalMilliseconds:0} ms after PATCH returned on A; B served it {onB.Attempts - 1} more time(s) before that.");
        Assert.Equal(HttpStatusCode.Unauthorized, onB.Value);
        Assert.True(delay < TimeSpan.FromSeconds(2), $"B served the session for {delay} ({onB.Attempts - 1} requests)");
        Assert.Equal(1, await _database.ScalarAsync("SELECT COUNT(*) FROM builder_sessions WHERE \"EndedAt\" IS NOT NULL"));
    }

    [Fact]
    public async Task A_webhook_secret_encrypted_by_one_process_verifies_a_delivery_to_the_other()
    {
        var onA = new BuilderClient(BuilderInstance.AdminHttp(_a.BaseUrl!), BuilderInstance.AdminToken);
        var onB = new BuilderClient(BuilderInstance.AdminHttp(_b.BaseUrl!), BuilderInstance.AdminToken);
        var repository = await onA.RegisterAsync("acme/secret-keeper", "https://git.example.invalid/acme/secret-keeper.git");
        var payload = BuilderClient.PushPayload(repository.Name, "refs/heads/main", new string('0', 40), new string('a', 40));

        using var ping = await onB.SendWebhookAsync(payload, repository.WebhookSecret, gitHubEvent: "ping");
        using var wrong = await onB.SendWebhookAsync(payload, "not-the-webhook-secret-at-all", gitHubEvent: "ping");
        using var unknown = await onB.SendWebhookAsync(
            BuilderClient.PushPayload("acme/unregistered", "refs/heads/main", new string('0', 40), new string('a', 40)), repository.WebhookSecret, gitHubEvent: "ping");

        var pong = await ping.Content.ReadAsStringAsync();
        Assert.True(ping.StatusCode == HttpStatusCode.OK, $"B: {(int)ping.StatusCode} {pong}\n{_b.Output}");
        Assert.Contains("pong: the webhook secret matches", pong, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(Detail(await wrong.Content.ReadAsStringAsync()), Detail(await unknown.Content.ReadAsStringAsync()));
        // The secret is stored encrypted: its plain text is nowhere in the repository's row, and one key ring serves both.
        Assert.Equal(0, await _database.ScalarAsync(
            $"SELECT COUNT(*) FROM builder_repositories r WHERE strpos(CAST(r AS text), '{repository.WebhookSecret}') > 0"));
        Assert.Equal(1, await _database.ScalarAsync("SELECT COUNT(*) FROM builder_repositories"));
        Assert.True(await _database.ScalarAsync("SELECT COUNT(*) FROM builder_data_protection_keys") >= 1);
    }

    [Fact]
    public async Task An_id_token_is_exchanged_once_across_both_processes_and_the_minted_token_works_on_either_until_its_publisher_goes()
    {
        await PublishAsync(_httpA, Distributions.Wheel(Dir(_root, "dist"), "acme-app", "1.0.0"), "acme-app", "1.0.0");
        var publisher = await CreatePublisherAsync(_httpA, AppReader(_gitlab));
        var idToken = _gitlab.Mint(_gitlab.GitLabClaims());

        var minted = await MintAsync(_httpA, idToken);
        var replayedOnB = await ExchangeAsync(_httpB, idToken);
        var onB = await PollAsync(() => GetAsync(_httpB, "/simple/acme-app/", minted.Basic), r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(10));

        Assert.True(replayedOnB.Status == HttpStatusCode.Unauthorized, $"B: {replayedOnB}");
        Assert.StartsWith("already used: ", replayedOnB.Detail, StringComparison.Ordinal);
        Assert.True(onB.Value.Status == HttpStatusCode.OK, $"B answers the token minted on A with {onB.Value.Status} {onB.Value.Reason}");
        Assert.Single(Links(onB.Value.Body));

        // The same fresh ID token sent to both at once, five times: each time exactly one of them mints.
        for (var round = 0; round < 5; round++)
        {
            var raced = _gitlab.Mint(_gitlab.GitLabClaims());
            var answers = await Task.WhenAll(ExchangeAsync(_httpA, raced), ExchangeAsync(_httpB, raced));
            Assert.True(answers.Count(a => a.Status == HttpStatusCode.OK) == 1, $"round {round}: A {answers[0]}, B {answers[1]}");
            var loser = Assert.Single(answers, a => a.Status != HttpStatusCode.OK);
            Assert.Equal(HttpStatusCode.Unauthorized, loser.Status);
            Assert.StartsWith("already used: ", loser.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(6, await _database.ScalarAsync("SELECT COUNT(*) FROM builder_audit WHERE \"Action\" = 'oidc:minted'"));
        Assert.Equal(6, await _database.ScalarAsync("SELECT COUNT(*) FROM builder_audit WHERE \"Action\" = 'oidc:refused'"));

        // The publisher deleted through B: A refuses the token it minted from its next request on.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_httpA, "/simple/acme-app/", minted.Basic)).Status);
        var deleted = await SendAsync(_httpB, HttpMethod.Delete, $"{PublishersRoute}/{publisher}", BuilderInstance.AdminAuthorization);
        Assert.True(deleted.Status == HttpStatusCode.OK, deleted.ToString());
        Assert.Equal(6, deleted.Json.GetProperty("revokedTokens").GetInt32());
        var sinceDeleted = Stopwatch.StartNew();
        var onA = await PollAsync(() => GetAsync(_httpA, "/simple/acme-app/", minted.Basic), r => r.Status != HttpStatusCode.OK,
            TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(5));
        output.WriteLine($"A refused the token {sinceDeleted.ElapsedMilliseconds} ms after its publisher was deleted on B.");
        Assert.Equal(HttpStatusCode.Unauthorized, onA.Value.Status);
        Assert.StartsWith("token revoked on ", onA.Value.Reason, StringComparison.Ordinal);
        Assert.True(sinceDeleted.Elapsed < TimeSpan.FromSeconds(2), $"A served the token for {sinceDeleted.Elapsed} ({onA.Attempts - 1} requests)");
    }

    private Dictionary<string, string> Production(string name) => ProcessSettings(
        new Dictionary<string, string>(BuilderInstance.Production(Path.Combine(_root, name), _database.ConnectionString)) { ["Builder__Access__FailedAuthLimit"] = "1000" },
        _gitlab);

    private static string? Detail(string problem) => JsonDocument.Parse(problem).RootElement.GetProperty("detail").GetString();
}
