using System.Net;
using System.Net.Http.Json;
using Builder.Tests.Integration.Ui;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// State-changing requests a browser says another site or origin sent (<c>Sec-Fetch-Site</c>, <c>Origin</c>) are refused
/// on every route, whatever credentials they carry; clients that are not browsers (no Fetch Metadata, no Origin) and
/// Builder's own pages are not. The real browser's side of this is <see cref="BrowserSecurityTests"/>.
/// </summary>
public sealed class CrossSiteRequestTests : IDisposable
{
    private const string Prefix = "cross-site request refused: ";
    private const string Unyank = "/api/projects/acme-app/releases/1.0/unyank";
    private const string Own = "http://localhost"; // the test host's own origin

    private readonly AccessHost _host = new();

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task A_write_a_browser_marks_as_sent_by_another_site_or_origin_is_refused_and_changes_nothing()
    {
        await _host.PublishAsync("acme-app", "1.0");
        await YankAsync();
        (string? Site, string? Origin, string Reason)[] refused =
        [
            ("cross-site", "https://evil.example", "the browser says another site sent it (Sec-Fetch-Site: cross-site, Origin: https://evil.example)"),
            ("cross-site", null, "the browser says another site sent it (Sec-Fetch-Site: cross-site, Origin: (none))"),
            ("same-site", "http://localhost:8081", $"the browser says another origin of this site sent it (Sec-Fetch-Site: same-site, Origin: http://localhost:8081), not {Own}"),
            ("same-site", "null", $"the browser says another origin of this site sent it (Sec-Fetch-Site: same-site, Origin: null), not {Own}"),
            // Browsers without Fetch Metadata send Origin alone.
            (null, "https://evil.example", $"Origin https://evil.example is not this server's ({Own}); behind a reverse proxy, pass the browser's Host header on (or set Builder__PublicUrl)"),
            (null, "http://localhost:8081", $"Origin http://localhost:8081 is not this server's ({Own}); behind a reverse proxy, pass the browser's Host header on (or set Builder__PublicUrl)"),
            (null, "https://localhost", $"Origin https://localhost is not this server's ({Own}); behind a reverse proxy, pass the browser's Host header on (or set Builder__PublicUrl)"),
            (null, "null", "Origin: null (a page without an origin of its own: a sandboxed frame, a file) with credentials"),
        ];
        foreach (var (site, origin, reason) in refused)
        {
            var answer = await SendAsync(HttpMethod.Post, Unyank, site, origin);
            Assert.True(answer.Status == HttpStatusCode.Forbidden && answer.Detail == Prefix + reason,
                $"Sec-Fetch-Site {site ?? "(none)"}, Origin {origin ?? "(none)"}: expected 403 '{Prefix + reason}', got {answer}");
            Assert.Equal(answer.Detail, answer.ReasonPhrase);
        }

        // Every method that changes something, on every kind of route: the upload, the JSON API, the UI's forms.
        var upload = await _host.SendAsync(HttpMethod.Post, "/legacy/", AccessHost.Admin, Upload.LegacyUpload.Twine(_host.WheelFile("acme-app", "2.0"), "acme-app", "2.0").ToContent(),
            r => r.Headers.Add("Sec-Fetch-Site", "cross-site"));
        var patch = await SendAsync(HttpMethod.Patch, "/api/people/nobody", "cross-site", "https://evil.example", JsonContent.Create(new { disabled = true }));
        var delete = await SendAsync(HttpMethod.Delete, "/api/tokens/1", "cross-site", "https://evil.example");
        var put = await SendAsync(HttpMethod.Put, "/api/whoami", "cross-site", "https://evil.example");
        var signIn = await new UiClient(_host).PostFormAsync("/sign-in", [new("userName", "nobody"), new("password", "not-a-password-1")]);
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.Status); // without Fetch Metadata: the form's own answer
        var forgedSignIn = await SendAsync(HttpMethod.Post, "/sign-in", "cross-site", "https://evil.example", auth: false);
        Assert.All([upload, patch, delete, put, forgedSignIn], a => Assert.True(a.Code == 403 && a.Detail!.StartsWith(Prefix, StringComparison.Ordinal), a.ToString()));

        // Nothing changed; reads are not refused (a link from another site to the index still opens).
        var page = await SendAsync(HttpMethod.Get, "/simple/acme-app/", "cross-site", "https://evil.example");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("data-yanked", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("acme_app-2.0", page.Body, StringComparison.Ordinal);
        // Origin: null without credentials is the route's to answer (here: who are you?).
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Post, Unyank, null, "null", auth: false)).Status);
    }

    [Fact]
    public async Task Clients_that_are_not_browsers_and_builders_own_pages_still_write()
    {
        await _host.PublishAsync("acme-app", "1.0");
        (string? Site, string? Origin)[] allowed =
        [
            (null, null), // pip, twine, poetry, uv, curl, a forge's webhook
            ("same-origin", Own),
            ("none", null), // the person's own action (typed, bookmarked)
            ("same-site", Own),
            (null, Own),
            (null, "http://LOCALHOST:80"), // the same origin, spelled otherwise
        ];
        foreach (var (site, origin) in allowed)
        {
            await YankAsync();
            var answer = await SendAsync(HttpMethod.Post, Unyank, site, origin);
            Assert.True(answer.Status == HttpStatusCode.OK, $"Sec-Fetch-Site {site ?? "(none)"}, Origin {origin ?? "(none)"}: {answer}");
            Assert.DoesNotContain("data-yanked", (await _host.GetAsync("/simple/acme-app/", AccessHost.Admin)).Body, StringComparison.Ordinal);
        }

        // An upload as twine sends it.
        var uploaded = await _host.UploadAsync(_host.WheelFile("acme-app", "2.0"), "acme-app", "2.0", AccessHost.Admin);
        Assert.True(uploaded.Status == HttpStatusCode.OK, uploaded.ToString());
        Assert.Contains("acme_app-2.0", (await _host.GetAsync("/simple/acme-app/", AccessHost.Admin)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Behind_a_known_proxy_the_forwarded_scheme_and_Builder_PublicUrl_give_the_servers_own_origin()
    {
        using var host = new AccessHost(kestrel: true, settings: new()
        {
            ["Builder:Access:KnownProxies:0"] = "127.0.0.1",
            ["Builder:PublicUrl"] = "https://builder.example/",
        });
        await host.PublishAsync("acme-app", "1.0");
        async Task<Answer> UnyankAsync(string origin) =>
            await host.SendAsync(HttpMethod.Post, Unyank, AccessHost.Admin, configure: r =>
            {
                r.Headers.Add("X-Forwarded-Proto", "https");
                r.Headers.Add("Origin", origin);
            });

        // The proxy says the browser came over HTTPS: the request's own origin is https://127.0.0.1:PORT.
        Assert.Equal(HttpStatusCode.OK, (await UnyankAsync($"https://127.0.0.1:{host.Port}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await UnyankAsync("https://builder.example")).Status);
        var http = await UnyankAsync($"http://127.0.0.1:{host.Port}");
        Assert.Equal(HttpStatusCode.Forbidden, http.Status);
        Assert.Equal($"{Prefix}Origin http://127.0.0.1:{host.Port} is not this server's (https://127.0.0.1:{host.Port}); behind a reverse proxy, pass the browser's Host header on (or set Builder__PublicUrl)", http.Detail);
        Assert.Equal(HttpStatusCode.Forbidden, (await UnyankAsync("https://builder.example.evil")).Status);
    }

    private async Task YankAsync()
    {
        var yank = await _host.PostJsonAsync("/api/projects/acme-app/releases/1.0/yank", new { reason = "broken" }, AccessHost.Admin);
        Assert.True(yank.Status == HttpStatusCode.OK, yank.ToString());
    }

    /// <summary>A request as a browser sends it, with <c>Sec-Fetch-Site</c> and <c>Origin</c> when given, and the admin's credentials unless told otherwise.</summary>
    private Task<Answer> SendAsync(HttpMethod method, string path, string? site, string? origin, HttpContent? content = null, bool auth = true) =>
        _host.SendAsync(method, path, auth ? AccessHost.Admin : null, content, r =>
        {
            if (site is not null)
            {
                r.Headers.Add("Sec-Fetch-Site", site);
            }

            if (origin is not null)
            {
                r.Headers.Add("Origin", origin);
            }
        });
}
