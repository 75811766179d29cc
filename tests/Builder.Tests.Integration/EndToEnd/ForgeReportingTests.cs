using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Builder.Data;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Forges;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>
/// One embedded Builder (one Python, cp311) reporting to a fake GitHub Enterprise Server and a fake GitLab
/// (<see cref="FakeForgeServer"/>) for eight repositories, each a scenario. Every tag is delivered when the
/// fixture starts, so the builds (a Docker build each) run side by side rather than one per test; each test then
/// waits for its own build and checks what the forge was told.
/// </summary>
public sealed class ForgeReportingFixture : IAsyncLifetime
{
    internal const long AppId = 4242;

    /// <summary>The fixture's <c>installation.id</c> (github/push.tag-created.json).</summary>
    internal const long InstallationId = 5;

    internal const string Tag = "v1.0.0";

    private static readonly string[] Final = ["sent", "refused", "gave-up", "superseded"];

    private readonly string _root = TestPaths.NewTempDirectory("forge-reporting");
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    // Secrets made at run time; none is committed.
    internal string GitHubToken { get; } = "ghp_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(18));

    internal string GitLabToken { get; } = "glpat-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    internal string BadToken { get; } = "ghp_bad" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    internal string InstallationToken { get; } = "ghs_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(18));

    internal string WebhookSecret { get; } = "webhook-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    internal FakeForgeServer Forge { get; private set; } = null!;

    internal GitHttpServer AppHost { get; private set; } = null!;

    internal BuilderProcess Web { get; private set; } = null!;

    internal BuilderClient Client { get; private set; } = null!;

    internal string DataDir => Path.Combine(_root, "data");

    internal Dictionary<string, Scenario> Scenarios { get; } = [];

    public async Task InitializeAsync()
    {
        Forge = await FakeForgeServer.StartAsync();
        Forge.AcceptToken(GitHubToken, "github");
        Forge.AcceptToken(GitLabToken, "gitlab");
        var (privateKey, publicKey) = ForgeTestKit.AppKey();
        Forge.App = (AppId, publicKey);
        Forge.InstallationToken = InstallationToken;

        var projects = new (string Key, string Provider, string Name, Dictionary<string, string> Files, bool Annotated)[]
        {
            ("lightweight", "github", "acme/lightweight", PythonProjects.Pure("acme-lightweight", "1.0.0"), false),
            ("annotated", "github", "acme/annotated", PythonProjects.Pure("acme-annotated", "1.0.0"), true),
            ("broken", "github", "acme/broken", PythonProjects.SyntaxError("acme-broken", "1.0.0"), false),
            ("assets", "github", "acme/assets", PythonProjects.Pure("acme-assets", "1.0.0"), false),
            ("flaky", "github", "acme/flaky", PythonProjects.Pure("acme-flaky", "1.0.0"), false),
            ("refused", "github", "acme/refused", PythonProjects.Pure("acme-refused", "1.0.0"), false),
            // The GitLab fixture's project.path_with_namespace.
            ("gitlab", "gitlab", "jsmith/example", PythonProjects.Pure("jsmith-example", "1.0.0"), false),
            ("app", "github", "acme/app", PythonProjects.Pure("acme-app", "1.0.0"), false),
        };
        var repositories = await Task.WhenAll(projects.Select(p => GitRepositories.CreateAsync(Path.Combine(_root, "repos", p.Key), p.Files, Tag, p.Annotated)));

        // The App's repository is private: its host takes only the installation token the fake GitHub mints.
        AppHost = await GitHttpServer.StartAsync(Path.Combine(_root, "repos", "app"), "x-access-token", InstallationToken);

        Web = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(BuilderInstance.Embedded(DataDir))
        {
            ["Builder__Build__Pythons__0"] = "cp311",
            ["Builder__Forges__PollMilliseconds"] = "100",
            ["Builder__PublicUrl"] = "http://builder.test/",
        });
        Client = BuilderInstance.Client(Web);

        foreach (var ((key, provider, name, _, _), git) in projects.Zip(repositories))
        {
            object credentials = key switch
            {
                "gitlab" => new { username = "builder", token = GitLabToken },
                "refused" => new { username = "x-access-token", token = BadToken },
                "app" => new { githubApp = new { appId = AppId, installationId = InstallationId, privateKey } },
                _ => new { username = "x-access-token", token = GitHubToken },
            };
            using var registered = await Client.Http.PostAsJsonAsync("/api/repositories", new
            {
                provider,
                name,
                cloneUrl = key == "app" ? AppHost.Url + "/origin.git" : git.CloneUrl,
                apiUrl = provider == "gitlab" ? Forge.GitLabApi.AbsoluteUri : Forge.GitHubApi.AbsoluteUri,
                webhookSecret = WebhookSecret,
                credentials,
                reportStatus = true,
                releaseAssets = key == "assets",
            });
            var body = await registered.Content.ReadAsStringAsync();
            Assert.True(registered.StatusCode == HttpStatusCode.Created, $"register {name}: {(int)registered.StatusCode} {body}");
            Scenarios[key] = new Scenario(name, git, 0, body);
        }

        // acme/flaky: the status endpoint answers 500 twice, then 429 with Retry-After; then it is well again.
        Forge.Fail("POST", $"/repos/acme/flaky/statuses/{Scenarios["flaky"].Git.CommitSha}",
            ForgeFault.GitHubServerError,
            ForgeFault.GitHubServerError,
            new ForgeFault(429, """{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest"}""", new Dictionary<string, string> { ["Retry-After"] = "2" }));
        // acme/assets: the first upload leaves a half asset in state "new" and answers 502.
        Forge.BreakUploads(1);

        // One delivery after another (milliseconds each); the builds then run side by side.
        try
        {
            foreach (var key in Scenarios.Keys.ToList())
            {
                Scenarios[key] = Scenarios[key] with { BuildId = await DeliverAsync(key, Scenarios[key]) };
            }
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException("a delivery failed; Builder's output:\n" + Web.Output, ex);
        }
    }

    public async Task DisposeAsync()
    {
        if (Web is not null)
        {
            await Web.DisposeAsync();
        }

        if (AppHost is not null)
        {
            await AppHost.DisposeAsync();
        }

        if (Forge is not null)
        {
            await Forge.DisposeAsync();
        }

        Console.WriteLine($"ForgeReportingFixture: {_clock.Elapsed.TotalSeconds:F0} s from start to disposal");
        TestPaths.DeleteDirectory(_root);
    }

    /// <summary>The forge's webhook for the scenario's tag: the forges' own example payloads, with what must match the local repository rewritten.</summary>
    private async Task<long> DeliverAsync(string key, Scenario scenario)
    {
        var git = scenario.Git;
        HttpResponseMessage response;
        if (key == "gitlab")
        {
            // GitLab's documented Tag Push Hook (gitlab/tag_push.json); only ref, after and checkout_sha are rewritten
            // (a lightweight tag: after == checkout_sha, as in the example). project.path_with_namespace is kept.
            var payload = Fixture("gitlab", "tag_push.json");
            payload["ref"] = "refs/tags/" + git.Tag;
            payload["after"] = git.TagObjectSha;
            payload["checkout_sha"] = git.CommitSha;
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/gitlab")
            {
                Content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Gitlab-Event", "Tag Push Hook");
            request.Headers.Add("X-Gitlab-Token", WebhookSecret);
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            response = await Client.Http.SendAsync(request);
        }
        else
        {
            // GitHub's example tag push (github/push.tag-created.json, GitHub Enterprise Server); only ref, after,
            // head_commit.id and repository.full_name are rewritten to match the local repository. For the annotated
            // tag, after is the tag object and head_commit.id the peeled commit, as GitHub's push schema says (octokit has
            // no annotated example: see SOURCES.md).
            var payload = Fixture("github", "push.tag-created.json");
            payload["ref"] = "refs/tags/" + git.Tag;
            payload["after"] = git.TagObjectSha;
            payload["head_commit"]!["id"] = git.CommitSha;
            payload["repository"]!["full_name"] = scenario.Name;
            response = await Client.SendWebhookAsync(payload.ToJsonString(), WebhookSecret);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"webhook {key}: {(int)response.StatusCode} {body}");
            return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
        }
    }

    private static JsonNode Fixture(string forge, string file) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Webhooks", forge, file)))!;

    /// <summary>The build's reports once at least <paramref name="count"/> are written and none waits for another attempt.</summary>
    internal async Task<List<JsonElement>> WaitForReportsAsync(long buildId, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var statuses = (await Client.GetBuildAsync(buildId)).Json.GetProperty("statuses").EnumerateArray().Select(s => s.Clone()).ToList();
            if (statuses.Count >= count && statuses.All(s => s.GetProperty("outcome").GetString() is { } outcome && Final.Contains(outcome)))
            {
                return statuses;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"build {buildId}: reports not settled: {string.Join("; ", statuses)}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The status calls the fake GitHub received for a repository, in order.</summary>
    internal List<ForgeCall> GitHubStatusCalls(string name) =>
        Forge.Calls.Where(c => c.Method == "POST" && c.Path.StartsWith($"/api/v3/repos/{name}/statuses/", StringComparison.Ordinal)).ToList();

    internal async Task<BuildStatus> WaitForBuildAsync(string key) =>
        await Client.WaitForBuildAsync(Scenarios[key].BuildId, TimeSpan.FromMinutes(10));

    internal sealed record Scenario(string Name, TaggedRepository Git, long BuildId, string Registration);
}

[DockerBuild]
public sealed class ForgeReportingTests(ForgeReportingFixture fixture) : IClassFixture<ForgeReportingFixture>
{
    private const string PublicUrl = "http://builder.test/";

    [Fact]
    public async Task A_lightweight_tag_push_reports_pending_running_and_success_on_the_built_commit()
    {
        var scenario = fixture.Scenarios["lightweight"];
        var build = await fixture.WaitForBuildAsync("lightweight");
        await ReleaseAssertions.AssertPublishedAsync(fixture.Client, build, "acme-lightweight", "1.0.0");
        var reports = await fixture.WaitForReportsAsync(build.Id, 3);

        var calls = fixture.GitHubStatusCalls(scenario.Name);
        var bodies = calls.Select(c => JsonNode.Parse(c.Body)!.AsObject()).ToList();
        Assert.Equal(["pending", "pending", "success"], bodies.Select(b => (string?)b["state"]));
        Assert.Equal(["Queued: v1.0.0", "Running: building v1.0.0", "Published acme-lightweight 1.0.0"], bodies.Select(b => (string?)b["description"]));
        Assert.All(calls, c => Assert.Equal($"/api/v3/repos/acme/lightweight/statuses/{scenario.Git.CommitSha}", c.Path));
        Assert.All(calls, c => Assert.Equal("token(github)", c.Auth));
        Assert.All(bodies, b =>
        {
            Assert.Equal("builder/wheels", (string?)b["context"]);
            Assert.Equal($"{PublicUrl}api/builds/{build.Id}", (string?)b["target_url"]);
            Assert.InRange(((string?)b["description"])!.Length, 1, 140);
        });

        Assert.Equal(scenario.Git.CommitSha, build.Json.GetProperty("commit").GetString());
        Assert.Equal(["pending", "running", "success"], reports.Select(r => r.GetProperty("state").GetString()));
        Assert.All(reports, r =>
        {
            Assert.Equal("github-status", r.GetProperty("target").GetString());
            Assert.Equal("sent", r.GetProperty("outcome").GetString());
            Assert.Equal(1, r.GetProperty("attempts").GetInt32());
        });
    }

    [Fact]
    public async Task An_annotated_tag_is_reported_on_its_peeled_commit_not_the_tag_object()
    {
        var git = fixture.Scenarios["annotated"].Git;
        Assert.NotEqual(git.CommitSha, git.TagObjectSha);
        var build = await fixture.WaitForBuildAsync("annotated");
        await ReleaseAssertions.AssertPublishedAsync(fixture.Client, build, "acme-annotated", "1.0.0");
        await fixture.WaitForReportsAsync(build.Id, 3);

        var calls = fixture.GitHubStatusCalls("acme/annotated");
        Assert.Equal(["pending", "pending", "success"], calls.Select(c => (string?)JsonNode.Parse(c.Body)!["state"]));
        Assert.All(calls, c => Assert.EndsWith("/statuses/" + git.CommitSha, c.Path, StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Forge.Calls, c => c.Path.Contains(git.TagObjectSha, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_build_reports_failure_with_a_short_description()
    {
        var git = fixture.Scenarios["broken"].Git;
        var build = await fixture.WaitForBuildAsync("broken");
        Assert.Equal("failed", build.State);
        var reports = await fixture.WaitForReportsAsync(build.Id, 3);

        var bodies = fixture.GitHubStatusCalls("acme/broken").Select(c => JsonNode.Parse(c.Body)!.AsObject()).ToList();
        Assert.Equal(["pending", "pending", "failure"], bodies.Select(b => (string?)b["state"]));
        var description = (string)bodies[^1]["description"]!;
        Assert.StartsWith("Failed:", description, StringComparison.Ordinal);
        Assert.InRange(description.Length, "Failed: x".Length, 140);
        Assert.All(fixture.GitHubStatusCalls("acme/broken"), c => Assert.EndsWith("/statuses/" + git.CommitSha, c.Path, StringComparison.Ordinal));

        Assert.Equal(["pending", "running", "failure"], reports.Select(r => r.GetProperty("state").GetString()));
        Assert.All(reports, r => Assert.Equal("sent", r.GetProperty("outcome").GetString()));
        Assert.Equal(description, reports[^1].GetProperty("description").GetString());
    }

    [Fact]
    public async Task Release_assets_survive_a_broken_upload_and_are_never_uploaded_twice()
    {
        var build = await fixture.WaitForBuildAsync("assets");
        var files = await ReleaseAssertions.AssertPublishedAsync(fixture.Client, build, "acme-assets", "1.0.0");
        var reports = await fixture.WaitForReportsAsync(build.Id, 4, TimeSpan.FromSeconds(120));

        var release = Assert.Single(reports, r => r.GetProperty("target").GetString() == "github-release");
        Assert.Equal("assets", release.GetProperty("state").GetString());
        Assert.True(release.GetProperty("outcome").GetString() == "sent", release.ToString());
        Assert.Equal(2, release.GetProperty("attempts").GetInt32());

        // The first upload broke (a half asset in state "new", then 502); the second attempt deleted it and uploaded again.
        var uploads = UploadCalls();
        Assert.Equal(files.Count + 1, uploads.Count);
        Assert.Single(fixture.Forge.Calls, c => c.Method == "DELETE" && c.Path.Contains("/repos/acme/assets/releases/assets/", StringComparison.Ordinal));
        AssertEachFileOnce(build, files);

        // The report is sent again (as after a process that sent it died before recording it: its claim ran out and it
        // is due again): every file is already there, nothing is uploaded or deleted.
        var options = new DbContextOptionsBuilder<SqliteBuilderDbContext>().UseSqlite($"Data Source={Path.Combine(fixture.DataDir, "builder.db")};Default Timeout=60").Options;
        await using (var db = new SqliteBuilderDbContext(options))
        {
            var due = await db.ForgeReports.Where(r => r.BuildId == build.Id && r.Target == "github-release")
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.DueAt, DateTimeOffset.UtcNow).SetProperty(r => r.Outcome, (string?)null));
            Assert.Equal(1, due);
        }

        var again = Assert.Single(await WaitForAttemptsAsync(build.Id, 3), r => r.GetProperty("target").GetString() == "github-release");
        Assert.True(again.GetProperty("outcome").GetString() == "sent", again.ToString());
        Assert.Contains($"0 file(s) uploaded, 0 replaced, {files.Count} already attached", again.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(uploads.Count, UploadCalls().Count);
        Assert.Single(fixture.Forge.Calls, c => c.Method == "DELETE");
        AssertEachFileOnce(build, files);
    }

    [Fact]
    public async Task Forge_errors_and_rate_limits_neither_fail_nor_delay_the_build_and_the_statuses_are_sent_after_retries()
    {
        var build = await fixture.WaitForBuildAsync("flaky");
        await ReleaseAssertions.AssertPublishedAsync(fixture.Client, build, "acme-flaky", "1.0.0");

        // Delivered with the other pure builds of the fixture (whose forges are well), it took about as long as the middle
        // one of them (the forge's backoff alone is 5 s + 10 s + 2 s). The middle one, not the first delivered: the
        // builds wait their turn for the job workers, and acme/flaky's turn is in the middle of the eight.
        var others = new List<TimeSpan>();
        foreach (var key in new[] { "lightweight", "annotated", "assets", "refused", "gitlab", "app" })
        {
            others.Add(Duration(await fixture.WaitForBuildAsync(key)));
        }

        var took = Duration(build);
        var middle = others.Order().ElementAt(others.Count / 2);
        Assert.True(took <= middle + TimeSpan.FromSeconds(20), $"acme/flaky took {took}, the middle of the others {middle} ({string.Join(", ", others)})");

        var reports = await fixture.WaitForReportsAsync(build.Id, 3);
        Assert.Equal(["pending", "running", "success"], reports.Select(r => r.GetProperty("state").GetString()));
        // A status is sent after its retries, or (if a newer one of the build was written meanwhile) superseded, never sent late.
        Assert.All(reports, r => Assert.Contains(r.GetProperty("outcome").GetString(), new[] { "sent", "superseded" }));
        Assert.Equal("sent", reports[^1].GetProperty("outcome").GetString());
        Assert.Contains(reports, r => r.GetProperty("outcome").GetString() == "sent" && r.GetProperty("attempts").GetInt32() >= 2);

        // Three calls got the faults; every later one was accepted, one per status sent, ending with success.
        var calls = fixture.GitHubStatusCalls("acme/flaky");
        var sent = reports.Count(r => r.GetProperty("outcome").GetString() == "sent");
        Assert.Equal(3 + sent, calls.Count);
        Assert.Equal("success", (string?)JsonNode.Parse(calls[^1].Body)!["state"]);
        Assert.Equal(reports.Sum(r => r.GetProperty("attempts").GetInt32()), calls.Count);
    }

    [Fact]
    public async Task A_refused_token_never_fails_the_build_and_is_recorded_as_refused_without_showing_the_token()
    {
        var build = await fixture.WaitForBuildAsync("refused");
        await ReleaseAssertions.AssertPublishedAsync(fixture.Client, build, "acme-refused", "1.0.0");
        var reports = await fixture.WaitForReportsAsync(build.Id, 3);

        Assert.Equal(["pending", "running", "success"], reports.Select(r => r.GetProperty("state").GetString()));
        Assert.All(reports, r =>
        {
            Assert.Equal("refused", r.GetProperty("outcome").GetString());
            Assert.Equal(1, r.GetProperty("attempts").GetInt32());
            Assert.Contains("401", r.GetProperty("detail").GetString(), StringComparison.Ordinal);
        });
        Assert.Equal(3, fixture.GitHubStatusCalls("acme/refused").Count);
        Assert.All(fixture.GitHubStatusCalls("acme/refused"), c => Assert.Equal("token(unknown)", c.Auth));

        var answers = string.Join('\n',
            fixture.Scenarios["refused"].Registration,
            (await fixture.Client.GetBuildAsync(build.Id)).Json.GetRawText(),
            await fixture.Client.GetAsAdminAsync("/api/repositories"),
            await fixture.Client.GetLogAsync(build.Id),
            fixture.Web.Output);
        Assert.DoesNotContain(fixture.BadToken, answers, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.GitHubToken, answers, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gitlab_tag_push_hook_builds_and_reports_pending_running_success_to_gitlab()
    {
        var scenario = fixture.Scenarios["gitlab"];
        var build = await fixture.WaitForBuildAsync("gitlab");
        await ReleaseAssertions.AssertPublishedAsync(fixture.Client, build, "jsmith-example", "1.0.0");
        var reports = await fixture.WaitForReportsAsync(build.Id, 3);

        var calls = fixture.Forge.Calls.Where(c => c.Path.StartsWith("/api/v4/", StringComparison.Ordinal)).ToList();
        Assert.All(calls, c =>
        {
            Assert.Equal("POST", c.Method);
            Assert.Equal($"/api/v4/projects/jsmith%2Fexample/statuses/{scenario.Git.CommitSha}", c.Path);
            Assert.Equal("private-token(gitlab)", c.Auth);
        });
        var forms = calls.Select(c => Form(c.Body)).ToList();
        Assert.Equal(["pending", "running", "success"], forms.Select(f => f["state"]));
        Assert.All(forms, f =>
        {
            Assert.Equal("builder/wheels", f["name"]);
            Assert.Equal($"{PublicUrl}api/builds/{build.Id}", f["target_url"]);
        });
        Assert.All(reports, r => Assert.Equal(("gitlab-status", "sent"), (r.GetProperty("target").GetString(), r.GetProperty("outcome").GetString())));
    }

    [Fact]
    public async Task A_github_app_repository_clones_and_reports_with_the_minted_installation_token()
    {
        var scenario = fixture.Scenarios["app"];
        var build = await fixture.WaitForBuildAsync("app");
        await ReleaseAssertions.AssertPublishedAsync(fixture.Client, build, "acme-app", "1.0.0");
        var reports = await fixture.WaitForReportsAsync(build.Id, 3);
        Assert.All(reports, r => Assert.Equal("sent", r.GetProperty("outcome").GetString()));

        // The private host served the clone to the installation token only (asked without credentials first, as git does).
        lock (fixture.AppHost.Requests)
        {
            Assert.Contains(fixture.AppHost.Requests, r => r.StartsWith("POST /origin.git/git-upload-pack", StringComparison.Ordinal) && r.EndsWith("auth=ok", StringComparison.Ordinal));
            Assert.DoesNotContain(fixture.AppHost.Requests, r => r.EndsWith("auth=wrong", StringComparison.Ordinal));
        }

        // The token was minted with the App's JWT for the installation, and the statuses were posted with it.
        Assert.Contains(fixture.Forge.Calls, c => c.Method == "POST" && c.Path == $"/api/v3/app/installations/{ForgeReportingFixture.InstallationId}/access_tokens" && c.Auth == "jwt");
        Assert.InRange(fixture.Forge.MintedTokens, 1, 3);
        var calls = fixture.GitHubStatusCalls(scenario.Name);
        Assert.Equal(["pending", "pending", "success"], calls.Select(c => (string?)JsonNode.Parse(c.Body)!["state"]));
        Assert.All(calls, c => Assert.StartsWith($"token(installation-{ForgeReportingFixture.InstallationId}-", c.Auth, StringComparison.Ordinal));
        Assert.All(calls, c => Assert.EndsWith("/statuses/" + scenario.Git.CommitSha, c.Path, StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.InstallationToken, (await fixture.Client.GetBuildAsync(build.Id)).Json.GetRawText() + await fixture.Client.GetLogAsync(build.Id), StringComparison.Ordinal);
    }

    private List<ForgeCall> UploadCalls() =>
        fixture.Forge.Calls.Where(c => c.Method == "POST" && c.Path.StartsWith("/api/uploads/repos/acme/assets/releases/", StringComparison.Ordinal)).ToList();

    /// <summary>The release's assets are the published files, each once, whole and uploaded.</summary>
    private void AssertEachFileOnce(BuildStatus build, IReadOnlyList<string> files)
    {
        var assets = fixture.Forge.GitHubAssets;
        Assert.Equal(files.Order(StringComparer.Ordinal), assets.Select(a => a.Name).Order(StringComparer.Ordinal));
        foreach (var file in build.Json.GetProperty("files").EnumerateArray())
        {
            var asset = Assert.Single(assets, a => a.Name == file.GetProperty("filename").GetString());
            Assert.Equal("uploaded", asset.State);
            Assert.Equal(file.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(asset.Bytes)));
        }
    }

    private async Task<List<JsonElement>> WaitForAttemptsAsync(long buildId, int attempts)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var reports = await fixture.WaitForReportsAsync(buildId, 4);
            if (reports.Any(r => r.GetProperty("target").GetString() == "github-release" && r.GetProperty("attempts").GetInt32() >= attempts))
            {
                return reports;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the release report was not sent again: {string.Join("; ", reports)}");
            await Task.Delay(200);
        }
    }

    private static TimeSpan Duration(BuildStatus build) =>
        build.Json.GetProperty("finishedAt").GetDateTimeOffset() - build.Json.GetProperty("createdAt").GetDateTimeOffset();

    private static Dictionary<string, string> Form(string body) =>
        body.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p.ElementAtOrDefault(1)?.Replace('+', ' ') ?? string.Empty));
}
