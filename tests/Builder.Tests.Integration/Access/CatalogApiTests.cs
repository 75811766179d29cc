using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Builder.Core.Builds;
using Microsoft.EntityFrameworkCore;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// One host with a small catalog, made once for the class (<see cref="CatalogApiTests"/> only reads it): releases of a
/// few projects (pre-releases, a yanked release, a deleted file, a deleted project), builds of two repositories, a
/// repository with more deliveries than its page shows, and tokens limited to projects and to versions.
/// </summary>
public sealed class CatalogWorld : IAsyncLifetime
{
    public const string Repository = "acme/app";
    public const string OtherRepository = "acme/lib";

    internal AccessHost Host { get; } = new();

    internal AuthenticationHeaderValue ReadAcme { get; private set; } = null!;

    internal AuthenticationHeaderValue ReadOther { get; private set; } = null!;

    /// <summary>acme-app only, versions &lt;2.</summary>
    internal AuthenticationHeaderValue ReadAppBelow2 { get; private set; } = null!;

    public long RepositoryId { get; private set; }

    public long OtherRepositoryId { get; private set; }

    /// <summary>The builds in the order they were made (ids ascending): see <see cref="InitializeAsync"/>.</summary>
    public IReadOnlyList<long> Builds { get; private set; } = [];

    public async Task InitializeAsync()
    {
        // acme-app: 1.0 (wheel and sdist), 1.5, 2.0, 2.1rc1 (a pre-release), 3.0 (yanked): current release 2.0.
        await Host.PublishAsync("acme-app", "1.0", sdist: true);
        await Host.PublishAsync("acme-app", "1.5");
        await Host.PublishAsync("acme-app", "2.0");
        await Host.PublishAsync("acme-app", "2.1rc1");
        await Host.PublishAsync("acme-app", "3.0");
        await AdminAsync(HttpMethod.Post, "/api/projects/acme-app/releases/3.0/yank", new { reason = "broken" });
        // acme-lib: its sdist deleted (the wheel stays); acme-tools; beta-only: only pre-releases (current: the highest, 1.0b1).
        await Host.PublishAsync("acme-lib", "0.1", sdist: true);
        await AdminAsync(HttpMethod.Delete, "/api/projects/acme-lib/files/acme_lib-0.1.tar.gz");
        await Host.PublishAsync("acme-tools", "1.0");
        await Host.PublishAsync("beta-only", "1.0a1");
        await Host.PublishAsync("beta-only", "1.0b1");
        await Host.PublishAsync("other-pkg", "1.0");
        // gone-pkg: every file deleted, so the project is gone.
        await Host.PublishAsync("gone-pkg", "1.0");
        await AdminAsync(HttpMethod.Delete, "/api/projects/gone-pkg/releases/1.0");

        ReadAcme = (await Host.CreateTokenAsync(new { name = "read-acme", scopes = new[] { "read" }, projects = new[] { "acme-*" } })).Basic;
        ReadOther = (await Host.CreateTokenAsync(new { name = "read-other", scopes = new[] { "read" }, projects = new[] { "other-*" } })).Basic;
        ReadAppBelow2 = (await Host.CreateTokenAsync(new { name = "read-below-2", scopes = new[] { "read" }, projects = new[] { "acme-app" }, versions = "<2" })).Basic;

        RepositoryId = await Host.RegisterRepositoryAsync(Repository, "catalog-webhook-secret-0123456789");
        OtherRepositoryId = await Host.RegisterRepositoryAsync(OtherRepository, "catalog-webhook-secret-9876543210", "https://git.example.invalid/acme/lib.git");
        // Builds, oldest first: acme-app 1.0 succeeded, acme-app 1.5 succeeded, acme-app 2.0 failed, other-pkg 1.0
        // succeeded, one not planned yet (no project: admins only), acme-lib 0.1 running (the other repository).
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var builds = new (long Repository, string Tag, string? Project, string? Version, BuildState State)[]
        {
            (RepositoryId, "v1.0", "acme-app", "1.0", BuildState.Succeeded),
            (RepositoryId, "v1.5", "acme-app", "1.5", BuildState.Succeeded),
            (RepositoryId, "v2.0", "acme-app", "2.0", BuildState.Failed),
            (RepositoryId, "other-v1.0", "other-pkg", "1.0", BuildState.Succeeded),
            (RepositoryId, "v9.9", null, null, BuildState.Queued),
            (OtherRepositoryId, "v0.1", "acme-lib", "0.1", BuildState.Running),
        };
        var ids = new List<long>();
        await Host.WithDbAsync(async db =>
        {
            var minute = 0;
            foreach (var (repository, tag, project, version, state) in builds)
            {
                var build = new Build
                {
                    RepositoryId = repository,
                    Tag = tag,
                    CommitSha = new string((char)('a' + minute), 40),
                    Project = project,
                    Version = version,
                    State = state,
                    CreatedAt = start.AddMinutes(minute),
                    StartedAt = state == BuildState.Queued ? null : start.AddMinutes(minute),
                    FinishedAt = Build.IsFinal(state) ? start.AddMinutes(minute + 1) : null,
                };
                db.Builds.Add(build);
                await db.SaveChangesAsync();
                ids.Add(build.Id);
                minute++;
            }

            // 25 deliveries: GET /api/repositories/{id} shows the newest 20.
            for (var i = 0; i < 25; i++)
            {
                db.WebhookDeliveries.Add(new WebhookDelivery
                {
                    RepositoryId = RepositoryId,
                    Provider = "github",
                    Event = "push",
                    DeliveryId = $"delivery-{i}",
                    Tag = $"v0.{i}",
                    Outcome = WebhookOutcomes.Ignored,
                    Detail = $"delivery {i}",
                    ReceivedAt = start.AddSeconds(i),
                });
            }

            return await db.SaveChangesAsync();
        });
        Builds = ids;
    }

    private async Task AdminAsync(HttpMethod method, string path, object? body = null)
    {
        var answer = await Host.SendAsync(method, path, AccessHost.Admin, body is null ? null : System.Net.Http.Json.JsonContent.Create(body));
        Assert.True(answer.Status == HttpStatusCode.OK, $"{method} {path}: {answer}");
    }

    public Task DisposeAsync()
    {
        Host.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// <c>GET /api/projects</c>, <c>GET /api/projects/{project}</c>, <c>GET /api/builds</c> and the deliveries of
/// <c>GET /api/repositories/{id}</c>: what each principal sees, search, paging, and the 400s, 401s and 404s.
/// </summary>
public sealed class CatalogApiTests(CatalogWorld world) : IClassFixture<CatalogWorld>
{
    private AccessHost Host => world.Host;

    private async Task<JsonElement> OkAsync(string path, AuthenticationHeaderValue? auth)
    {
        var answer = await Host.GetAsync(path, auth);
        Assert.True(answer.Status == HttpStatusCode.OK, $"GET {path}: {answer}");
        return answer.Json;
    }

    private static List<string> Names(JsonElement list) => [.. list.GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("name").GetString()!)];

    private static JsonElement Project(JsonElement list, string name) => list.GetProperty("projects").EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);

    private static List<long> BuildIds(JsonElement list) => [.. list.GetProperty("builds").EnumerateArray().Select(b => b.GetProperty("id").GetInt64())];

    /// <summary>Follows <c>next</c> from <paramref name="path"/> to the end; every page's items, in order.</summary>
    private async Task<List<JsonElement>> AllPagesAsync(string path, string items, AuthenticationHeaderValue auth)
    {
        var all = new List<JsonElement>();
        string? next = path;
        for (var pages = 0; next is not null; pages++)
        {
            Assert.True(pages < 20, "next never ended");
            var page = await OkAsync(next, auth);
            all.AddRange(page.GetProperty(items).EnumerateArray());
            next = page.GetProperty("next").GetString();
        }

        return all;
    }

    [Fact]
    public async Task The_project_list_shows_every_published_project_by_name_with_its_current_release_and_last_build()
    {
        var list = await OkAsync("/api/projects", AccessHost.Admin);

        Assert.Equal(["acme-app", "acme-lib", "acme-tools", "beta-only", "other-pkg"], Names(list));
        Assert.Equal(5, list.GetProperty("total").GetInt32());
        Assert.Equal(1, list.GetProperty("page").GetInt32());
        Assert.Equal(50, list.GetProperty("pageSize").GetInt32());
        Assert.Equal(JsonValueKind.Null, list.GetProperty("next").ValueKind);

        // 3.0 is yanked, 2.1rc1 a pre-release: 2.0. Only pre-releases: the highest of them.
        var app = Project(list, "acme-app");
        Assert.Equal("2.0", app.GetProperty("latestVersion").GetString());
        Assert.Equal("1.0b1", Project(list, "beta-only").GetProperty("latestVersion").GetString());

        // The last release is the newest release's first upload (3.0's, yanked or not), as the project's own page says.
        var detail = await OkAsync("/api/projects/acme-app", AccessHost.Admin);
        var newest = detail.GetProperty("releases").EnumerateArray().Max(r => r.GetProperty("uploadedAt").GetDateTimeOffset());
        Assert.Equal(newest, app.GetProperty("lastReleaseAt").GetDateTimeOffset());

        // The last build is the newest (2.0, failed); a project without builds has none.
        var build = app.GetProperty("lastBuild");
        Assert.Equal(world.Builds[2], build.GetProperty("id").GetInt64());
        Assert.Equal("failed", build.GetProperty("state").GetString());
        Assert.Equal("v2.0", build.GetProperty("tag").GetString());
        Assert.Equal("2.0", build.GetProperty("version").GetString());
        Assert.NotEqual(JsonValueKind.Null, build.GetProperty("finishedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, Project(list, "acme-tools").GetProperty("lastBuild").ValueKind);
        Assert.Equal("running", Project(list, "acme-lib").GetProperty("lastBuild").GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, Project(list, "acme-lib").GetProperty("lastBuild").GetProperty("finishedAt").ValueKind);
    }

    [Fact]
    public async Task Search_matches_a_part_of_the_normalized_name_and_pages_link_to_the_next()
    {
        Assert.Equal(["acme-tools"], Names(await OkAsync("/api/projects?q=ACME_t", AccessHost.Admin)));
        Assert.Equal(["acme-app", "acme-lib", "acme-tools"], Names(await OkAsync("/api/projects?q=acme.", AccessHost.Admin)));
        var none = await OkAsync("/api/projects?q=nothing-like-it", AccessHost.Admin);
        Assert.Empty(Names(none));
        Assert.Equal(0, none.GetProperty("total").GetInt32());

        var first = await OkAsync("/api/projects?pageSize=2", AccessHost.Admin);
        Assert.Equal(["acme-app", "acme-lib"], Names(first));
        Assert.Equal(5, first.GetProperty("total").GetInt32());
        Assert.Equal("/api/projects?pageSize=2&page=2", first.GetProperty("next").GetString());
        var all = await AllPagesAsync("/api/projects?pageSize=2", "projects", AccessHost.Admin);
        Assert.Equal(["acme-app", "acme-lib", "acme-tools", "beta-only", "other-pkg"], all.Select(p => p.GetProperty("name").GetString()));

        // The query stays in the link; a page past the end is empty.
        var searched = await OkAsync("/api/projects?q=acme&pageSize=2&page=2", AccessHost.Admin);
        Assert.Equal(["acme-tools"], Names(searched));
        Assert.Equal(JsonValueKind.Null, searched.GetProperty("next").ValueKind);
        Assert.Equal("/api/projects?q=acme&pageSize=1&page=2", (await OkAsync("/api/projects?q=acme&pageSize=1", AccessHost.Admin)).GetProperty("next").GetString());
        var past = await OkAsync("/api/projects?page=9", AccessHost.Admin);
        Assert.Empty(Names(past));
        Assert.Equal(5, past.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Tokens_see_only_their_projects_and_versions_in_the_list_and_on_the_project()
    {
        Assert.Equal(["acme-app", "acme-lib", "acme-tools"], Names(await OkAsync("/api/projects", world.ReadAcme)));
        Assert.Equal(["other-pkg"], Names(await OkAsync("/api/projects", world.ReadOther)));

        // Versions <2: the current release, the last release and the last build are those of 1.0 and 1.5.
        var below2 = await OkAsync("/api/projects", world.ReadAppBelow2);
        Assert.Equal(["acme-app"], Names(below2));
        var app = Project(below2, "acme-app");
        Assert.Equal("1.5", app.GetProperty("latestVersion").GetString());
        Assert.Equal(world.Builds[1], app.GetProperty("lastBuild").GetProperty("id").GetInt64());
        var detail = await OkAsync("/api/projects/acme-app", world.ReadAppBelow2);
        Assert.Equal(["1.5", "1.0"], detail.GetProperty("releases").EnumerateArray().Select(r => r.GetProperty("version").GetString()));
        Assert.Equal(detail.GetProperty("releases")[0].GetProperty("uploadedAt").GetDateTimeOffset(), app.GetProperty("lastReleaseAt").GetDateTimeOffset());
        Assert.Equal(world.Builds[1], detail.GetProperty("latestBuild").GetProperty("id").GetInt64());

        // Not readable, unknown, and deleted projects: the index's one 404.
        var unknown = await Host.GetAsync("/simple/no-such-project/", world.ReadOther);
        Assert.Equal(404, unknown.Code);
        foreach (var (path, auth, name) in new[]
        {
            ("/api/projects/acme-app", world.ReadOther, "acme-app"),
            ("/api/projects/no-such-project", world.ReadOther, "no-such-project"),
            ("/api/projects/no-such-project", AccessHost.Admin, "no-such-project"),
            ("/api/projects/gone-pkg", AccessHost.Admin, "gone-pkg"),
            ("/api/projects/other-pkg", world.ReadAppBelow2, "other-pkg"),
        })
        {
            var answer = await Host.GetAsync(path, auth);
            Assert.True(answer.Code == 404, $"{path}: {answer}");
            Assert.Equal(unknown.Detail!.Replace("no-such-project", name, StringComparison.Ordinal), answer.Detail);
        }

        // Without credentials (and without anonymous reads): the index's challenge.
        var anonymous = await Host.GetAsync("/api/projects");
        Assert.Equal(401, anonymous.Code);
        Assert.Equal("Basic realm=\"Builder\"", anonymous.Challenge);
        Assert.Equal(401, (await Host.GetAsync("/api/projects/acme-app")).Code);
    }

    [Fact]
    public async Task A_project_lists_its_releases_newest_first_with_their_files_under_any_spelling_of_its_name()
    {
        var detail = await OkAsync("/api/projects/Acme.App", AccessHost.Admin);

        Assert.Equal("acme-app", detail.GetProperty("name").GetString());
        var releases = detail.GetProperty("releases").EnumerateArray().ToList();
        Assert.Equal(["3.0", "2.1rc1", "2.0", "1.5", "1.0"], releases.Select(r => r.GetProperty("version").GetString()));
        Assert.True(releases[0].GetProperty("yanked").GetBoolean());
        Assert.Equal("broken", releases[0].GetProperty("yankedReason").GetString());
        Assert.True(releases[0].GetProperty("files")[0].GetProperty("yanked").GetBoolean());
        Assert.True(releases[1].GetProperty("preRelease").GetBoolean());
        Assert.False(releases[2].GetProperty("preRelease").GetBoolean());
        Assert.False(releases[2].GetProperty("yanked").GetBoolean());
        Assert.Equal(JsonValueKind.Null, releases[2].GetProperty("yankedReason").ValueKind);
        Assert.Equal(world.Builds[2], detail.GetProperty("latestBuild").GetProperty("id").GetInt64());

        // 1.0: the sdist and the wheel, by file name, with what the index says of them.
        var files = releases[4].GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(["acme_app-1.0-py3-none-any.whl", "acme_app-1.0.tar.gz"], files.Select(f => f.GetProperty("filename").GetString()));
        var wheel = files[0];
        Assert.Equal("wheel", wheel.GetProperty("kind").GetString());
        Assert.Equal("py3", wheel.GetProperty("pythonTag").GetString());
        Assert.Equal("none", wheel.GetProperty("abiTag").GetString());
        Assert.Equal("any", wheel.GetProperty("platformTag").GetString());
        Assert.Equal("/files/acme-app/acme_app-1.0-py3-none-any.whl", wheel.GetProperty("url").GetString());
        Assert.Equal(JsonValueKind.Null, wheel.GetProperty("buildId").ValueKind);
        var sdist = files[1];
        Assert.Equal("sdist", sdist.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, sdist.GetProperty("pythonTag").ValueKind);

        var simple = (await Host.GetAsync("/simple/acme-app/", AccessHost.Admin, "application/vnd.pypi.simple.v1+json")).Json;
        var indexed = simple.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("filename").GetString() == "acme_app-1.0-py3-none-any.whl");
        Assert.Equal(indexed.GetProperty("hashes").GetProperty("sha256").GetString(), wheel.GetProperty("sha256").GetString());
        Assert.Equal(indexed.GetProperty("size").GetInt64(), wheel.GetProperty("size").GetInt64());
        var uploadedAt = wheel.GetProperty("uploadedAt").GetDateTimeOffset();
        Assert.Equal(indexed.GetProperty("upload-time").GetDateTimeOffset(), uploadedAt.AddTicks(-(uploadedAt.Ticks % 10))); // the index says microseconds
        var download = await Host.GetAsync(wheel.GetProperty("url").GetString()!, AccessHost.Admin);
        Assert.Equal(200, download.Code);

        // A deleted file is never listed.
        var lib = await OkAsync("/api/projects/acme_lib", AccessHost.Admin);
        Assert.Equal(["acme_lib-0.1-py3-none-any.whl"], lib.GetProperty("releases")[0].GetProperty("files").EnumerateArray().Select(f => f.GetProperty("filename").GetString()));
    }

    [Fact]
    public async Task The_build_list_shows_each_principal_the_builds_it_may_see_newest_first_filtered_and_paged()
    {
        var b = world.Builds;
        var all = await OkAsync("/api/builds", AccessHost.Admin);
        Assert.Equal([b[5], b[4], b[3], b[2], b[1], b[0]], BuildIds(all));
        Assert.Equal(JsonValueKind.Null, all.GetProperty("next").ValueKind);
        var running = all.GetProperty("builds")[0];
        Assert.Equal("running", running.GetProperty("state").GetString());
        Assert.Equal(CatalogWorld.OtherRepository, running.GetProperty("repository").GetString());
        Assert.Equal(world.OtherRepositoryId, running.GetProperty("repositoryId").GetInt64());
        Assert.Equal("v0.1", running.GetProperty("tag").GetString());
        Assert.Equal("acme-lib", running.GetProperty("project").GetString());
        Assert.Equal("0.1", running.GetProperty("version").GetString());
        Assert.Equal(new string('f', 40), running.GetProperty("commit").GetString());
        Assert.Equal($"/api/builds/{b[5]}", running.GetProperty("url").GetString());
        Assert.Equal(JsonValueKind.Null, running.GetProperty("finishedAt").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, running.GetProperty("startedAt").ValueKind);

        // Others: the builds of releases they may read; the build without a release is for admins only.
        Assert.Equal([b[5], b[2], b[1], b[0]], BuildIds(await OkAsync("/api/builds", world.ReadAcme)));
        Assert.Equal([b[3]], BuildIds(await OkAsync("/api/builds", world.ReadOther)));
        Assert.Equal([b[1], b[0]], BuildIds(await OkAsync("/api/builds", world.ReadAppBelow2)));

        // Filters.
        Assert.Equal([b[5]], BuildIds(await OkAsync($"/api/builds?repository={world.OtherRepositoryId}", AccessHost.Admin)));
        Assert.Equal([b[2], b[1], b[0]], BuildIds(await OkAsync("/api/builds?project=Acme_App", AccessHost.Admin)));
        Assert.Equal([b[1], b[0]], BuildIds(await OkAsync("/api/builds?project=acme-app&state=succeeded", world.ReadAppBelow2)));
        Assert.Equal([b[2]], BuildIds(await OkAsync("/api/builds?state=FAILED", world.ReadAcme)));
        Assert.Empty(BuildIds(await OkAsync("/api/builds?project=other-pkg", world.ReadAcme)));
        Assert.Equal([b[4]], BuildIds(await OkAsync("/api/builds?state=queued", AccessHost.Admin)));
        Assert.Empty(BuildIds(await OkAsync("/api/builds?state=queued", world.ReadAcme)));

        // Keyset pages of one: every page is full though rows between them are hidden, and the pages add up to the list.
        var first = await OkAsync("/api/builds?limit=1", world.ReadAppBelow2);
        Assert.Equal([b[1]], BuildIds(first));
        Assert.Equal($"/api/builds?limit=1&before={b[1]}", first.GetProperty("next").GetString());
        foreach (var (auth, expected) in new[]
        {
            (AccessHost.Admin, new[] { b[5], b[4], b[3], b[2], b[1], b[0] }),
            (world.ReadAcme, [b[5], b[2], b[1], b[0]]),
            (world.ReadAppBelow2, [b[1], b[0]]),
        })
        {
            var pages = await AllPagesAsync("/api/builds?limit=1", "builds", auth);
            Assert.Equal(expected, pages.Select(p => p.GetProperty("id").GetInt64()));
            var pairs = await AllPagesAsync("/api/builds?limit=2&project=acme-app", "builds", auth);
            Assert.Equal(expected.Where(id => id <= b[2]).ToArray(), pairs.Select(p => p.GetProperty("id").GetInt64()));
        }

        Assert.Equal(401, (await Host.GetAsync("/api/builds")).Code);
    }

    [Fact]
    public async Task Bad_query_values_are_400_naming_the_parameter()
    {
        foreach (var (path, parameter) in new[]
        {
            ("/api/projects?page=0", "'page'"),
            ("/api/projects?page=abc", "'page'"),
            ("/api/projects?pageSize=0", "'pageSize'"),
            ("/api/projects?pageSize=201", "'pageSize'"),
            ("/api/builds?limit=0", "'limit'"),
            ("/api/builds?limit=201", "'limit'"),
            ("/api/builds?state=done", "'state'"),
            ("/api/builds?state=1", "'state'"),
            ("/api/builds?before=x", "'before'"),
            ("/api/builds?repository=-1", "'repository'"),
            ("/api/builds?project=not%20a%20name", "'project'"),
        })
        {
            var answer = await Host.GetAsync(path, world.ReadAcme);
            Assert.True(answer.Code == 400, $"{path}: {answer}");
            Assert.Contains(parameter, answer.Detail ?? string.Empty, StringComparison.Ordinal);
        }

        Assert.Contains("queued, running, succeeded, failed, cancelled", (await Host.GetAsync("/api/builds?state=done", world.ReadAcme)).Detail ?? string.Empty, StringComparison.Ordinal);
        Assert.Equal(200, (await Host.GetAsync("/api/projects?pageSize=200", world.ReadAcme)).Code);
        Assert.Equal(200, (await Host.GetAsync("/api/builds?limit=200", world.ReadAcme)).Code);
    }

    [Fact]
    public async Task A_repository_shows_its_20_latest_deliveries_as_its_deliveries_route_does()
    {
        var repository = await OkAsync($"/api/repositories/{world.RepositoryId}", AccessHost.Admin);
        var deliveries = repository.GetProperty("deliveries");
        Assert.Equal(20, deliveries.GetArrayLength());
        Assert.Equal("delivery-24", deliveries[0].GetProperty("deliveryId").GetString());
        var route = await OkAsync($"/api/repositories/{world.RepositoryId}/deliveries?limit=20", AccessHost.Admin);
        Assert.Equal(route.GetRawText(), deliveries.GetRawText());

        // Only there: the list and the other repository's answer (no deliveries: an empty list).
        Assert.False((await OkAsync("/api/repositories", AccessHost.Admin))[0].TryGetProperty("deliveries", out _));
        Assert.Equal(0, (await OkAsync($"/api/repositories/{world.OtherRepositoryId}", AccessHost.Admin)).GetProperty("deliveries").GetArrayLength());
        Assert.Equal(403, (await Host.GetAsync($"/api/repositories/{world.RepositoryId}", world.ReadAcme)).Code);
    }

    [Fact]
    public async Task The_list_follows_publish_yank_and_delete_at_once()
    {
        // A host of its own: this test changes what it publishes.
        using var host = new AccessHost();
        var below2 = (await host.CreateTokenAsync(new { name = "below-2", scopes = new[] { "read" }, versions = "<2" })).Basic;
        await host.PublishAsync("fresh-app", "1.0");
        await host.PublishAsync("fresh-lib", "1.0");

        async Task<Dictionary<string, string>> LatestAsync(AuthenticationHeaderValue auth)
        {
            var answer = await host.GetAsync("/api/projects", auth);
            Assert.True(answer.Code == 200, answer.ToString());
            return answer.Json.GetProperty("projects").EnumerateArray()
                .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("latestVersion").GetString()!);
        }

        Assert.Equal(new Dictionary<string, string> { ["fresh-app"] = "1.0", ["fresh-lib"] = "1.0" }, await LatestAsync(AccessHost.Admin));
        Assert.Equal(new Dictionary<string, string> { ["fresh-app"] = "1.0", ["fresh-lib"] = "1.0" }, await LatestAsync(below2));

        await host.PublishAsync("fresh-app", "1.1");
        await host.PublishAsync("fresh-app", "2.0");
        await host.PublishAsync("fresh-new", "0.1");
        Assert.Equal(new Dictionary<string, string> { ["fresh-app"] = "2.0", ["fresh-lib"] = "1.0", ["fresh-new"] = "0.1" }, await LatestAsync(AccessHost.Admin));
        Assert.Equal(new Dictionary<string, string> { ["fresh-app"] = "1.1", ["fresh-lib"] = "1.0", ["fresh-new"] = "0.1" }, await LatestAsync(below2));

        Assert.Equal(200, (await host.PostJsonAsync("/api/projects/fresh-app/releases/2.0/yank", new { reason = "bad" }, AccessHost.Admin)).Code);
        Assert.Equal(200, (await host.SendAsync(HttpMethod.Delete, "/api/projects/fresh-lib/releases/1.0", AccessHost.Admin)).Code);
        Assert.Equal(new Dictionary<string, string> { ["fresh-app"] = "1.1", ["fresh-new"] = "0.1" }, await LatestAsync(AccessHost.Admin));
        Assert.Equal(new Dictionary<string, string> { ["fresh-app"] = "1.1", ["fresh-new"] = "0.1" }, await LatestAsync(below2));
    }

    [Fact]
    public async Task PostgreSQL_answers_the_listings_alike()
    {
        // Production's database: the queries the listings make there (the last builds by project and by version, the
        // build list narrowed to the readable projects in one parameter) are its own SQL.
        await using var database = await Infrastructure.PostgresDatabase.CreateAsync();
        using var host = new AccessHost(postgres: database.ConnectionString);
        await host.PublishAsync("acme-app", "1.0");
        await host.PublishAsync("acme-app", "2.0");
        await host.PublishAsync("other-pkg", "1.0");
        var acme = (await host.CreateTokenAsync(new { name = "acme", scopes = new[] { "read" }, projects = new[] { "acme-*" } })).Basic;
        var below2 = (await host.CreateTokenAsync(new { name = "below-2", scopes = new[] { "read" }, versions = "<2" })).Basic;
        var repository = await host.RegisterRepositoryAsync("acme/app", "catalog-webhook-secret-0123456789");
        var ids = new List<long>();
        await host.WithDbAsync(async db =>
        {
            foreach (var (tag, project, version) in new[] { ("v1.0", "acme-app", "1.0"), ("v2.0", "acme-app", "2.0"), ("o1.0", "other-pkg", "1.0") })
            {
                var build = new Build { RepositoryId = repository, Tag = tag, CommitSha = new string('c', 40), Project = project, Version = version, State = BuildState.Succeeded, CreatedAt = DateTimeOffset.UtcNow };
                db.Builds.Add(build);
                await db.SaveChangesAsync();
                ids.Add(build.Id);
            }

            return ids.Count;
        });

        async Task<JsonElement> Get(string path, AuthenticationHeaderValue auth)
        {
            var answer = await host.GetAsync(path, auth);
            Assert.True(answer.Code == 200, $"{path}: {answer}");
            return answer.Json;
        }

        var limited = await Get("/api/projects", below2);
        Assert.Equal(["acme-app", "other-pkg"], Names(limited));
        Assert.Equal("1.0", Project(limited, "acme-app").GetProperty("latestVersion").GetString());
        Assert.Equal(ids[0], Project(limited, "acme-app").GetProperty("lastBuild").GetProperty("id").GetInt64());
        Assert.Equal(ids[1], Project(await Get("/api/projects?q=acme", AccessHost.Admin), "acme-app").GetProperty("lastBuild").GetProperty("id").GetInt64());
        Assert.Equal([ids[1], ids[0]], BuildIds(await Get("/api/builds", acme)));
        Assert.Equal([ids[2], ids[0]], BuildIds(await Get("/api/builds", below2)));
        Assert.Equal(["2.0", "1.0"], (await Get("/api/projects/acme_app", acme)).GetProperty("releases").EnumerateArray().Select(r => r.GetProperty("version").GetString()));
    }
}

