using System.Text;
using System.Text.Json;
using Builder.Index;
using Builder.Index.Upstream;

namespace Builder.Tests.Integration.Index;

/// <summary>Reading upstream pages (PEP 691 JSON, PEP 503 HTML) and rendering proxied pages with PEP 708 tracks.</summary>
public sealed class UpstreamPageParserTests
{
    private const string Sha = "c6bcc64322b33fed9fa252ac842af9c05f664346b5750dafa1b3bed625330971";
    private const string MetaSha = "cede91e6a4be4eb213e1128874388c410404c3da0640bccec03bde7b2b817f8e";
    private static readonly Uri Page = new("https://upstream.example/simple/public-dep/");

    [Fact]
    public void Json_pages_keep_every_field_and_resolve_relative_urls()
    {
        var json = """
        {"meta":{"api-version":"1.1"},"name":"public-dep","versions":["1.0","2.0"],"files":[
          {"filename":"public_dep-1.0-py3-none-any.whl","url":"../../packages/public_dep-1.0-py3-none-any.whl","hashes":{"sha256":"SHA"},
           "requires-python":">=3.8","size":981,"upload-time":"2020-01-02T03:04:05.000000Z","yanked":"broken","core-metadata":{"sha256":"METASHA"}},
          {"filename":"public-dep-2.0.tar.gz","url":"https://files.example/p/public-dep-2.0.tar.gz","hashes":{"sha256":"SHAUPPER"},"yanked":true,"dist-info-metadata":true},
          {"filename":"public_dep-3.0-py3-none-any.whl","url":"https://files.example/x.whl","hashes":{"md5":"abc"}},
          {"filename":"other_name-1.0-py3-none-any.whl","url":"https://files.example/o.whl","hashes":{"sha256":"SHA"}},
          {"filename":"public_dep-4.0.exe","url":"https://files.example/o.exe","hashes":{"sha256":"SHA"}},
          {"filename":"public_dep-5.0-py3-none-any.whl","url":"file:///etc/passwd","hashes":{"sha256":"SHA"}}
        ]}
        """.Replace("SHAUPPER", Sha.ToUpperInvariant(), StringComparison.Ordinal).Replace("METASHA", MetaSha, StringComparison.Ordinal).Replace("SHA", Sha, StringComparison.Ordinal);
        var project = UpstreamPageParser.Parse("public-dep", Page, "application/vnd.pypi.simple.v1+json", Encoding.UTF8.GetBytes(json));

        Assert.Equal(["1.0", "2.0"], project.Versions);
        // No sha256, another project's name, not a distribution, not http(s): left out.
        Assert.Equal(2, project.Files.Count);
        var wheel = project.Files[0];
        Assert.Equal(new Uri("https://upstream.example/packages/public_dep-1.0-py3-none-any.whl"), wheel.Url);
        Assert.Equal(Sha, wheel.Sha256);
        Assert.Equal("1.0", wheel.Version);
        Assert.Equal(">=3.8", wheel.RequiresPython);
        Assert.Equal(981, wheel.Size);
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero), wheel.UploadTime);
        Assert.True(wheel.Yanked);
        Assert.Equal("broken", wheel.YankedReason);
        Assert.Equal(MetaSha, wheel.MetadataSha256);

        var sdist = project.Files[1];
        Assert.Equal("2.0", sdist.Version);
        Assert.Equal(Sha, sdist.Sha256);
        Assert.True(sdist.Yanked);
        Assert.Null(sdist.YankedReason);
        Assert.Null(sdist.UploadTime);
        Assert.Null(sdist.Size);
        // "true" without a hash cannot be verified: no sidecar is offered.
        Assert.Null(sdist.MetadataSha256);
    }

    [Fact]
    public void Html_pages_give_hashes_from_fragments_and_unescape_attributes()
    {
        var html = $"""
        <!DOCTYPE html><html><body>
        <a href="../../packages/public_dep-1.0-py3-none-any.whl#sha256={Sha}" data-requires-python="&gt;=3.8" data-yanked="" data-dist-info-metadata="sha256={MetaSha}">public_dep-1.0-py3-none-any.whl</a><br/>
        <A HREF='https://files.example/public-dep-2.0.tar.gz#sha256={Sha}' data-yanked="bad &amp; old">public-dep-2.0.tar.gz</A>
        <a href="https://files.example/public_dep-3.0.tar.gz#md5=abc">public_dep-3.0.tar.gz</a>
        <a href="https://files.example/public_dep-4.0.tar.gz">public_dep-4.0.tar.gz</a>
        </body></html>
        """;
        var project = UpstreamPageParser.Parse("public-dep", Page, "text/html", Encoding.UTF8.GetBytes(html));

        Assert.Equal(2, project.Files.Count);
        var wheel = project.Files[0];
        Assert.Equal(new Uri("https://upstream.example/packages/public_dep-1.0-py3-none-any.whl"), wheel.Url);
        Assert.Equal(">=3.8", wheel.RequiresPython);
        Assert.True(wheel.Yanked);
        Assert.Null(wheel.YankedReason);
        Assert.Equal(MetaSha, wheel.MetadataSha256);
        Assert.Null(wheel.UploadTime);
        Assert.Equal("bad & old", project.Files[1].YankedReason);
        Assert.Empty(project.Versions);
    }

    [Fact]
    public void Pages_with_tracks_say_api_version_1_2_and_carry_the_upstream_page_in_both_formats()
    {
        var tracked = "https://upstream.example/simple/acme-billing/";
        IndexEntry[] files =
        [
            new("acme_billing-1.0-py3-none-any.whl", "1.0", Sha, null, false, null, null, 10, DateTimeOffset.UnixEpoch),
            new("acme_billing-99.0-py3-none-any.whl", "99.0", Sha, null, false, null, null, null, null, Upstream: true),
        ];
        var pages = IndexPages.RenderProject("acme-billing", files, [tracked], publicBase: null);

        using var json = JsonDocument.Parse(pages.Json.Body);
        var meta = json.RootElement.GetProperty("meta");
        Assert.Equal("1.2", meta.GetProperty("api-version").GetString());
        Assert.Equal(tracked, Assert.Single(meta.GetProperty("tracks").EnumerateArray()).GetString());
        var upstreamFile = json.RootElement.GetProperty("files")[1];
        // Unknown size and upload time are left out, not invented.
        Assert.False(upstreamFile.TryGetProperty("size", out _));
        Assert.False(upstreamFile.TryGetProperty("upload-time", out _));
        Assert.True(pages.Files["acme_billing-99.0-py3-none-any.whl"].Upstream);
        Assert.False(pages.Files["acme_billing-1.0-py3-none-any.whl"].Upstream);

        var html = Encoding.UTF8.GetString(pages.Html.Body);
        Assert.Contains($"<meta name=\"pypi:tracks\" content=\"{tracked}\">", html, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"pypi:repository-version\" content=\"1.2\">", html, StringComparison.Ordinal);

        var untracked = IndexPages.RenderProject("acme-billing", files[..1], [], publicBase: null);
        Assert.DoesNotContain("tracks", Encoding.UTF8.GetString(untracked.Json.Body), StringComparison.Ordinal);
        Assert.Contains("\"api-version\":\"1.1\"", Encoding.UTF8.GetString(untracked.Json.Body), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://x/simple/", "Builder:Upstream:Url")]
    [InlineData("https://user:pw@x/simple/", "Builder:Upstream:Url")]
    [InlineData("not a url", "Builder:Upstream:Url")]
    public void Bad_urls_are_named_at_start(string url, string key)
    {
        var problems = new UpstreamOptions { Url = url }.Problems().ToList();
        Assert.Contains(problems, p => p.StartsWith(key, StringComparison.Ordinal));
        Assert.Empty(new UpstreamOptions { Url = "https://pypi.org/simple" }.Problems());
        Assert.Equal(new Uri("https://pypi.org/simple/"), new UpstreamOptions { Url = "https://pypi.org/simple" }.BaseUri);
        Assert.Null(new UpstreamOptions().BaseUri);
        Assert.Contains(new UpstreamOptions { MinimumAgeHours = -1 }.Problems(), p => p.StartsWith("Builder:Upstream:MinimumAgeHours", StringComparison.Ordinal));
        Assert.Contains(new UpstreamOptions { MaxAgeSeconds = -1 }.Problems(), p => p.StartsWith("Builder:Upstream:MaxAgeSeconds", StringComparison.Ordinal));
    }
}
