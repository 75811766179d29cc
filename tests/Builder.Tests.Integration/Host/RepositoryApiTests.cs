using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Builder.Access;
using Builder.Core.Builds;
using Builder.Data;
using Builder.Pipeline;
using Builder.Tests.Integration.Docker;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Host;

public sealed class RepositoryApiTests : IDisposable
{
    private readonly BuilderWebFactory _factory = new();
    private readonly HttpClient _http;

    public RepositoryApiTests() => _http = _factory.CreateClient();

    public void Dispose() => _factory.Dispose();

    private async Task<HttpResponseMessage> PostAsync(object body, string? token = BuilderInstance.AdminToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/repositories") { Content = JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _http.SendAsync(request);
    }

    [Fact]
    public async Task Registering_needs_the_admin_token()
    {
        var body = new { provider = "github", name = "acme/billing", cloneUrl = "https://git.example.invalid/a.git" };

        using var none = await PostAsync(body, token: null);
        using var wrong = await PostAsync(body, token: "not-the-admin-token-at-all");
        using var list = await _http.GetAsync("/api/repositories");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal("Basic", none.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Registering_answers_201_with_a_generated_secret_and_lists_without_secrets()
    {
        using var created = await PostAsync(new { provider = "github", name = "acme/billing", cloneUrl = "https://git.example.invalid/a.git" });
        using var chosen = await PostAsync(new { provider = "gitlab", name = "group/sub/tools", cloneUrl = "https://gitlab.example.invalid/t.git", webhookSecret = "my-own-secret-of-20-chars" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.Matches("^[0-9a-f]{64}$", json.GetProperty("webhookSecret").GetString());
        Assert.EndsWith("/webhooks/github", json.GetProperty("webhookUrl").GetString(), StringComparison.Ordinal);
        Assert.Equal($"/api/repositories/{json.GetProperty("id").GetInt64()}", created.Headers.Location?.OriginalString);
        Assert.Equal("my-own-secret-of-20-chars", JsonDocument.Parse(await chosen.Content.ReadAsStringAsync()).RootElement.GetProperty("webhookSecret").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/repositories");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
        using var list = await _http.SendAsync(request);
        var text = await list.Content.ReadAsStringAsync();
        var names = JsonDocument.Parse(text).RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Equal(["acme/billing", "group/sub/tools"], names);
        Assert.DoesNotContain("my-own-secret-of-20-chars", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bitbucket", "acme/billing", "https://h.invalid/a.git", null, "provider")]
    [InlineData("github", "billing", "https://h.invalid/a.git", null, "name")]
    [InlineData("github", "acme/billing", "git@github.com:acme/billing.git", null, "cloneUrl")]
    [InlineData("github", "acme/billing", "ssh://git@h.invalid/a.git", null, "cloneUrl")]
    [InlineData("github", "acme/billing", "https://h.invalid/a.git", "short", "webhookSecret")]
    public async Task Bad_registrations_are_400_naming_the_field(string provider, string name, string cloneUrl, string? secret, string field)
    {
        using var response = await PostAsync(new { provider, name, cloneUrl, webhookSecret = secret });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<(HttpStatusCode Status, string? Detail)> SendJsonAsync(HttpMethod method, string path, string json)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, body.Length == 0 ? null : JsonDocument.Parse(body).RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : body);
    }

    [Fact]
    public async Task A_change_to_null_or_to_a_value_of_the_wrong_type_is_400_naming_the_field()
    {
        using var created = await PostAsync(new { provider = "github", name = "acme/billing", cloneUrl = "https://git.example.invalid/a.git" });
        var path = created.Headers.Location!.OriginalString;

        var cases = new (string Body, string Detail)[]
        {
            ("""{"trigger": null}""", "'trigger' must be 'tag' (a tag push builds, the default) or 'release' (a published GitHub release builds)"),
            ("""{"reportStatus": "yes"}""", "'reportStatus' has the wrong type: "),
            ("""{"relayProjects": "acme-*"}""", "'relayProjects' must be a list of strings"),
            ("""{"credentials": {"username": 5, "token": "t"}}""", "'credentials.username' must be a string"),
            ("""{"trigger": """, "the body is not valid JSON (line 1, byte 13): "),
        };
        foreach (var (body, detail) in cases)
        {
            var (status, answer) = await SendJsonAsync(HttpMethod.Patch, path, body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{body}: {(int)status} {answer}");
            Assert.StartsWith(detail, answer, StringComparison.Ordinal);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
        using var unchanged = await _http.SendAsync(request);
        Assert.Equal("tag", JsonDocument.Parse(await unchanged.Content.ReadAsStringAsync()).RootElement.GetProperty("trigger").GetString());
        Assert.Empty(_factory.Logs.Failures);
    }

    [Fact]
    public async Task A_GitHub_App_key_that_is_not_an_RSA_private_key_is_400_and_a_real_one_is_taken()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        using var ec = System.Security.Cryptography.ECDsa.Create();
        var cases = new (string Key, string Detail)[]
        {
            ("not a key", "'credentials.githubApp.privateKey' is not a PEM RSA private key"),
            ("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "'credentials.githubApp.privateKey' is PEM but not an RSA private key"),
            (rsa.ExportSubjectPublicKeyInfoPem(), "'credentials.githubApp.privateKey' is PEM but not an RSA private key"),
            (ec.ExportPkcs8PrivateKeyPem(), "'credentials.githubApp.privateKey' is PEM but not an RSA private key"),
        };
        var n = 0;
        foreach (var (key, detail) in cases)
        {
            using var response = await PostAsync(new { provider = "github", name = $"acme/app{n++}", cloneUrl = "https://git.example.invalid/a.git", credentials = new { githubApp = new { appId = 7, privateKey = key } } });
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{key[..Math.Min(10, key.Length)]}: {(int)response.StatusCode} {body}");
            Assert.StartsWith(detail, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain("AAAA", body, StringComparison.Ordinal);
        }

        using var taken = await PostAsync(new { provider = "github", name = "acme/app", cloneUrl = "https://git.example.invalid/a.git", credentials = new { githubApp = new { appId = 7, privateKey = rsa.ExportRSAPrivateKeyPem() } } });
        Assert.Equal(HttpStatusCode.Created, taken.StatusCode);
        Assert.Empty(_factory.Logs.Failures);
    }

    [Fact]
    public async Task Registering_the_same_name_twice_is_409()
    {
        var body = new { provider = "github", name = "acme/billing", cloneUrl = "https://git.example.invalid/a.git" };
        using var first = await PostAsync(body);
        using var second = await PostAsync(body);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
    }

    [Fact]
    public async Task Unknown_builds_and_projects_are_404_and_other_spellings_redirect()
    {
        using var admin = _factory.CreateAdminClient();
        using var build = await admin.GetAsync("/api/builds/999");
        using var log = await admin.GetAsync("/api/builds/999/log");
        using var project = await admin.GetAsync("/simple/no-such-project/");
        using var root = await admin.GetAsync("/simple/");
        var noRedirect = _factory.CreateAdminClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var spelled = await noRedirect.GetAsync("/simple/Acme_Billing/");
        using var noSlash = await noRedirect.GetAsync("/simple/acme-billing");

        Assert.Equal(HttpStatusCode.NotFound, build.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, log.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, project.StatusCode);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal("text/html", root.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.MovedPermanently, spelled.StatusCode);
        Assert.Equal("/simple/acme-billing/", spelled.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.MovedPermanently, noSlash.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, string Body)> AdminAsync(HttpClient http, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string? Detail(string body) => JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString();

    /// <summary>A GitHub create event of a tag (it names no commit, so the tag is resolved on the repository), signed.</summary>
    private static Task<HttpResponseMessage> CreateTagEventAsync(BuilderClient client, string repository, string secret) =>
        client.SendWebhookAsync($$$"""{"ref":"v1.0.0","ref_type":"tag","master_branch":"main","pusher_type":"user","repository":{"full_name":"{{{repository}}}"}}""", secret, gitHubEvent: "create");

    [Fact]
    public async Task Fields_too_long_with_control_characters_or_naming_a_metadata_address_are_400_naming_the_field()
    {
        var good = new Dictionary<string, object?> { ["provider"] = "github", ["name"] = "acme/billing", ["cloneUrl"] = "https://git.example.invalid/a.git" };
        Dictionary<string, object?> With(string key, object? value) => new(good) { [key] = value };
        var cases = new (Dictionary<string, object?> Body, string Detail)[]
        {
            (With("cloneUrl", "http://169.254.169.254/latest/meta-data/"), "'cloneUrl': 169.254.169.254 is a link-local address"),
            (With("cloneUrl", "http://2852039166/acme/billing.git"), "'cloneUrl': 169.254.169.254 is a link-local address"),
            (With("cloneUrl", "http://[fe80::1]/acme/billing.git"), "'cloneUrl': fe80::1 is a link-local address"),
            (With("cloneUrl", "http://Metadata.Google.Internal./computeMetadata/v1/"), "'cloneUrl': metadata.google.internal is a cloud metadata host name"),
            (With("apiUrl", "http://169.254.169.254/api/v3"), "'apiUrl': 169.254.169.254 is a link-local address"),
            (With("apiUrl", "http://metadata/api/v3"), "'apiUrl': metadata is a cloud metadata host name"),
            (With("cloneUrl", "https://git.example.invalid/" + new string('a', 2100) + ".git"), "'cloneUrl' is longer than 2048 characters"),
            (With("cloneUrl", "https://git.example.invalid/a\u0007b.git"), "'cloneUrl' has control characters"),
            (With("name", "acme/" + new string('b', 600)), "'name' is longer than 512 characters"),
            (With("name", "acme/bil\u001bling"), "'name' has control characters"),
            // NUL, which PostgreSQL cannot store, is refused for every JSON string as the body is read.
            (With("name", "acme/bil\u0000ling"), "'name' must not contain a NUL character"),
            (With("webhookSecret", new string('s', 5000)), "'webhookSecret' must be 16 to 1024 characters long, without control characters"),
            (With("credentials", new { username = "x-access-token", token = new string('t', 5000) }), "'credentials.token' is longer than 4096 characters"),
            (With("credentials", new { username = "x-access\ntoken", token = "a-token" }), "'credentials.username' has control characters"),
        };

        var answers = new List<string>();
        foreach (var (body, detail) in cases)
        {
            using var answer = await PostAsync(body);
            var text = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.BadRequest, $"{detail}: {(int)answer.StatusCode} {text[..Math.Min(300, text.Length)]}");
            Assert.StartsWith(detail, Detail(text), StringComparison.Ordinal);
        }

        // A registered repository is changed the same way: nothing of a refused change is kept.
        using (var created = await PostAsync(good))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var id = JsonDocument.Parse((await AdminAsync(_http, HttpMethod.Get, "/api/repositories")).Body).RootElement.EnumerateArray().Single().GetProperty("id").GetInt64();
        var changes = new (object Body, string Detail)[]
        {
            (new { cloneUrl = "http://169.254.169.254/acme/billing.git" }, "'cloneUrl': 169.254.169.254 is a link-local address"),
            (new { apiUrl = "http://[fe80::a9fe:a9fe]/api/v3" }, "'apiUrl': fe80::a9fe:a9fe is a link-local address"),
            (new { webhookSecret = new string('s', 1025) }, "'webhookSecret' must be 16 to 1024 characters long"),
            (new { credentials = new { username = "git", token = "line\nbreak" } }, "'credentials.token' has control characters"),
        };
        foreach (var (body, detail) in changes)
        {
            var (status, text) = await AdminAsync(_http, HttpMethod.Patch, $"/api/repositories/{id}", body);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.StartsWith(detail, Detail(text), StringComparison.Ordinal);
        }

        var shown = JsonDocument.Parse((await AdminAsync(_http, HttpMethod.Get, $"/api/repositories/{id}")).Body).RootElement;
        Assert.Equal("https://git.example.invalid/a.git", shown.GetProperty("cloneUrl").GetString());
        Assert.False(shown.GetProperty("hasCredentials").GetBoolean());
    }

    [Fact]
    public async Task With_allowed_hosts_only_those_register_and_every_forge_action_asks_again_before_it_reaches_a_host()
    {
        await using var talkative = await TalkativeGitHost.StartAsync();
        using var factory = new BuilderWebFactory
        {
            Settings = new()
            {
                ["Builder:Repositories:AllowedHosts:0"] = "git.example.invalid",
                ["Builder:Repositories:AllowedHosts:1"] = "*.forge.example.invalid",
                ["Builder:Forges:PollMilliseconds"] = "100",
            },
        };
        var http = factory.CreateClient();
        var client = new BuilderClient(http, BuilderInstance.AdminToken);
        const string NotAllowed = "is not in Builder:Repositories:AllowedHosts (git.example.invalid, *.forge.example.invalid)";

        var registrations = new List<(HttpStatusCode, string)>();
        foreach (var (cloneUrl, apiUrl) in new (string, string?)[]
        {
            (talkative.Url + "/err/origin.git", null),
            ("https://forge.example.invalid/acme/a.git", null),
            ("https://git.example.invalid/acme/a.git", "https://api.elsewhere.invalid/api/v3"),
            ("https://git.example.invalid/acme/a.git", null),
            ("https://eu.forge.example.invalid/acme/b.git", "https://eu.forge.example.invalid/api/v3"),
        })
        {
            var (status, body) = await AdminAsync(http, HttpMethod.Post, "/api/repositories", new { provider = "github", name = "acme/" + Guid.NewGuid().ToString("N")[..8], cloneUrl, apiUrl });
            registrations.Add((status, status == HttpStatusCode.Created ? "created" : Detail(body)!));
        }

        Assert.Equal(
            [
                (HttpStatusCode.BadRequest, "'cloneUrl': host 127.0.0.1 " + NotAllowed),
                (HttpStatusCode.BadRequest, "'cloneUrl': host forge.example.invalid " + NotAllowed),
                (HttpStatusCode.BadRequest, "'apiUrl': host api.elsewhere.invalid " + NotAllowed),
                (HttpStatusCode.Created, "created"),
                (HttpStatusCode.Created, "created"),
            ],
            registrations);

        // Repositories stored before the list was set (or whose name resolves elsewhere now): each action asks again.
        const string Secret = "webhook-secret-of-stored-repositories";
        var (internalBuild, metadataBuild) = await WithDbAsync(factory, async (db, services) =>
        {
            var secrets = services.GetRequiredService<RepositorySecrets>();
            var stored = new[]
            {
                new SourceRepository { Provider = "github", Name = "acme/internal", CloneUrl = talkative.Url + "/err/origin.git", ReportStatus = true, CreatedAt = DateTimeOffset.UtcNow },
                new SourceRepository { Provider = "github", Name = "acme/metadata", CloneUrl = "http://169.254.169.254/acme/metadata.git", CreatedAt = DateTimeOffset.UtcNow },
            };
            foreach (var repository in stored)
            {
                secrets.SetWebhookSecret(repository, Secret);
                db.Repositories.Add(repository);
            }

            await db.SaveChangesAsync();
            var builds = stored.Select(r => new Build { RepositoryId = r.Id, Tag = "v1.0.0", CommitSha = new string('a', 40), CreatedAt = DateTimeOffset.UtcNow }).ToArray();
            db.Builds.AddRange(builds);
            await db.SaveChangesAsync();
            db.ForgeReports.Add(new ForgeReport
            {
                BuildId = builds[0].Id,
                Target = ForgeReportTargets.Status("github"),
                State = "pending",
                Description = "queued",
                EventId = 1,
                CreatedAt = DateTimeOffset.UtcNow,
                DueAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
            return (builds[0], builds[1]);
        });

        foreach (var (build, refusal) in new[]
        {
            (internalBuild, "'cloneUrl': host 127.0.0.1 " + NotAllowed),
            (metadataBuild, "'cloneUrl': 169.254.169.254 is a link-local address"),
        })
        {
            var name = build.RepositoryId == internalBuild.RepositoryId ? "acme/internal" : "acme/metadata";
            var trigger = await AdminAsync(http, HttpMethod.Post, $"/api/repositories/{build.RepositoryId}/builds", new { tag = "v1.0.0" });
            Assert.Equal(HttpStatusCode.BadGateway, trigger.Status);
            Assert.Contains(refusal, Detail(trigger.Body), StringComparison.Ordinal);

            using var created = await CreateTagEventAsync(client, name, Secret);
            Assert.Equal(HttpStatusCode.BadGateway, created.StatusCode);
            Assert.Contains(refusal, await created.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            var clone = await WithDbAsync(factory, async (db, services) =>
            {
                var loaded = await db.Builds.Include(b => b.Repository).SingleAsync(b => b.Id == build.Id);
                var source = services.GetRequiredService<BuildSource>();
                return await Assert.ThrowsAsync<BuildStepException>(() => source.FetchAsync(loaded, Path.Combine(factory.DataDir, "clone-" + build.Id), new CollectingBuildLog(), CancellationToken.None));
            });
            Assert.StartsWith($"git: {name} is not read from a refused address: {refusal}", clone.Message, StringComparison.Ordinal);
        }

        // The forge reporter refuses the status of the stored repository's build for good, without calling its forge.
        var (report, _, _) = await Builder.Tests.Integration.Access.AccessClientHelpers.PollAsync(
            () => WithDbAsync(factory, (db, _) => db.ForgeReports.AsNoTracking().SingleAsync(r => r.BuildId == internalBuild.Id)),
            r => r.Outcome is not null,
            TimeSpan.FromSeconds(30));
        Assert.Equal(ForgeReportOutcomes.Refused, report.Outcome);
        Assert.Equal("the repository's address is refused: 'cloneUrl': host 127.0.0.1 " + NotAllowed, report.Detail);
        Assert.Equal(0, talkative.Requests);
    }

    [Fact]
    public async Task A_tag_that_cannot_be_read_is_502_saying_what_kind_of_answer_came_and_never_what_the_host_said()
    {
        await using var talkative = await TalkativeGitHost.StartAsync();
        var client = new BuilderClient(_http, BuilderInstance.AdminToken);
        var refusing = await client.RegisterAsync("acme/talkative", talkative.Url + "/err/origin.git");
        var page = await client.RegisterAsync("acme/page", talkative.Url + "/page/origin.git");

        var seen = new StringBuilder();
        foreach (var (repository, kind) in new[]
        {
            (refusing, "the host refused with a message of its own (not shown"),
            (page, "the host answered with a page that is not git's smart HTTP protocol"),
        })
        {
            var trigger = await AdminAsync(_http, HttpMethod.Post, $"/api/repositories/{repository.Id}/builds", new { tag = "v1.0.0" });
            using var created = await CreateTagEventAsync(client, repository.Name, repository.WebhookSecret);
            var createdBody = await created.Content.ReadAsStringAsync();
            var deliveries = await client.GetAsAdminAsync($"/api/repositories/{repository.Id}/deliveries");

            Assert.Equal(HttpStatusCode.BadGateway, trigger.Status);
            Assert.Contains(kind, Detail(trigger.Body), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.BadGateway, created.StatusCode);
            Assert.Contains(kind, Detail(createdBody), StringComparison.Ordinal);
            Assert.Contains(kind, deliveries, StringComparison.Ordinal);
            seen.Append(trigger.Body).Append(createdBody).Append(deliveries);
        }

        Assert.True(talkative.Requests >= 4, $"the host answered {talkative.Requests} requests");
        Assert.DoesNotContain(TalkativeGitHost.Marker, seen.ToString(), StringComparison.Ordinal);
    }

    private static async Task<T> WithDbAsync<T>(BuilderWebFactory factory, Func<BuilderDbContext, IServiceProvider, Task<T>> action)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<BuilderDbContext>(), scope.ServiceProvider);
    }
}
