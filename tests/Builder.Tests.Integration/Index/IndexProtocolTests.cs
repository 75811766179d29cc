using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Index;

/// <summary>The simple API over HTTP: formats, fields, names, caching and the HTTP semantics of files.</summary>
public sealed class IndexProtocolTests : IDisposable
{
    private const string Json = "application/vnd.pypi.simple.v1+json";
    private const string PipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
    private readonly ServedIndex _index = new();

    public void Dispose() => _index.Dispose();

    private async Task<(HttpResponseMessage Response, string Body)> GetAsync(string path, string? accept = null, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        var response = await _index.Http.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    private async Task<string> PublishWidgetsAsync()
    {
        var wheel = Distributions.Wheel(_index.Work, "Acme.Widgets", "1.0.0", requiresPython: ">=3.8,!=3.9.*,<4");
        var sdist = Distributions.Sdist(_index.Work, "Acme.Widgets", "1.0.0", requiresPython: ">=3.8,!=3.9.*,<4");
        await _index.PublishAsync(wheel, sdist);
        return wheel;
    }

    [Fact]
    public async Task Project_page_is_html_by_default_and_json_for_pip_with_vary_and_the_pep_700_fields()
    {
        var wheel = await PublishWidgetsAsync();

        var (html, htmlBody) = await GetAsync("/simple/acme-widgets/");
        var (json, jsonBody) = await GetAsync("/simple/acme-widgets/", PipAccept);

        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Json, json.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", html.Headers.Vary);
        Assert.Contains("Accept", json.Headers.Vary);
        Assert.Contains("<meta name=\"pypi:repository-version\" content=\"1.1\">", htmlBody, StringComparison.Ordinal);

        var page = JsonDocument.Parse(jsonBody).RootElement;
        Assert.Equal("1.1", page.GetProperty("meta").GetProperty("api-version").GetString());
        Assert.Equal("acme-widgets", page.GetProperty("name").GetString());
        Assert.Equal(["1.0.0"], page.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        var file = page.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("filename").GetString()!.EndsWith(".whl", StringComparison.Ordinal));
        Assert.Equal(Distributions.Sha256(wheel), file.GetProperty("hashes").GetProperty("sha256").GetString());
        Assert.Equal(">=3.8,!=3.9.*,<4", file.GetProperty("requires-python").GetString());
        Assert.Equal(new FileInfo(wheel).Length, file.GetProperty("size").GetInt64());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", file.GetProperty("upload-time").GetString());
        Assert.False(file.GetProperty("yanked").GetBoolean());
        Assert.Matches("^[0-9a-f]{64}$", file.GetProperty("core-metadata").GetProperty("sha256").GetString());
        // PEP 714: the old JSON key would crash pip 22.3-23.1, so it is not served.
        Assert.False(file.TryGetProperty("dist-info-metadata", out _));
        var sdist = page.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("filename").GetString()!.EndsWith(".tar.gz", StringComparison.Ordinal));
        Assert.False(sdist.GetProperty("core-metadata").GetBoolean());
    }

    [Fact]
    public async Task Html_escapes_requires_python_and_carries_both_metadata_attributes_with_the_sidecars_hash()
    {
        var wheel = await PublishWidgetsAsync();
        var name = Path.GetFileName(wheel);

        var (_, body) = await GetAsync("/simple/acme-widgets/");
        var (sidecar, metadata) = await GetAsync($"/files/acme-widgets/{name}.metadata");
        var metadataHash = Convert.ToHexStringLower(SHA256.HashData(await sidecar.Content.ReadAsByteArrayAsync()));

        Assert.Contains($"href=\"../../files/acme-widgets/{name}#sha256={Distributions.Sha256(wheel)}\"", body, StringComparison.Ordinal);
        Assert.Contains("data-requires-python=\"&gt;=3.8,!=3.9.*,&lt;4\"", body, StringComparison.Ordinal);
        Assert.Contains($"data-core-metadata=\"sha256={metadataHash}\"", body, StringComparison.Ordinal);
        Assert.Contains($"data-dist-info-metadata=\"sha256={metadataHash}\"", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, sidecar.StatusCode);
        Assert.StartsWith("Metadata-Version: 2.1\nName: Acme.Widgets\nVersion: 1.0.0", metadata, StringComparison.Ordinal);
        // The sdist has no sidecar.
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/files/acme-widgets/acme_widgets-1.0.0.tar.gz.metadata")).Response.StatusCode);
    }

    [Theory]
    [InlineData(null, "text/html")]
    [InlineData("*/*", "text/html")]
    [InlineData("application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.v1+html")]
    [InlineData("application/vnd.pypi.simple.latest+json", Json)]
    [InlineData("image/png", "text/html")]
    public async Task Root_negotiates_like_warehouse(string? accept, string expected)
    {
        await PublishWidgetsAsync();

        var (response, body) = await GetAsync("/simple/", accept);

        Assert.Equal(expected, response.Content.Headers.ContentType?.MediaType);
        if (expected == Json)
        {
            var projects = JsonDocument.Parse(body).RootElement.GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("name").GetString());
            Assert.Equal(["acme-widgets"], projects);
        }
        else
        {
            Assert.Contains("<a href=\"acme-widgets/\">acme-widgets</a>", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Format_query_parameter_wins_and_unknown_formats_are_406()
    {
        await PublishWidgetsAsync();

        var (json, _) = await GetAsync($"/simple/acme-widgets/?format={Json}", accept: "text/html");
        var (bad, badBody) = await GetAsync("/simple/acme-widgets/?format=xml");

        Assert.Equal(Json, json.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotAcceptable, bad.StatusCode);
        Assert.Contains("application/vnd.pypi.simple.v1+json", badBody, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/simple/Acme.Widgets/", "/simple/acme-widgets/")]
    [InlineData("/simple/ACME_widgets/", "/simple/acme-widgets/")]
    [InlineData("/simple/acme--widgets/", "/simple/acme-widgets/")]
    [InlineData("/simple/acme-widgets", "/simple/acme-widgets/")]
    [InlineData("/pypi/Acme.Widgets/json", "/pypi/acme-widgets/json")]
    public async Task Other_spellings_redirect_permanently_to_the_normalized_url(string path, string location)
    {
        await PublishWidgetsAsync();

        var (response, _) = await GetAsync(path);

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(location, response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Unknown_project_is_404_with_a_short_message()
    {
        var (response, body) = await GetAsync("/simple/no-such-thing/", PipAccept);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("no project named 'no-such-thing'", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_answer_304_to_their_etag_and_a_publish_changes_the_very_next_response()
    {
        await PublishWidgetsAsync();
        var (first, firstBody) = await GetAsync("/simple/acme-widgets/");
        var etag = first.Headers.ETag!.Tag;

        var (notModified, _) = await GetAsync("/simple/acme-widgets/", ifNoneMatch: etag);
        await _index.PublishAsync(Distributions.Wheel(_index.Work, "acme-widgets", "1.1.0"));
        var (after, afterBody) = await GetAsync("/simple/acme-widgets/", ifNoneMatch: etag);
        var (root, _) = await GetAsync("/simple/");

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.DoesNotContain("1.1.0", firstBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Contains("acme_widgets-1.1.0-py3-none-any.whl", afterBody, StringComparison.Ordinal);
        Assert.NotEqual(etag, after.Headers.ETag!.Tag);
        Assert.Contains("max-age", first.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
    }

    [Fact]
    public async Task Files_have_type_length_etag_immutable_caching_ranges_and_head_and_are_never_gzipped()
    {
        var wheel = await PublishWidgetsAsync();
        var url = $"/files/acme-widgets/{Path.GetFileName(wheel)}";
        var bytes = await File.ReadAllBytesAsync(wheel);

        using var get = new HttpRequestMessage(HttpMethod.Get, url);
        get.Headers.AcceptEncoding.ParseAdd("gzip, br");
        using var full = await _index.Http.SendAsync(get);
        using var rangeRequest = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Range = new RangeHeaderValue(10, 29) } };
        using var range = await _index.Http.SendAsync(rangeRequest);
        using var head = await _index.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
        using var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.TryAddWithoutValidation("If-None-Match", $"\"{Distributions.Sha256(wheel)}\"");
        using var notModified = await _index.Http.SendAsync(conditional);

        Assert.Equal(bytes, await full.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/octet-stream", full.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes.Length, full.Content.Headers.ContentLength);
        Assert.Empty(full.Content.Headers.ContentEncoding);
        Assert.Equal($"\"{Distributions.Sha256(wheel)}\"", full.Headers.ETag?.Tag);
        Assert.Contains("bytes", full.Headers.AcceptRanges);
        Assert.Contains("immutable", full.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(bytes[10..30], await range.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal("application/gzip", (await GetAsync("/files/acme-widgets/acme_widgets-1.0.0.tar.gz")).Response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Yank_and_unyank_change_the_next_response_in_both_formats()
    {
        await PublishWidgetsAsync();
        await GetAsync("/simple/acme-widgets/");

        using var anonymous = new HttpRequestMessage(HttpMethod.Post, "/api/projects/acme-widgets/releases/1.0.0/yank");
        anonymous.Headers.Authorization = null;
        using var unauthorized = await new HttpClient { BaseAddress = _index.Http.BaseAddress }.SendAsync(anonymous);
        using var yank = await _index.AdminPostAsync("/api/projects/Acme.Widgets/releases/1.0/yank", new { reason = "broken <build> & \"quotes\"" });
        var (_, html) = await GetAsync("/simple/acme-widgets/");
        var (_, json) = await GetAsync("/simple/acme-widgets/", Json);
        using var unyank = await _index.AdminPostAsync("/api/projects/acme-widgets/releases/1.0.0/unyank");
        var (_, after) = await GetAsync("/simple/acme-widgets/");
        using var missing = await _index.AdminPostAsync("/api/projects/acme-widgets/releases/9.9.9/yank");

        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal(HttpStatusCode.OK, yank.StatusCode);
        Assert.Contains("data-yanked=\"broken &lt;build&gt; &amp; &quot;quotes&quot;\"", html, StringComparison.Ordinal);
        Assert.All(JsonDocument.Parse(json).RootElement.GetProperty("files").EnumerateArray(),
            f => Assert.Equal("broken <build> & \"quotes\"", f.GetProperty("yanked").GetString()));
        Assert.Equal(HttpStatusCode.OK, unyank.StatusCode);
        Assert.DoesNotContain("data-yanked", after, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        // A yanked file stays downloadable.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/files/acme-widgets/acme_widgets-1.0.0.tar.gz")).Response.StatusCode);
    }

    [Fact]
    public async Task A_deleted_file_leaves_the_index_and_its_name_can_never_be_published_again()
    {
        var wheel = await PublishWidgetsAsync();
        var name = Path.GetFileName(wheel);

        using var delete = await _index.AdminDeleteAsync($"/api/projects/acme-widgets/files/{name}");
        var (_, page) = await GetAsync("/simple/acme-widgets/");
        var (download, _) = await GetAsync($"/files/acme-widgets/{name}");
        var republish = await Assert.ThrowsAsync<Builder.Index.PublishConflictException>(() => _index.PublishAsync(wheel));

        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.DoesNotContain(name, page, StringComparison.Ordinal);
        Assert.Contains("acme_widgets-1.0.0.tar.gz", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        Assert.Contains("can never be used again", republish.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_index.DataDir, "files", "acme-widgets", name)), "the bytes are removed");
    }

    [Fact]
    public async Task The_same_file_published_ten_times_at_once_is_published_once_and_every_publish_succeeds()
    {
        // 16 MB: the copy into storage keeps every publish between its existence check and its insert at once.
        var wheel = Distributions.Wheel(_index.Work, "acme-racy", "1.0.0", payloadBytes: 16 * 1024 * 1024);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => _index.PublishAsync(wheel))));

        Assert.Single(outcomes, o => o == Builder.Index.PublishOutcome.Published);
        Assert.All(outcomes, o => Assert.True(o is Builder.Index.PublishOutcome.Published or Builder.Index.PublishOutcome.AlreadyPublished));
        Assert.Contains("acme_racy-1.0.0-py3-none-any.whl", (await GetAsync("/simple/acme-racy/")).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pypi_json_api_has_warehouses_shape()
    {
        await PublishWidgetsAsync();
        await _index.PublishAsync(Distributions.Wheel(_index.Work, "acme-widgets", "1.1.0", requiresDist: ["requests>=2"]));
        await _index.PublishAsync(Distributions.Wheel(_index.Work, "acme-widgets", "2.0.0rc1"));

        var (response, body) = await GetAsync("/pypi/acme-widgets/json");
        var (release, releaseBody) = await GetAsync("/pypi/acme-widgets/1.0.0/json");
        var (missing, _) = await GetAsync("/pypi/acme-widgets/3.0/json");

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        var info = json.GetProperty("info");
        Assert.Equal("1.1.0", info.GetProperty("version").GetString()); // the newest final release, not the rc
        Assert.Equal("acme-widgets", info.GetProperty("name").GetString());
        Assert.Equal("A test package", info.GetProperty("summary").GetString());
        Assert.Equal(["requests>=2"], info.GetProperty("requires_dist").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["1.0.0", "1.1.0", "2.0.0rc1"], json.GetProperty("releases").EnumerateObject().Select(p => p.Name));
        var url = json.GetProperty("urls").EnumerateArray().Single();
        Assert.Equal("bdist_wheel", url.GetProperty("packagetype").GetString());
        Assert.Equal("py3", url.GetProperty("python_version").GetString());
        Assert.StartsWith(_index.BaseUrl + "files/acme-widgets/", url.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _index.Http.GetAsync(url.GetProperty("url").GetString())).StatusCode);
        Assert.True(json.GetProperty("last_serial").GetInt64() > 0);

        var releaseJson = JsonDocument.Parse(releaseBody).RootElement;
        Assert.Equal(HttpStatusCode.OK, release.StatusCode);
        Assert.Equal("1.0.0", releaseJson.GetProperty("info").GetProperty("version").GetString());
        Assert.Equal(2, releaseJson.GetProperty("urls").GetArrayLength());
        Assert.Contains(releaseJson.GetProperty("urls").EnumerateArray(), u => u.GetProperty("packagetype").GetString() == "sdist");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
