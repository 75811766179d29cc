using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Builder.Tests.Integration.EndToEnd;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// A private repository on a git host that wants credentials (git's smart HTTP server behind Basic auth): Builder
/// clones it with the repository's write-only credentials, and no secret — clone token, webhook secret, API token,
/// person's password, admin token — appears in the server's log, the build log or any API answer.
/// </summary>
[DockerBuild]
public sealed class SecretsStayOutTests : IAsyncLifetime
{
    private const string CloneToken = "clone-token-Zx81-never-shown";
    private const string WebhookSecret = "webhook-secret-Qp47-never-shown";
    private const string PersonPassword = "person-password-Lm29-never-shown";

    private readonly string _root = TestPaths.NewTempDirectory("secrets-stay-out");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        TestPaths.DeleteDirectory(_root);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_private_repository_is_cloned_with_its_credentials_and_no_secret_is_logged_or_answered()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "repos", "pure"), PythonProjects.Pure("acme-private", "1.0.0"), "v1.0.0");
        await using var host = await GitHttpServer.StartAsync(Path.Combine(_root, "repos", "pure"), "git", CloneToken);
        var cloneUrl = host.Url + "/origin.git";

        await using var web = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(BuilderInstance.Embedded(Path.Combine(_root, "data")))
        {
            ["Builder__Build__Pythons__0"] = "cp311",
        });
        var client = BuilderInstance.Client(web);
        var answers = new StringBuilder();

        // Registered with credentials as their own field; a second repository with them in the URL, as users used to.
        using (var registered = await client.Http.PostAsJsonAsync("/api/repositories", new
        {
            provider = "github",
            name = "acme/private",
            cloneUrl,
            webhookSecret = WebhookSecret,
            credentials = new { username = "git", token = CloneToken },
            // The git host is not a forge API: no commit statuses (ForgeReportingTests cover them).
            reportStatus = false,
        }))
        {
            var body = await registered.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
            Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("hasCredentials").GetBoolean());
            // The webhook secret is shown once, at registration; the clone token never.
            Assert.DoesNotContain(CloneToken, body, StringComparison.Ordinal);
        }

        using (var inUrl = await client.Http.PostAsJsonAsync("/api/repositories", new
        {
            provider = "github",
            name = "acme/private-url",
            cloneUrl = new UriBuilder(cloneUrl) { UserName = "git", Password = CloneToken }.Uri.AbsoluteUri,
            reportStatus = false,
        }))
        {
            var body = await inUrl.Content.ReadAsStringAsync();
            answers.AppendLine(body);
            Assert.Equal(HttpStatusCode.Created, inUrl.StatusCode);
            Assert.Equal(cloneUrl, JsonDocument.Parse(body).RootElement.GetProperty("cloneUrl").GetString());
        }

        // A token and a person, used rightly and wrongly.
        using var created = await client.Http.PostAsJsonAsync("/api/tokens", new { name = "reader", scopes = new[] { "read" } });
        var tokenSecret = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
        using (var person = await client.Http.PostAsJsonAsync("/api/people", new { userName = "alice", password = PersonPassword, roles = new[] { new { role = "reader" } } }))
        {
            Assert.Equal(HttpStatusCode.Created, person.StatusCode);
        }

        using var anonymous = new HttpClient { BaseAddress = client.Http.BaseAddress };
        var attempts = 0;
        foreach (var (user, password, expected) in new[]
        {
            ("__token__", tokenSecret, HttpStatusCode.OK),
            ("__token__", tokenSecret[..^1] + (tokenSecret[^1] == 'a' ? 'b' : 'a'), HttpStatusCode.Unauthorized),
            ("alice", PersonPassword, HttpStatusCode.OK),
            ("alice", PersonPassword + "x", HttpStatusCode.Unauthorized),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/simple/");
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
            using var response = await anonymous.SendAsync(request);
            Assert.Equal(expected, response.StatusCode);
            answers.AppendLine(await response.Content.ReadAsStringAsync());
            attempts++;
        }

        Assert.Equal(4, attempts);

        // A forged webhook, then the real push: the build clones over HTTP with the stored credentials.
        var repository = new RegisteredRepository(0, "acme/private", WebhookSecret);
        using (var forged = await client.SendWebhookAsync(BuilderClient.PushPayload("acme/private", "refs/tags/v1.0.0", new string('0', 40), git.TagObjectSha), "not-the-secret-at-all"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
            answers.AppendLine(await forged.Content.ReadAsStringAsync());
        }

        var build = await client.WaitForBuildAsync(await client.PushTagAsync(repository, git));
        await ReleaseAssertions.AssertPublishedAsync(client, build, "acme-private", "1.0.0");

        // git asked without credentials first (401), then with the right ones; never with wrong ones.
        Assert.Contains(host.Requests, r => r.EndsWith("auth=none", StringComparison.Ordinal));
        Assert.Contains(host.Requests, r => r.Contains("git-upload-pack", StringComparison.Ordinal) && r.EndsWith("auth=ok", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Requests, r => r.EndsWith("auth=wrong", StringComparison.Ordinal));

        var log = await client.GetLogAsync(build.Id);
        Assert.Contains($"[git] cloning {cloneUrl}", log, StringComparison.Ordinal);
        answers.AppendLine(log);
        foreach (var path in new[] { "/api/repositories", "/api/repositories/1", "/api/repositories/2", "/api/tokens", "/api/people", "/api/audit?limit=1000", $"/api/builds/{build.Id}", "/api/whoami" })
        {
            answers.AppendLine(await client.GetAsAdminAsync(path));
        }

        // Give the process a moment to flush its console output, then read everything it wrote.
        await Task.Delay(500);
        var everything = answers + "\n" + web.Output;
        string[] secrets = [CloneToken, WebhookSecret, PersonPassword, tokenSecret, BuilderInstance.AdminToken];
        var leaked = secrets.Where(s => everything.Contains(s, StringComparison.Ordinal)).ToList();
        Assert.True(leaked.Count == 0, $"leaked: {string.Join(", ", leaked)}");
        // What was read is not nothing: the server logged the refusals, the audit log holds the events.
        Assert.Contains("refused", web.Output, StringComparison.Ordinal);
        Assert.Contains("webhook:refused", everything, StringComparison.Ordinal);
        Assert.Contains("person:login_failed", everything, StringComparison.Ordinal);
    }
}
