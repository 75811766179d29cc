using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Builder.Index;
using Builder.Tests.Integration.Infrastructure;
using static Builder.Tests.Integration.Access.AccessClientHelpers;

namespace Builder.Tests.Integration.Storage;

/// <summary>
/// Quotas against a real Builder process on the file system store, with Debian's twine: the server's
/// <c>Builder:Storage:ProjectQuotaBytes</c> and a project's own quota (<c>PATCH /api/projects/{name}</c>, audited) refuse an
/// upload that would go over, and twine prints the reason naming the quota and the usage; <c>GET /api/usage</c>, the
/// metric <c>builder_storage_bytes{kind="published"}</c> and the project page say what the store holds, byte for byte.
/// </summary>
public sealed class QuotaTests : IAsyncLifetime, IDisposable
{
    // Room for a few small wheels (about 1.5 KiB each with their sidecars), not for one with a 64 KiB payload.
    private const long ServerQuota = 40_000;

    private readonly string _root = TestPaths.NewTempDirectory("quotas");
    private BuilderProcess _web = null!;
    private HttpClient _http = null!;

    private string Home => Dir(_root, "home");

    private string FilesDir => Path.Combine(_root, "data", "files");

    public async Task InitializeAsync()
    {
        _web = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(Embedded(Path.Combine(_root, "data")))
        {
            ["Builder__Storage__ProjectQuotaBytes"] = ServerQuota.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        _http = BuilderInstance.AdminHttp(_web.BaseUrl!);
    }

    public void Dispose() => _http?.Dispose();

    public async Task DisposeAsync()
    {
        await _web.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    [Fact]
    public async Task Twine_is_refused_over_the_server_quota_and_over_a_project_quota_with_the_quota_and_the_usage_and_usage_matches_the_store()
    {
        var uploader = await CreateTokenAsync(_http, new { name = "ci-acme", scopes = new[] { "upload" }, projects = new[] { "acme-*" } });
        var dist = Dir(_root, "dist");

        // The server's quota: a project's first file alone is too large.
        var big = Distributions.Wheel(dist, "acme-big", "1.0", payloadBytes: 64 * 1024);
        var refusedBig = await TwineAsync(_web.BaseUrl!, Home, "__token__", uploader.Secret, big);
        Assert.True(refusedBig.ExitCode != 0, refusedBig.Output);
        Assert.Contains($"HTTPError: 400 Bad Request from {_web.BaseUrl}/legacy/", refusedBig.Output, StringComparison.Ordinal);
        Assert.Contains($"Quota exceeded: project 'acme-big' uses 0 bytes of its quota of {ProjectQuotas.Describe(ServerQuota)} (the server's Builder:Storage:ProjectQuotaBytes); "
            + $"{Path.GetFileName(big)} (", refusedBig.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(FilesDir, "acme-big")), "a refused upload leaves nothing in the store");

        // A project's own quota: what it holds now plus less than the next file.
        var first = Distributions.Wheel(dist, "acme-quota", "1.0");
        var sdist = Distributions.Sdist(dist, "acme-quota", "1.0");
        (await TwineAsync(_web.BaseUrl!, Home, "__token__", uploader.Secret, first, sdist)).EnsureSuccess("twine upload within the quota");
        var held = StoreBytes("acme-quota");
        var quota = held + 100;
        var set = await PatchAsync("acme_Quota", new { quotaBytes = quota });
        Assert.Equal(HttpStatusCode.OK, set.Status);
        Assert.Equal(("acme-quota", held, 2, quota, "project"), Usage(set.Body));

        var second = Distributions.Wheel(dist, "acme-quota", "1.1");
        var secondBytes = new FileInfo(second).Length;
        var refused = await TwineAsync(_web.BaseUrl!, Home, "__token__", uploader.Secret, second);
        Assert.True(refused.ExitCode != 0, refused.Output);
        Assert.Contains($"HTTPError: 400 Bad Request from {_web.BaseUrl}/legacy/", refused.Output, StringComparison.Ordinal);
        var prefix = $"Quota exceeded: project 'acme-quota' uses {ProjectQuotas.Describe(held)} of its quota of {ProjectQuotas.Describe(quota)} (set for the project); "
            + $"{Path.GetFileName(second)} (";
        Assert.Contains(prefix, refused.Output, StringComparison.Ordinal);
        // The sidecar counts with the file: the reason names both together, and what the project would then use.
        var added = long.Parse(refused.Output[(refused.Output.IndexOf(prefix, StringComparison.Ordinal) + prefix.Length)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(added > secondBytes, $"{added} counts the wheel ({secondBytes} bytes) and its metadata");
        Assert.Contains($"would bring it to {ProjectQuotas.Describe(held + added)}", refused.Output, StringComparison.Ordinal);
        Assert.Equal(held, StoreBytes("acme-quota"));

        // Back to the server's quota (null), which has room: the same file is taken.
        var cleared = await PatchAsync("acme-quota", new { quotaBytes = (long?)null });
        Assert.Equal(("acme-quota", held, 2, ServerQuota, "server"), Usage(cleared.Body));
        (await TwineAsync(_web.BaseUrl!, Home, "__token__", uploader.Secret, second)).EnsureSuccess("twine upload under the server's quota");
        Assert.Equal(held + added, StoreBytes("acme-quota"));

        // Usage is what the store holds: every project's bytes (files and sidecars) and distribution files.
        var usage = await GetJsonAsync("/api/usage");
        var projects = usage.GetProperty("projects").EnumerateArray().ToDictionary(p => p.GetProperty("project").GetString()!, p => p);
        Assert.Equal(["acme-quota"], projects.Keys);
        Assert.Equal(StoreBytes("acme-quota"), projects["acme-quota"].GetProperty("bytes").GetInt64());
        Assert.Equal(StoreFiles("acme-quota"), projects["acme-quota"].GetProperty("files").GetInt32());
        Assert.Equal(3, StoreFiles("acme-quota"));
        Assert.Equal(ServerQuota, usage.GetProperty("defaultQuotaBytes").GetInt64());
        Assert.Equal(StoreBytes(null), usage.GetProperty("publishedBytes").GetInt64());
        var metrics = await MetricsScrape.ReadAsync(_web.BaseUrl!, BuilderInstance.AdminAuthorization);
        Assert.Equal(StoreBytes(null), metrics.Require("builder_storage_bytes", ("kind", "published")));

        // The project page shows the usage and the quota.
        var page = await GetAsync(_http, "/project/acme-quota/", BuilderInstance.AdminAuthorization);
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains($"id=\"usage\" data-bytes=\"{held + added}\" data-quota=\"{ServerQuota}\"", page.Body, StringComparison.Ordinal);
        Assert.Contains("in 3 files, of a quota of 39.1 KiB", page.Body, StringComparison.Ordinal);
        // Not to a viewer limited to some versions: the bytes count every version.
        var someVersions = await CreateTokenAsync(_http, new { name = "read-1.1", scopes = new[] { "read" }, projects = new[] { "acme-*" }, versions = ">=1.1" });
        var allVersions = await CreateTokenAsync(_http, new { name = "read-all", scopes = new[] { "read" }, projects = new[] { "acme-*" } });
        var limited = await GetAsync(_http, "/project/acme-quota/", TokenBasic(someVersions.Secret));
        Assert.Equal(HttpStatusCode.OK, limited.Status);
        Assert.DoesNotContain("id=\"usage\"", limited.Body, StringComparison.Ordinal);
        Assert.Contains($"id=\"usage\" data-bytes=\"{held + added}\"", (await GetAsync(_http, "/project/acme-quota/", TokenBasic(allVersions.Secret))).Body, StringComparison.Ordinal);

        // Each change of a quota is audited, with who made it and the values.
        var audit = await GetJsonAsync("/api/audit?action=project:quota_changed");
        var details = audit.GetProperty("events").EnumerateArray().Select(e => (e.GetProperty("project").GetString(), e.GetProperty("detail").GetString())).ToList();
        Assert.Equal(2, details.Count);
        Assert.Contains(("acme-quota", $"quota {ProjectQuotas.Describe(quota)} (was the server's)"), details);
        Assert.Contains(("acme-quota", $"quota the server's ({ProjectQuotas.Describe(ServerQuota)}, Builder:Storage:ProjectQuotaBytes) (was {ProjectQuotas.Describe(quota)})"), details);
    }

    [Fact]
    public async Task A_quota_is_set_by_admins_only_and_a_bad_one_is_refused_with_the_reason()
    {
        var reader = await CreateTokenAsync(_http, new { name = "reader", scopes = new[] { "read" }, projects = new[] { "acme-*" } });
        using (var request = new HttpRequestMessage(HttpMethod.Patch, "/api/projects/acme-x") { Content = JsonContent.Create(new { quotaBytes = 1 }) })
        {
            request.Headers.Authorization = TokenBasic(reader.Secret);
            using var response = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        var negative = await PatchAsync("acme-x", new { quotaBytes = -1 });
        Assert.Equal(HttpStatusCode.BadRequest, negative.Status);
        Assert.StartsWith("\"quotaBytes\" must be a number of bytes, 0 or more", Detail(negative.Body), StringComparison.Ordinal);
        var absent = await PatchAsync("acme-x", new { quota = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, absent.Status);
        Assert.StartsWith("the body must set \"quotaBytes\"", Detail(absent.Body), StringComparison.Ordinal);
        var text = await PatchAsync("acme-x", new { quotaBytes = "1 GB" });
        Assert.Equal(HttpStatusCode.BadRequest, text.Status);
        var badName = await PatchAsync("-acme-", new { quotaBytes = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, badName.Status);
        Assert.Equal("'-acme-' is not a valid project name", Detail(badName.Body));

        // A name with nothing published may have a quota already; usage lists it.
        var zero = await PatchAsync("acme-later", new { quotaBytes = 0 });
        Assert.Equal(HttpStatusCode.OK, zero.Status);
        Assert.Equal(("acme-later", 0L, 0, 0L, "project"), Usage(zero.Body));
        var usage = await GetJsonAsync("/api/usage");
        Assert.Contains(usage.GetProperty("projects").EnumerateArray(), p => p.GetProperty("project").GetString() == "acme-later" && p.GetProperty("isFull").GetBoolean());
        var audit = await GetJsonAsync("/api/audit?action=project:quota_changed");
        Assert.Equal(["acme-later"], audit.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("project").GetString()));
    }

    /// <summary>Bytes under the project's folder of the store (null: every project's; staging and upstream copies are not published).</summary>
    private long StoreBytes(string? project) => StoreEntries(project).Sum(f => f.Length);

    /// <summary>Distribution files (not sidecars) under the project's folder of the store.</summary>
    private int StoreFiles(string project) => StoreEntries(project).Count(f => !f.Name.EndsWith(".metadata", StringComparison.Ordinal));

    private IEnumerable<FileInfo> StoreEntries(string? project)
    {
        var root = new DirectoryInfo(FilesDir);
        var folders = project is null
            ? root.Exists ? root.EnumerateDirectories().Where(d => !d.Name.StartsWith('_')) : []
            : [new DirectoryInfo(Path.Combine(FilesDir, project))];
        return folders.Where(d => d.Exists).SelectMany(d => d.EnumerateFiles("*", SearchOption.AllDirectories));
    }

    private static string? Detail(string problem) => JsonDocument.Parse(problem).RootElement.GetProperty("detail").GetString();

    private static (string?, long, int, long?, string?) Usage(string body)
    {
        var json = JsonDocument.Parse(body).RootElement;
        return (json.GetProperty("project").GetString(), json.GetProperty("bytes").GetInt64(), json.GetProperty("files").GetInt32(),
            json.GetProperty("quotaBytes").ValueKind == JsonValueKind.Null ? null : json.GetProperty("quotaBytes").GetInt64(), json.GetProperty("quotaSource").GetString());
    }

    private async Task<(HttpStatusCode Status, string Body)> PatchAsync(string project, object body)
    {
        using var response = await _http.PatchAsJsonAsync($"/api/projects/{project}", body);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        var answer = await GetAsync(_http, path, BuilderInstance.AdminAuthorization);
        Assert.True(answer.Status == HttpStatusCode.OK, $"GET {path}: {answer.Status} {answer.Body}");
        return JsonDocument.Parse(answer.Body).RootElement.Clone();
    }
}
