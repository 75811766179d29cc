using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Builder.Tests.Integration.EndToEnd;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;

namespace Builder.Tests.Integration.Index;

/// <summary>What one answer of Builder said: status, headers and body.</summary>
internal sealed record ProxyAnswer(HttpStatusCode Status, HttpResponseHeaders Headers, HttpContentHeaders ContentHeaders, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    /// <summary>The Builder-Upstream header (fresh, stale), or null.</summary>
    public string? Upstream => Headers.TryGetValues("Builder-Upstream", out var values) ? string.Join(",", values) : null;

    /// <summary>A problem answer's detail, or null.</summary>
    public string? Detail => ContentHeaders.ContentType?.MediaType == "application/problem+json" && Json.TryGetProperty("detail", out var detail) ? detail.GetString() : null;

    public string Sha256 => Convert.ToHexStringLower(SHA256.HashData(Body));

    public override string ToString() => $"{(int)Status} {Upstream} {Text[..Math.Min(Text.Length, 2000)]}";
}

/// <summary>
/// One Builder (embedded default, a real process) proxying one local upstream of its own (<see cref="LocalUpstream"/>), both
/// filled with the same public packages (<see cref="Seed"/>) and acme-billing 1.0 uploaded privately.
/// </summary>
internal sealed class ProxyGroup : IAsyncDisposable
{
    public static readonly AuthenticationHeaderValue Admin = BuilderInstance.AdminAuthorization;

    // No default credentials: each request carries its own (or none, for anonymous readers).
    private readonly HttpClient _plain;

    private ProxyGroup(string root, LocalUpstream upstream, BuilderProcess web)
    {
        Root = root;
        Upstream = upstream;
        Web = web;
        Client = BuilderInstance.Client(web);
        _plain = new HttpClient { BaseAddress = new Uri(web.BaseUrl!), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Root { get; }

    public LocalUpstream Upstream { get; }

    public BuilderProcess Web { get; }

    public BuilderClient Client { get; }

    public HttpClient Http => Client.Http;

    public string DataDir => Path.Combine(Root, "data");

    /// <summary>Builder's base URL with a final slash.</summary>
    public string BaseUrl => Web.BaseUrl! + "/";

    /// <summary>Builder's index for pip, with the admin token.</summary>
    public string PipIndexUrl => BuilderInstance.WithCredentials(BaseUrl + "simple/");

    /// <summary>The private acme-billing release every group has.</summary>
    public const string PrivateVersion = "1.0";

    public static async Task<ProxyGroup> StartAsync(string root, IReadOnlyDictionary<string, string> settings)
    {
        Directory.CreateDirectory(root);
        var upstream = await LocalUpstream.StartNewAsync();
        BuilderProcess? web = null;
        try
        {
            Seed(upstream, Path.Combine(root, "public"));
            var environment = new Dictionary<string, string>(BuilderInstance.Embedded(Path.Combine(root, "data")))
            {
                ["Builder__Upstream__Url"] = upstream.SimpleUrl,
            };
            foreach (var (key, value) in settings)
            {
                environment[key] = value;
            }

            web = await BuilderProcess.StartWebAsync(environment);
            var group = new ProxyGroup(root, upstream, web);
            var privateWheel = Distributions.Wheel(Directory.CreateDirectory(Path.Combine(root, "private")).FullName, "acme-billing", PrivateVersion,
                requiresDist: ["public-dep"], summary: "The real acme-billing");
            await group.UploadAsync(privateWheel, "acme-billing", PrivateVersion);
            return group;
        }
        catch
        {
            if (web is not null)
            {
                await web.DisposeAsync();
            }

            await upstream.DisposeAsync();
            throw;
        }
    }

    /// <summary>The public index's packages (the same in every group's upstream).</summary>
    private static void Seed(LocalUpstream upstream, string directory)
    {
        Directory.CreateDirectory(directory);
        var longAgo = UpstreamPackages.LongAgo;
        var python = UpstreamPackages.PublicRequiresPython;
        upstream.Add("public-dep", UpstreamPackages.PublicDep(directory, "0.9"), longAgo, python, yanked: "broken metadata");
        upstream.Add("public-dep", UpstreamPackages.PublicDep(directory, "1.0"), longAgo, python);
        upstream.Add("public-dep", UpstreamPackages.PublicDep(directory, "1.1"), uploadTime: null, python); // no upload-time: fail closed under a cooldown
        upstream.Add("public-dep", UpstreamPackages.PublicDep(directory, "2.0"), DateTimeOffset.UtcNow, python); // younger than any cooldown
        upstream.Add("public-dep", Distributions.Sdist(directory, "public-dep", "1.0", python), longAgo, python);
        upstream.Add("acme-billing", UpstreamPackages.MaliciousAcmeBilling(directory), longAgo);
        upstream.Add("upstream-backend", UpstreamPackages.UpstreamBackend(directory), longAgo);
        upstream.Add("broken-dep", Distributions.Wheel(directory, "broken-dep", "1.0"), longAgo, advertisedSha256Override: new string('0', 64));
        foreach (var name in (string[])["reserved-dep", "flight-dep", "stale-dep", "outage-dep"])
        {
            upstream.Add(name, Distributions.Wheel(directory, name, "1.0"), longAgo);
        }

        upstream.Render();
    }

    public async Task UploadAsync(string path, string name, string version)
    {
        using var upload = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = LegacyUpload.Twine(path, name, version).ToContent() };
        upload.Headers.Authorization = LegacyUpload.AdminBasic;
        using var uploaded = await Http.SendAsync(upload);
        Assert.True(uploaded.IsSuccessStatusCode, $"upload {Path.GetFileName(path)}: {(int)uploaded.StatusCode} {await uploaded.Content.ReadAsStringAsync()}");
    }

    /// <summary>A request to Builder with the given credentials (admin by default; <paramref name="anonymous"/>: none at all).</summary>
    public async Task<ProxyAnswer> SendAsync(HttpMethod method, string pathOrUrl, string? accept = null, AuthenticationHeaderValue? authorization = null,
        bool anonymous = false, Action<HttpRequestMessage>? configure = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, pathOrUrl) { Content = content };
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        request.Headers.Authorization = anonymous ? null : authorization ?? Admin;
        configure?.Invoke(request);
        using var response = await _plain.SendAsync(request);
        return new ProxyAnswer(response.StatusCode, response.Headers, response.Content.Headers, await response.Content.ReadAsByteArrayAsync());
    }

    public Task<ProxyAnswer> GetAsync(string pathOrUrl, string? accept = null, AuthenticationHeaderValue? authorization = null, bool anonymous = false,
        Action<HttpRequestMessage>? configure = null) =>
        SendAsync(HttpMethod.Get, pathOrUrl, accept, authorization, anonymous, configure);

    public Task<ProxyAnswer> PostAsync(string path, object body, AuthenticationHeaderValue? authorization = null, bool anonymous = false) =>
        SendAsync(HttpMethod.Post, path, authorization: authorization, anonymous: anonymous, content: JsonContent.Create(body));

    /// <summary>The audit events of one action (newest first).</summary>
    public async Task<List<JsonElement>> AuditAsync(string action)
    {
        var answer = await GetAsync("/api/audit?limit=1000&action=" + Uri.EscapeDataString(action));
        Assert.True(answer.Status == HttpStatusCode.OK, $"GET /api/audit: {answer}");
        return [.. answer.Json.GetProperty("events").EnumerateArray()];
    }

    /// <summary>Every file under the artifact store (embedded default: {DataDir}/files) whose name contains <paramref name="filename"/>.</summary>
    public IReadOnlyList<string> StoredFiles(string filename)
    {
        var files = Path.Combine(DataDir, "files");
        return Directory.Exists(files)
            ? [.. Directory.EnumerateFiles(files, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f).Contains(filename, StringComparison.Ordinal))]
            : [];
    }

    public async ValueTask DisposeAsync()
    {
        _plain.Dispose();
        Client.Http.Dispose();
        await Web.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// The two Builders the proxy tests share, each started on first use: "guarded" (no cooldown, upstream pages fresh for 2 s,
/// the index open to anonymous readers but proxied names not) and "cooldown" (MinimumAgeHours=24, proxied names open to
/// anonymous readers too). Each has its own upstream, so what one is asked never shows in the other's access log.
/// </summary>
public sealed class UpstreamProxyFixture : IAsyncLifetime
{
    public const int MaxAgeSeconds = 2;

    private readonly string _root = TestPaths.NewTempDirectory("upstream-proxy");
    private readonly Lazy<Task<ProxyGroup>> _guarded;
    private readonly Lazy<Task<ProxyGroup>> _cooldown;

    public UpstreamProxyFixture()
    {
        _guarded = new(() => ProxyGroup.StartAsync(Path.Combine(_root, "guarded"), new Dictionary<string, string>
        {
            ["Builder__Upstream__MaxAgeSeconds"] = MaxAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Builder__Access__AnonymousRead"] = "true",
            // The build test's one interpreter (a pure project: one wheel either way).
            ["Builder__Build__Pythons__0"] = "cp311",
        }));
        _cooldown = new(() => ProxyGroup.StartAsync(Path.Combine(_root, "cooldown"), new Dictionary<string, string>
        {
            ["Builder__Upstream__MinimumAgeHours"] = "24",
            ["Builder__Access__AnonymousRead"] = "true",
            ["Builder__Upstream__AnonymousRead"] = "true",
        }));
    }

    internal Task<ProxyGroup> GuardedAsync() => _guarded.Value;

    internal Task<ProxyGroup> CooldownAsync() => _cooldown.Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var group in new[] { _guarded, _cooldown }.Where(g => g.IsValueCreated))
        {
            try
            {
                await (await group.Value).DisposeAsync();
            }
            catch (Exception) when (group.Value.IsFaulted)
            {
                // It never started: the test that asked for it already failed with the reason.
            }
        }

        TestPaths.DeleteDirectory(_root);
    }
}

/// <summary>
/// Issue 14, the upstream proxy, against a real upstream (nginx, <see cref="LocalUpstream"/>) and real clients (pip, a build in
/// the local build image): private names never come from upstream, other names do (pages and files, HTML and JSON, with
/// upstream's digests and fields, files verified and kept), a cooldown hides young releases, an outage serves what was
/// fetched, one fetch serves concurrent requests, and read rights apply to proxied names.
/// </summary>
[DockerBuild]
public sealed class UpstreamProxyTests(UpstreamProxyFixture fixture) : IClassFixture<UpstreamProxyFixture>
{
    private const string JsonType = "application/vnd.pypi.simple.v1+json";
    private const string PipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";

    private static Dictionary<string, string> PipEnvironment => new() { ["PIP_CONFIG_FILE"] = "/dev/null" };

    /// <summary>The files a JSON page lists, by file name.</summary>
    private static Dictionary<string, JsonElement> FilesOf(ProxyAnswer page) =>
        page.Json.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("filename").GetString()!);

    private static List<string?> VersionsOf(ProxyAnswer page) => [.. page.Json.GetProperty("versions").EnumerateArray().Select(v => v.GetString())];

    /// <summary>A file entry's URL resolved against its page, as pip resolves it.</summary>
    private static string Resolve(ProxyGroup group, string pagePath, string url) => new Uri(new Uri(group.BaseUrl + pagePath.TrimStart('/')), url).AbsoluteUri;

    private static Task<string> VenvAsync(string root, string python) => Pip.VenvAsync(python, root);

    private static async Task<T> EventuallyAsync<T>(string what, Func<Task<T>> attempt, Func<T, bool> done, Func<T, string>? describe = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var result = await attempt();
            if (done(result))
            {
                return result;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what}: still not so after 10 s; last: {(describe is null ? result?.ToString() : describe(result))}");
            }

            await Task.Delay(250);
        }
    }

    // a. ------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Pip_with_only_builders_index_installs_the_private_package_and_its_public_dependency_never_the_public_squatter()
    {
        var group = await fixture.GuardedAsync();
        var python = await VenvAsync(group.Root, "3.12");

        var install = await Shell.RunAsync(python, ["-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--index-url", group.PipIndexUrl, "acme-billing"],
            environment: PipEnvironment);

        install.EnsureSuccess("pip install acme-billing");
        var imported = (await Shell.RunAsync(python, ["-c", "import acme_billing, public_dep; print(acme_billing.VERSION, hasattr(acme_billing, 'MALICIOUS'), public_dep.VERSION)"]))
            .EnsureSuccess("import");
        Assert.Equal($"{ProxyGroup.PrivateVersion} False 2.0", imported.StandardOutput.Trim());
        Assert.DoesNotContain("malicious", install.Output + imported.Output, StringComparison.OrdinalIgnoreCase);
        // public-dep came through Builder (its file URL), from upstream (its access log).
        Assert.Contains($"{group.BaseUrl}files/public-dep/public_dep-2.0-py3-none-any.whl", install.Output, StringComparison.Ordinal);
        var requests = await group.Upstream.RequestsAsync();
        Assert.Contains(requests, r => r.Path == "/simple/public-dep/" && r.Status == 200);
        Assert.Contains(requests, r => r.Path == "/packages/public-dep/public_dep-2.0-py3-none-any.whl" && r.Status == 200);
        Assert.DoesNotContain(requests, r => r.Path.Contains("acme-billing", StringComparison.Ordinal) || r.Path.Contains("acme_billing", StringComparison.Ordinal));

        // Builder's own page for the private name: the private release only.
        foreach (var accept in new[] { PipAccept, "text/html" })
        {
            var page = await group.GetAsync("/simple/acme-billing/", accept);
            Assert.True(page.Status == HttpStatusCode.OK, page.ToString());
            Assert.DoesNotContain("99.0", page.Text, StringComparison.Ordinal);
            Assert.Contains($"acme_billing-{ProxyGroup.PrivateVersion}-py3-none-any.whl", page.Text, StringComparison.Ordinal);
            Assert.DoesNotContain("tracks", page.Text, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await group.GetAsync("/files/acme-billing/acme_billing-99.0-py3-none-any.whl")).Status);
        Assert.DoesNotContain(await group.Upstream.RequestsAsync(), r => r.Path.Contains("acme-billing", StringComparison.Ordinal) || r.Path.Contains("acme_billing", StringComparison.Ordinal));
    }

    // b. ------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_private_build_whose_backend_only_upstream_has_builds_through_the_relay_and_pip_installs_it()
    {
        var group = await fixture.GuardedAsync();
        var git = await GitRepositories.CreateAsync(Path.Combine(group.Root, "backed"), UpstreamPackages.BuiltWithUpstreamBackend("acme-backed", "1.0.0"), "v1.0.0");
        var repository = await group.Client.RegisterAsync("acme/backed", git.CloneUrl);

        var build = await group.Client.WaitForBuildAsync(await group.Client.PushTagAsync(repository, git));

        await ReleaseAssertions.AssertPublishedAsync(group.Client, build, "acme-backed", "1.0.0");
        var log = await group.Client.GetLogAsync(build.Id);
        Assert.Contains("[setup] build requirements from Builder's index via the relay", log, StringComparison.Ordinal);
        Assert.Contains("upstream_backend-1.0-py3-none-any.whl", log, StringComparison.Ordinal);
        Assert.Contains(UpstreamPackages.BackendWheelLine, log, StringComparison.Ordinal);
        // setup.py imported the backend's module: its marker is in the published metadata.
        var json = await group.GetAsync("/pypi/acme-backed/json");
        Assert.Contains("built by " + UpstreamPackages.BackendMarker, json.Text, StringComparison.Ordinal);
        var requests = await group.Upstream.RequestsAsync();
        Assert.Contains(requests, r => r.Path == "/simple/upstream-backend/" && r.Status == 200);
        Assert.Contains(requests, r => r.Path == "/packages/upstream-backend/upstream_backend-1.0-py3-none-any.whl" && r.Status == 200);

        var python = await Pip.InstallAsync("3.12", group.PipIndexUrl, "acme-backed==1.0.0", Path.Combine(group.Root, "install-backed"));
        var imported = (await Shell.RunAsync(python, ["-c", "import acme_backed; print(acme_backed.VERSION)"])).EnsureSuccess("import acme_backed");
        Assert.Equal("1.0.0", imported.StandardOutput.Trim());
        // A name a build of a registered repository produced is private: never asked upstream.
        Assert.DoesNotContain(await group.Upstream.RequestsAsync(), r => r.Path.Contains("acme-backed", StringComparison.Ordinal) || r.Path.Contains("acme_backed", StringComparison.Ordinal));
    }

    // c. ------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task With_upstream_down_a_fetched_page_is_served_stale_its_stored_file_still_downloads_and_a_name_never_fetched_is_502()
    {
        var group = await fixture.GuardedAsync();
        var page = await group.GetAsync("/simple/stale-dep/", PipAccept);
        Assert.True(page.Status == HttpStatusCode.OK, page.ToString());
        Assert.Equal("fresh", page.Upstream);
        var file = Assert.Single(FilesOf(page)).Value;
        var fileUrl = Resolve(group, "/simple/stale-dep/", file.GetProperty("url").GetString()!);
        var download = await group.GetAsync(fileUrl);
        Assert.Equal(HttpStatusCode.OK, download.Status);
        await Task.Delay(TimeSpan.FromSeconds(UpstreamProxyFixture.MaxAgeSeconds + 1.5)); // the page is no longer fresh

        await group.Upstream.StopAsync();
        try
        {
            foreach (var accept in new[] { PipAccept, "text/html" })
            {
                var stale = await group.GetAsync("/simple/stale-dep/", accept);
                Assert.True(stale.Status == HttpStatusCode.OK, stale.ToString());
                Assert.Equal("stale", stale.Upstream);
                Assert.Contains("stale_dep-1.0-py3-none-any.whl", stale.Text, StringComparison.Ordinal);
            }

            var again = await group.GetAsync(fileUrl);
            Assert.Equal(HttpStatusCode.OK, again.Status);
            Assert.Equal(download.Sha256, again.Sha256);

            var never = await group.GetAsync("/simple/outage-dep/", PipAccept);
            Assert.True(never.Status == HttpStatusCode.BadGateway, never.ToString());
            Assert.Equal("application/problem+json", never.ContentHeaders.ContentType?.MediaType);
            Assert.Contains($"127.0.0.1:{group.Upstream.Port}", never.Detail, StringComparison.Ordinal);
        }
        finally
        {
            await group.Upstream.StartAsync();
        }

        Assert.DoesNotContain(await group.Upstream.RequestsAsync(), r => r.Path.StartsWith("/simple/outage-dep", StringComparison.Ordinal));
    }

    // d. ------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_file_whose_bytes_do_not_match_upstreams_sha256_is_502_and_nothing_is_stored()
    {
        var group = await fixture.GuardedAsync();
        var broken = group.Upstream.Files.Single(f => f.Project == "broken-dep");
        Assert.NotEqual(broken.Sha256, broken.AdvertisedSha256);
        var page = await group.GetAsync("/simple/broken-dep/", PipAccept);
        Assert.True(page.Status == HttpStatusCode.OK, page.ToString());
        var entry = FilesOf(page)[broken.Filename];
        Assert.Equal(broken.AdvertisedSha256, entry.GetProperty("hashes").GetProperty("sha256").GetString());
        var url = Resolve(group, "/simple/broken-dep/", entry.GetProperty("url").GetString()!);
        Assert.Equal($"{group.BaseUrl}files/broken-dep/{broken.Filename}", url);

        foreach (var attempt in new[] { 1, 2 })
        {
            var download = await group.GetAsync(url);
            Assert.True(download.Status == HttpStatusCode.BadGateway, $"attempt {attempt}: {download}");
            Assert.Contains("sha256", download.Detail, StringComparison.Ordinal);
        }

        // Builder did fetch the bytes (the 502 is its verdict, not a failed fetch), and kept none of them.
        Assert.Contains(await group.Upstream.RequestsAsync(), r => r.Path == LocalUpstream.FilePath("broken-dep", broken.Filename) && r.Status == 200);
        Assert.Empty(group.StoredFiles(broken.Filename));
    }

    // e. ------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_cooldown_hides_young_and_undated_files_until_an_admin_allows_the_version()
    {
        var group = await fixture.CooldownAsync();
        const string Young = "public_dep-2.0-py3-none-any.whl";
        const string Undated = "public_dep-1.1-py3-none-any.whl";

        var page = await group.GetAsync("/simple/public-dep/", PipAccept);
        Assert.True(page.Status == HttpStatusCode.OK, page.ToString());
        var files = FilesOf(page);
        Assert.Contains("public_dep-1.0-py3-none-any.whl", files.Keys);
        Assert.DoesNotContain(Young, files.Keys);
        Assert.DoesNotContain(Undated, files.Keys);
        Assert.DoesNotContain("2.0", VersionsOf(page));
        Assert.DoesNotContain("1.1", VersionsOf(page));
        var html = await group.GetAsync("/simple/public-dep/", "text/html");
        Assert.Contains("public_dep-1.0-py3-none-any.whl", html.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(Young, html.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(Undated, html.Text, StringComparison.Ordinal);

        var refused = await group.GetAsync("/files/public-dep/" + Young);
        Assert.True(refused.Status == HttpStatusCode.Forbidden, refused.ToString());
        Assert.Contains("MinimumAgeHours", refused.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await group.GetAsync("/files/public-dep/" + Undated)).Status);
        Assert.Empty(group.StoredFiles(Young));

        var allowed = await group.PostAsync("/api/upstream/allow", new { project = "public-dep", version = "2.0", reason = "the fix for CVE-2026-0001 is needed now" });
        Assert.True(allowed.Status == HttpStatusCode.Created, allowed.ToString());

        var shown = await EventuallyAsync("public-dep 2.0 on the page", () => group.GetAsync("/simple/public-dep/", PipAccept), p => p.Text.Contains(Young, StringComparison.Ordinal));
        Assert.Contains("2.0", VersionsOf(shown));
        Assert.DoesNotContain(Undated, FilesOf(shown).Keys); // only the version allowed
        var young = group.Upstream.Files.Single(f => f.Filename == Young);
        var download = await group.GetAsync(Resolve(group, "/simple/public-dep/", FilesOf(shown)[Young].GetProperty("url").GetString()!));
        Assert.True(download.Status == HttpStatusCode.OK, download.ToString());
        Assert.Equal(young.Sha256, download.Sha256);
        Assert.Equal(HttpStatusCode.Forbidden, (await group.GetAsync("/files/public-dep/" + Undated)).Status);

        var audit = await group.AuditAsync("upstream:allowed");
        Assert.Contains(audit, e => e.GetProperty("project").GetString() == "public-dep");
    }

    // f. ------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_private_name_shows_no_upstream_file_until_an_admin_allows_the_overlap_then_the_page_merges_both_and_tracks_upstream()
    {
        var group = await fixture.CooldownAsync();
        var before = await group.GetAsync("/simple/acme-billing/", PipAccept);
        Assert.True(before.Status == HttpStatusCode.OK, before.ToString());
        Assert.Equal([ProxyGroup.PrivateVersion], VersionsOf(before));
        Assert.False(before.Json.GetProperty("meta").TryGetProperty("tracks", out _));
        Assert.DoesNotContain(await group.Upstream.RequestsAsync(), r => r.Path.Contains("acme-billing", StringComparison.Ordinal));

        // Not normalized on purpose: the allowance is for the project, however it is spelled.
        var allowed = await group.PostAsync("/api/upstream/allow", new { project = "Acme_Billing", reason = "the public acme-billing is ours too" });
        Assert.True(allowed.Status == HttpStatusCode.Created, allowed.ToString());

        var merged = await EventuallyAsync("acme-billing 99.0 on the page", () => group.GetAsync("/simple/acme-billing/", PipAccept), p => p.Text.Contains("99.0", StringComparison.Ordinal));
        Assert.Contains(ProxyGroup.PrivateVersion, VersionsOf(merged));
        Assert.Contains("99.0", VersionsOf(merged));
        var files = FilesOf(merged);
        Assert.Contains($"acme_billing-{ProxyGroup.PrivateVersion}-py3-none-any.whl", files.Keys);
        var upstreamFile = group.Upstream.Files.Single(f => f.Project == "acme-billing");
        var entry = files[upstreamFile.Filename];
        Assert.Equal(upstreamFile.Sha256, entry.GetProperty("hashes").GetProperty("sha256").GetString());
        Assert.Equal($"{group.BaseUrl}files/acme-billing/{upstreamFile.Filename}", Resolve(group, "/simple/acme-billing/", entry.GetProperty("url").GetString()!));
        // PEP 708: the page says which upstream project it tracks.
        var tracks = group.Upstream.ProjectUrl("acme-billing");
        // In JSON, PEP 708 puts "tracks" in the meta object (API version 1.2).
        Assert.Equal([tracks], merged.Json.GetProperty("meta").GetProperty("tracks").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("1.2", merged.Json.GetProperty("meta").GetProperty("api-version").GetString());
        var html = await group.GetAsync("/simple/acme-billing/", "text/html");
        Assert.Contains($"<meta name=\"pypi:tracks\" content=\"{tracks}\">", html.Text, StringComparison.Ordinal);
        Assert.Contains(upstreamFile.Filename, html.Text, StringComparison.Ordinal);
        Assert.Contains(await group.Upstream.RequestsAsync(), r => r.Path == "/simple/acme-billing/");

        var audit = await group.AuditAsync("upstream:allowed");
        Assert.Contains(audit, e => e.GetProperty("project").GetString() == "acme-billing");
    }

    [Fact]
    public async Task A_reserved_name_without_private_files_is_404_and_never_asked_upstream()
    {
        var group = await fixture.GuardedAsync();
        var unauthenticated = await group.PostAsync("/api/upstream/reserve", new { project = "reserved-dep", reason = "no credentials" }, anonymous: true);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.Status);

        var reserved = await group.PostAsync("/api/upstream/reserve", new { project = "Reserved.Dep", reason = "our next internal package" });
        Assert.True(reserved.Status == HttpStatusCode.Created, reserved.ToString());

        foreach (var accept in new[] { PipAccept, "text/html" })
        {
            var page = await group.GetAsync("/simple/reserved-dep/", accept);
            Assert.True(page.Status == HttpStatusCode.NotFound, page.ToString());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await group.GetAsync("/files/reserved-dep/reserved_dep-1.0-py3-none-any.whl")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await group.GetAsync("/files/reserved-dep/reserved_dep-1.0-py3-none-any.whl.metadata")).Status);
        Assert.DoesNotContain(await group.Upstream.RequestsAsync(), r => r.Path.Contains("reserved-dep", StringComparison.Ordinal) || r.Path.Contains("reserved_dep", StringComparison.Ordinal));
        var audit = await group.AuditAsync("upstream:reserved");
        Assert.Contains(audit, e => e.GetProperty("project").GetString() == "reserved-dep");
    }

    // g. ------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Twenty_concurrent_requests_fetch_a_page_from_upstream_once_and_after_max_age_it_is_revalidated_with_304()
    {
        var group = await fixture.GuardedAsync();
        const string PagePath = "/simple/flight-dep/";
        Assert.Empty(await group.Upstream.RequestsForAsync(PagePath));

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => group.GetAsync(PagePath, PipAccept)));

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.OK, a.ToString()));
        Assert.All(answers, a => Assert.Equal("fresh", a.Upstream));
        Assert.Single(answers.Select(a => a.Text).Distinct());
        Assert.Contains("flight_dep-1.0-py3-none-any.whl", answers[0].Text, StringComparison.Ordinal);
        var fetched = Assert.Single(await group.Upstream.RequestsForAsync(PagePath));
        Assert.Equal(200, fetched.Status);

        await Task.Delay(TimeSpan.FromSeconds(UpstreamProxyFixture.MaxAgeSeconds + 1.5));
        var later = await group.GetAsync(PagePath, PipAccept);
        Assert.True(later.Status == HttpStatusCode.OK, later.ToString());
        Assert.Equal(answers[0].Text, later.Text);

        // The revalidation may finish just after the answer (served while revalidating): wait for it.
        var requests = await EventuallyAsync("the revalidation in the upstream's log", () => group.Upstream.RequestsForAsync(PagePath), r => r.Count >= 2,
            r => string.Join("; ", r));
        Assert.Equal([200, 304], requests.Select(r => r.Status));
    }

    // h. ------------------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_read_token_limited_to_acme_gets_404_for_a_proxied_name()
    {
        var group = await fixture.GuardedAsync();
        var created = await group.PostAsync("/api/tokens", new { name = "acme-reader", scopes = new[] { "read" }, projects = new[] { "acme-*" } });
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        var token = new AuthenticationHeaderValue("Bearer", created.Json.GetProperty("token").GetString());

        // The token works for its projects ...
        Assert.Equal(HttpStatusCode.OK, (await group.GetAsync("/simple/acme-billing/", PipAccept, token)).Status);
        // ... and a proxied name is not one of them, in either format, nor its files.
        foreach (var accept in new[] { PipAccept, "text/html" })
        {
            var page = await group.GetAsync("/simple/public-dep/", accept, token);
            Assert.True(page.Status == HttpStatusCode.NotFound, page.ToString());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await group.GetAsync("/files/public-dep/public_dep-1.0-py3-none-any.whl", authorization: token)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await group.GetAsync("/files/public-dep/public_dep-1.0-py3-none-any.whl.metadata", authorization: token)).Status);
        // The admin sees it: the 404 is the token's rights, not a missing page.
        var admin = await group.GetAsync("/simple/public-dep/", PipAccept);
        Assert.True(admin.Status == HttpStatusCode.OK, admin.ToString());
    }

    [Fact]
    public async Task Anonymous_readers_get_proxied_names_only_when_upstream_anonymous_read_is_on()
    {
        // Guarded: Builder__Access__AnonymousRead=true, Builder__Upstream__AnonymousRead unset (false).
        var guarded = await fixture.GuardedAsync();
        Assert.Equal(HttpStatusCode.OK, (await guarded.GetAsync("/simple/acme-billing/", PipAccept, anonymous: true)).Status);
        var refused = await guarded.GetAsync("/simple/public-dep/", PipAccept, anonymous: true);
        // The contract says only "does not get": a 404 (as for any project one may not read) or a 401 (so pip sends credentials).
        Assert.True(refused.Status is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized, refused.ToString());
        Assert.DoesNotContain("public_dep", refused.Text, StringComparison.Ordinal);

        // Cooldown: both settings true.
        var open = await fixture.CooldownAsync();
        var page = await open.GetAsync("/simple/public-dep/", PipAccept, anonymous: true);
        Assert.True(page.Status == HttpStatusCode.OK, page.ToString());
        Assert.Equal("fresh", page.Upstream);
        Assert.Contains("public_dep-1.0-py3-none-any.whl", FilesOf(page).Keys);
    }

    // The fields and the file semantics ----------------------------------------------------------------------------------

    [Fact]
    public async Task A_proxied_page_keeps_upstreams_fields_and_its_files_are_fetched_once_then_served_from_builders_store()
    {
        var group = await fixture.GuardedAsync();
        var json = await group.GetAsync("/simple/public-dep/", PipAccept);
        var html = await group.GetAsync("/simple/public-dep/", "text/html");

        Assert.True(json.Status == HttpStatusCode.OK, json.ToString());
        Assert.Equal(JsonType, json.ContentHeaders.ContentType?.MediaType);
        Assert.Equal("text/html", html.ContentHeaders.ContentType?.MediaType);
        Assert.Equal("fresh", json.Upstream);
        Assert.Equal("fresh", html.Upstream);
        Assert.Contains("Accept", json.Headers.Vary);
        Assert.Equal("1.1", json.Json.GetProperty("meta").GetProperty("api-version").GetString());
        Assert.Equal("public-dep", json.Json.GetProperty("name").GetString());
        var files = FilesOf(json);
        var upstreamFiles = group.Upstream.Files.Where(f => f.Project == "public-dep").ToList();
        Assert.Equal(upstreamFiles.Select(f => f.Filename).Order(StringComparer.Ordinal), files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["0.9", "1.0", "1.1", "2.0"], VersionsOf(json).Order(StringComparer.Ordinal));
        foreach (var file in upstreamFiles)
        {
            var entry = files[file.Filename];
            var url = Resolve(group, "/simple/public-dep/", entry.GetProperty("url").GetString()!);
            Assert.Equal($"{group.BaseUrl}files/public-dep/{file.Filename}", url);
            Assert.Equal(file.Sha256, entry.GetProperty("hashes").GetProperty("sha256").GetString());
            Assert.Equal(file.RequiresPython, entry.GetProperty("requires-python").GetString());
            Assert.Equal(file.Size, entry.GetProperty("size").GetInt64());
            if (file.UploadTime is { } uploaded)
            {
                var served = DateTimeOffset.Parse(entry.GetProperty("upload-time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(Math.Abs((served - uploaded).TotalMilliseconds) < 1, $"{file.Filename}: upload-time {served:O}, upstream {uploaded:O}");
            }
            else
            {
                Assert.True(!entry.TryGetProperty("upload-time", out var time) || time.ValueKind == JsonValueKind.Null, entry.ToString());
            }

            if (file.Yanked is null)
            {
                Assert.False(entry.GetProperty("yanked").GetBoolean());
            }
            else
            {
                Assert.Equal(file.Yanked, entry.GetProperty("yanked").GetString());
                Assert.Contains($"data-yanked=\"{file.Yanked}\"", html.Text, StringComparison.Ordinal);
            }

            if (file.MetadataSha256 is null)
            {
                Assert.False(entry.GetProperty("core-metadata").GetBoolean());
            }
            else
            {
                Assert.Equal(file.MetadataSha256, entry.GetProperty("core-metadata").GetProperty("sha256").GetString());
                Assert.Contains($"data-core-metadata=\"sha256={file.MetadataSha256}\"", html.Text, StringComparison.Ordinal);
            }

            Assert.Contains($"href=\"../../files/public-dep/{file.Filename}#sha256={file.Sha256}\"", html.Text, StringComparison.Ordinal);
        }

        Assert.Contains("data-requires-python=\"&gt;=3.7\"", html.Text, StringComparison.Ordinal);

        // A file: fetched from upstream on the first request, then from Builder's store (GET, HEAD, Range, ETag).
        var one = upstreamFiles.Single(f => f.Filename == "public_dep-1.0-py3-none-any.whl");
        var fileUrl = $"/files/public-dep/{one.Filename}";
        var first = await group.GetAsync(fileUrl);
        Assert.True(first.Status == HttpStatusCode.OK, first.ToString());
        Assert.Equal(one.Sha256, first.Sha256);
        var second = await group.GetAsync(fileUrl);
        Assert.Equal(one.Sha256, second.Sha256);
        var etag = second.Headers.ETag?.Tag;
        Assert.NotNull(etag);
        var notModified = await group.GetAsync(fileUrl, configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", etag));
        Assert.Equal(HttpStatusCode.NotModified, notModified.Status);
        var range = await group.GetAsync(fileUrl, configure: r => r.Headers.Range = new RangeHeaderValue(10, 109));
        Assert.Equal(HttpStatusCode.PartialContent, range.Status);
        Assert.Equal(first.Body.AsSpan(10, 100).ToArray(), range.Body);
        var head = await group.SendAsync(HttpMethod.Head, fileUrl);
        Assert.Equal(HttpStatusCode.OK, head.Status);
        Assert.Equal(one.Size, head.ContentHeaders.ContentLength);
        Assert.Empty(head.Body);
        var metadata = await group.GetAsync(fileUrl + ".metadata");
        Assert.True(metadata.Status == HttpStatusCode.OK, metadata.ToString());
        Assert.Equal(one.MetadataSha256, metadata.Sha256);
        Assert.StartsWith("Metadata-Version: 2.1\nName: public-dep\nVersion: 1.0\n", metadata.Text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await group.GetAsync(fileUrl + ".metadata")).Status);

        var requests = await group.Upstream.RequestsAsync();
        Assert.Single(requests, r => r.Path == LocalUpstream.FilePath("public-dep", one.Filename));
        Assert.True(requests.Count(r => r.Path == LocalUpstream.FilePath("public-dep", one.Filename) + ".metadata") <= 1, string.Join('\n', requests));
        // Kept under the store's upstream keys ({DataDir}/files/_upstream-{project}/{sha256}-{filename}).
        Assert.Contains(group.StoredFiles(one.Filename), f => f == System.IO.Path.Combine(group.DataDir, "files", "_upstream-public-dep", one.Sha256 + "-" + one.Filename));
    }
}
