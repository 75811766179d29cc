using System.Net;
using System.Text.Json;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Index;

/// <summary>
/// The local upstream on its own, before Builder proxies it: real pip installs from it (JSON and HTML pages, both URL kinds,
/// PEP 658 sidecars), nginx answers conditional GETs with 304, and it goes down and up on the same port.
/// </summary>
public sealed class LocalUpstreamTests : IAsyncLifetime
{
    private const string JsonType = "application/vnd.pypi.simple.v1+json";
    private const string PipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";

    private readonly string _work = TestPaths.NewTempDirectory("local-upstream");
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private LocalUpstream _upstream = null!;

    public async Task InitializeAsync()
    {
        _upstream = await LocalUpstream.StartNewAsync();
        _upstream.Add("public-dep", UpstreamPackages.PublicDep(_work, "1.0"), UpstreamPackages.LongAgo, UpstreamPackages.PublicRequiresPython);
        _upstream.Add("public-dep", UpstreamPackages.PublicDep(_work, "2.0"), DateTimeOffset.UtcNow, UpstreamPackages.PublicRequiresPython);
        _upstream.Add("public-dep", UpstreamPackages.PublicDep(_work, "2.1"), UpstreamPackages.LongAgo, UpstreamPackages.PublicRequiresPython, yanked: "broken <metadata>");
        _upstream.Add("public-dep", Distributions.Sdist(_work, "public-dep", "2.0", UpstreamPackages.PublicRequiresPython), uploadTime: null, UpstreamPackages.PublicRequiresPython);
        _upstream.Render();
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        TestPaths.DeleteDirectory(_work);
    }

    private static async Task<(HttpResponseMessage Response, string Body)> GetAsync(string url, string? accept = null, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        var response = await Http.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("3.7", "22.")] // HTML pages only: relative URLs
    [InlineData("3.12", "23.")] // JSON pages: absolute URLs, and the PEP 658 sidecars
    public async Task Pip_installs_from_it_with_only_its_index_url_skipping_the_yanked_release(string python, string pip)
    {
        var executable = await Pip.VenvAsync(python, _work);
        Assert.StartsWith("pip " + pip, (await Shell.RunAsync(executable, ["-m", "pip", "--version"])).Output, StringComparison.Ordinal);

        var install = await Shell.RunAsync(executable, ["-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--only-binary", ":all:", "--index-url", _upstream.SimpleUrl, "public-dep"],
            environment: new Dictionary<string, string> { ["PIP_CONFIG_FILE"] = "/dev/null" });
        install.EnsureSuccess("pip install public-dep");

        Assert.Equal("2.0", (await Shell.RunAsync(executable, ["-c", "import public_dep; print(public_dep.VERSION)"])).EnsureSuccess("import").Output.Trim());
        var requests = await _upstream.RequestsAsync();
        var page = Assert.Single(requests, r => r.Path == "/simple/public-dep/");
        Assert.Equal(200, page.Status);
        Assert.Contains(requests, r => r.Path == "/packages/public-dep/public_dep-2.0-py3-none-any.whl" && r.Status == 200);
        if (python == "3.12")
        {
            Assert.Contains(JsonType, page.Accept, StringComparison.Ordinal);
            // pip checked the sidecar against the page's core-metadata hash before using it.
            Assert.Contains(requests, r => r.Path == "/packages/public-dep/public_dep-2.0-py3-none-any.whl.metadata" && r.Status == 200);
        }
        else
        {
            Assert.DoesNotContain(JsonType, page.Accept, StringComparison.Ordinal);
        }

        var pinned = await Shell.RunAsync(executable, ["-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--index-url", _upstream.SimpleUrl, "public-dep==2.1"],
            environment: new Dictionary<string, string> { ["PIP_CONFIG_FILE"] = "/dev/null" });
        pinned.EnsureSuccess("pip install public-dep==2.1");
        Assert.Contains("broken <metadata>", pinned.Output, StringComparison.Ordinal); // pip warns with the reason
    }

    [Fact]
    public async Task Pages_negotiate_carry_the_fields_and_a_conditional_get_is_answered_304()
    {
        var url = _upstream.ProjectUrl("Public_Dep");

        var (json, jsonBody) = await GetAsync(url, PipAccept);
        var (html, htmlBody) = await GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal(JsonType, json.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", json.Headers.Vary);
        var page = JsonDocument.Parse(jsonBody).RootElement;
        Assert.Equal("1.1", page.GetProperty("meta").GetProperty("api-version").GetString());
        Assert.Equal("public-dep", page.GetProperty("name").GetString());
        Assert.Equal(["1.0", "2.0", "2.1"], page.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        var files = page.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("filename").GetString()!);
        foreach (var file in _upstream.Files)
        {
            var entry = files[file.Filename];
            Assert.Equal($"{_upstream.BaseUrl}packages/public-dep/{file.Filename}", entry.GetProperty("url").GetString());
            Assert.Equal(file.Sha256, entry.GetProperty("hashes").GetProperty("sha256").GetString());
            Assert.Equal(file.Size, entry.GetProperty("size").GetInt64());
            Assert.Equal(">=3.7", entry.GetProperty("requires-python").GetString());
            using var download = await Http.GetAsync(entry.GetProperty("url").GetString());
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await download.Content.ReadAsByteArrayAsync())));
        }

        Assert.Equal("2020-01-01T00:00:00.000000Z", files["public_dep-1.0-py3-none-any.whl"].GetProperty("upload-time").GetString());
        Assert.False(files["public_dep-2.0.tar.gz"].TryGetProperty("upload-time", out _));
        Assert.False(files["public_dep-2.0.tar.gz"].GetProperty("core-metadata").GetBoolean());
        Assert.False(files["public_dep-1.0-py3-none-any.whl"].GetProperty("yanked").GetBoolean());
        Assert.Equal("broken <metadata>", files["public_dep-2.1-py3-none-any.whl"].GetProperty("yanked").GetString());
        var metadataHash = files["public_dep-1.0-py3-none-any.whl"].GetProperty("core-metadata").GetProperty("sha256").GetString();
        var (sidecar, metadata) = await GetAsync($"{_upstream.BaseUrl}packages/public-dep/public_dep-1.0-py3-none-any.whl.metadata");
        Assert.Equal(metadataHash, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await sidecar.Content.ReadAsByteArrayAsync())));
        Assert.StartsWith("Metadata-Version: 2.1\nName: public-dep\nVersion: 1.0\n", metadata, StringComparison.Ordinal);

        var one = _upstream.Files[0];
        Assert.Contains($"<a href=\"../../packages/public-dep/{one.Filename}#sha256={one.Sha256}\" data-requires-python=\"&gt;=3.7\" data-core-metadata=\"sha256={metadataHash}\" data-dist-info-metadata=\"sha256={metadataHash}\">", htmlBody, StringComparison.Ordinal);
        Assert.Contains("data-yanked=\"broken &lt;metadata&gt;\"", htmlBody, StringComparison.Ordinal);

        // nginx's ETag (mtime and size of the page file): the same page again is 304, for both formats.
        foreach (var (response, accept) in new[] { (json, PipAccept), (html, (string?)null) })
        {
            var etag = response.Headers.ETag?.Tag;
            Assert.NotNull(etag);
            var (again, body) = await GetAsync(url, accept, etag);
            Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
            Assert.Empty(body);
        }

        Assert.NotEqual(json.Headers.ETag?.Tag, html.Headers.ETag?.Tag);
        var statuses = (await _upstream.RequestsForAsync("/simple/public-dep/")).Select(r => r.Status);
        Assert.Equal([200, 200, 304, 304], statuses);

        // Rendering again without a change keeps the page (and its ETag); a new file changes it.
        _upstream.Render();
        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(url, PipAccept, json.Headers.ETag!.Tag)).Response.StatusCode);
        await Task.Delay(1100); // nginx's ETag has the page's mtime in seconds
        _upstream.Add("public-dep", UpstreamPackages.PublicDep(_work, "3.0"), DateTimeOffset.UtcNow, UpstreamPackages.PublicRequiresPython);
        _upstream.Render();
        var (changed, changedBody) = await GetAsync(url, PipAccept, json.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Contains("public_dep-3.0-py3-none-any.whl", changedBody, StringComparison.Ordinal);

        var (root, rootBody) = await GetAsync(_upstream.SimpleUrl, JsonType);
        Assert.Equal(JsonType, root.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["public-dep"], JsonDocument.Parse(rootBody).RootElement.GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_upstream.ProjectUrl("nothing-here"))).Response.StatusCode);
    }

    [Fact]
    public async Task It_stops_refusing_connections_and_starts_again_on_the_same_port()
    {
        var url = _upstream.ProjectUrl("public-dep");
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(url)).Response.StatusCode);

        await _upstream.StopAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync(url));
        Assert.Single(_upstream.Requests(), r => r.Path == "/simple/public-dep/");

        await _upstream.StartAsync();

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(url)).Response.StatusCode);
        Assert.Equal(2, (await _upstream.RequestsForAsync("/simple/public-dep/")).Count);
    }

    [Fact]
    public async Task The_backend_only_it_has_builds_the_private_fixture_project_with_pip()
    {
        // The acceptance test builds this project in Builder's container through the proxy; here pip builds it on the host
        // from the upstream directly, with setuptools and wheel from a local directory (as the build image's wheelhouse).
        _upstream.Add("upstream-backend", UpstreamPackages.UpstreamBackend(_work), UpstreamPackages.LongAgo);
        _upstream.Render();
        var wheelhouse = Path.Combine(_work, "wheelhouse");
        Directory.CreateDirectory(wheelhouse);
        var tests = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Pip.PythonExecutable("3.12")))!, "lib", "python3.12", "test");
        foreach (var wheel in Directory.EnumerateFiles(tests, "*.whl", SearchOption.AllDirectories)
                     .Where(w => Path.GetFileName(w).StartsWith("setuptools-", StringComparison.Ordinal) || Path.GetFileName(w).StartsWith("wheel-", StringComparison.Ordinal)))
        {
            File.Copy(wheel, Path.Combine(wheelhouse, Path.GetFileName(wheel)), overwrite: true);
        }

        var project = Path.Combine(_work, "acme-backed");
        foreach (var (path, content) in UpstreamPackages.BuiltWithUpstreamBackend("acme-backed", "1.0.0"))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(project, path))!);
            await File.WriteAllTextAsync(Path.Combine(project, path), content);
        }

        var python = await Pip.VenvAsync("3.12", _work);
        var output = Path.Combine(_work, "out");
        var build = await Shell.RunAsync(python,
            ["-m", "pip", "wheel", "-v", "--no-deps", "--no-cache-dir", "--disable-pip-version-check", "--index-url", _upstream.SimpleUrl, "--find-links", wheelhouse, "-w", output, project],
            environment: new Dictionary<string, string> { ["PIP_CONFIG_FILE"] = "/dev/null" });

        build.EnsureSuccess("pip wheel acme-backed");
        Assert.Contains(UpstreamPackages.BackendWheelLine, build.Output, StringComparison.Ordinal);
        var built = Assert.Single(Directory.GetFiles(output, "acme_backed-1.0.0-*.whl"));
        using var zip = System.IO.Compression.ZipFile.OpenRead(built);
        using var metadata = new StreamReader(zip.GetEntry("acme_backed-1.0.0.dist-info/METADATA")!.Open());
        Assert.Contains("Summary: built by " + UpstreamPackages.BackendMarker, await metadata.ReadToEndAsync(), StringComparison.Ordinal);
        Assert.Contains(await _upstream.RequestsAsync(), r => r.Path == "/packages/upstream-backend/upstream_backend-1.0-py3-none-any.whl" && r.Status == 200);
    }
}
