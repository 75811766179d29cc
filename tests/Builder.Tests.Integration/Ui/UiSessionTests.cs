using System.Net;
using Builder.Tests.Integration.Access;
using Microsoft.EntityFrameworkCore;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// The web UI's sign-in, session cookie, anti-forgery and headers, over HTTP against the real app (the browser tests
/// drive the same pages in chromium).
/// </summary>
public sealed class UiSessionTests : IDisposable
{
    private const string Password = "alice-password-1";
    private readonly AccessHost _host = new();

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task A_person_signs_in_gets_a_strict_session_cookie_that_reads_but_cannot_post_to_the_api_and_signing_out_ends_it_on_the_server()
    {
        await _host.CreatePersonAsync("alice", Password, new { role = "reader", projects = new[] { "acme-*" } });
        var browser = new UiClient(_host);

        var anonymous = await browser.GetAsync("/tokens");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.Status);
        Assert.Equal("/sign-in?returnUrl=%2Ftokens", anonymous.Headers.Location?.OriginalString);

        // No anti-forgery token: refused before any password is checked.
        var forged = await browser.PostFormAsync("/sign-in", [new("userName", "alice"), new("password", Password)], withToken: false);
        Assert.Equal(HttpStatusCode.BadRequest, forged.Status);
        Assert.False(browser.Cookies.ContainsKey("builder_session"));

        var wrong = await browser.SignInAsync("alice", "not-her-password");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Contains("Unknown user name or wrong password.", wrong.Body, StringComparison.Ordinal);
        Assert.False(browser.Cookies.ContainsKey("builder_session"));

        var signedIn = await browser.SignInAsync("alice", Password, returnUrl: "/tokens");
        Assert.Equal(HttpStatusCode.Redirect, signedIn.Status);
        Assert.Equal("/tokens", signedIn.Headers.Location?.OriginalString);
        var cookie = Assert.Single(browser.LastSetCookies, c => c.StartsWith("builder_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase); // plain HTTP here; see the HTTPS test
        var secret = browser.Cookies["builder_session"];

        var page = await browser.GetAsync("/tokens");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("alice", page.Body, StringComparison.Ordinal);
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.True(page.Headers.CacheControl?.NoStore, "pages showing private data are never stored by caches");

        var whoami = await browser.GetAsync("/api/whoami");
        Assert.Equal("person:alice", whoami.Json.GetProperty("principal").GetString());

        // The cookie reads; it never writes through the JSON API (no other site can make the browser post there).
        var apiPost = await browser.SendAsync(HttpMethod.Post, "/api/tokens", System.Net.Http.Json.JsonContent.Create(new { name = "x", scopes = new[] { "read" } }));
        Assert.Equal(HttpStatusCode.Unauthorized, apiPost.Status);

        // Only the secret's hash is stored; signing out ends the session for every copy of the cookie.
        var stored = await _host.WithDbAsync(db => db.Sessions.AsNoTracking().SingleAsync());
        Assert.NotEqual(secret, stored.SecretHash);
        Assert.Null(stored.EndedAt);
        var signedOut = await browser.PostFormAsync("/sign-out", [], tokenFrom: "/tokens");
        Assert.Equal(HttpStatusCode.Redirect, signedOut.Status);
        Assert.False(browser.Cookies.ContainsKey("builder_session"));
        Assert.NotNull((await _host.WithDbAsync(db => db.Sessions.AsNoTracking().SingleAsync())).EndedAt);

        var replay = new UiClient(_host);
        replay.Cookies["builder_session"] = secret;
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync("/api/whoami")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await replay.GetAsync("/tokens")).Status);

        var actions = (await _host.AuditAsync()).Select(a => a.Action).ToList();
        Assert.Contains("person:login_failed", actions);
        Assert.Contains("person:signed_in", actions);
        Assert.Contains("person:signed_out", actions);
    }

    [Fact]
    public async Task A_disabled_person_loses_their_session_at_once_and_https_makes_the_cookie_secure()
    {
        await _host.CreatePersonAsync("bob", Password, new { role = "admin" });
        var browser = new UiClient(_host);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.SignInAsync("bob", Password)).Status);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/audit")).Status);

        var disabled = await _host.PatchJsonAsync("/api/people/bob", new { disabled = true }, AccessHost.Admin);
        Assert.Equal(HttpStatusCode.OK, disabled.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/whoami")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/audit")).Status);

        // Over HTTPS (here the test host's https base address) the session cookie is Secure.
        await _host.CreatePersonAsync("carol", Password, new { role = "reader" });
        using var https = _host.Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
        {
            BaseAddress = new Uri("https://localhost/"),
            AllowAutoRedirect = false,
            HandleCookies = true,
        });
        var form = await https.GetStringAsync("/sign-in");
        using var answer = await https.PostAsync("/sign-in", new FormUrlEncodedContent(
            [new("userName", "carol"), new("password", Password), new("__csrf", UiClient.AntiforgeryToken(form))]));
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        var cookie = Assert.Single(answer.Headers.GetValues("Set-Cookie"), c => c.StartsWith("builder_session=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_new_password_ends_every_session_the_person_has_on_the_server_and_the_new_one_signs_in()
    {
        await _host.CreatePersonAsync("dora", Password, new { role = "reader" });
        var laptop = new UiClient(_host);
        var phone = new UiClient(_host);
        Assert.Equal(HttpStatusCode.Redirect, (await laptop.SignInAsync("dora", Password)).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await phone.SignInAsync("dora", Password)).Status);
        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync("/api/whoami")).Status);
        Assert.Equal(HttpStatusCode.OK, (await phone.GetAsync("/api/whoami")).Status);

        // Other changes keep the sessions.
        Assert.Equal(HttpStatusCode.OK, (await _host.PatchJsonAsync("/api/people/dora", new { displayName = "Dora" }, AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync("/api/whoami")).Status);

        const string newPassword = "dora-password-2";
        Assert.Equal(HttpStatusCode.OK, (await _host.PatchJsonAsync("/api/people/dora", new { password = newPassword }, AccessHost.Admin)).Status);
        foreach (var browser in new[] { laptop, phone })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/whoami")).Status);
            Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/tokens")).Status);
        }

        Assert.All(await _host.WithDbAsync(db => db.Sessions.AsNoTracking().ToListAsync()), s => Assert.NotNull(s.EndedAt));
        var changed = (await _host.AuditAsync()).Last(a => a.Action == "person:changed");
        Assert.Equal("password, 2 web sessions ended", changed.Detail);

        Assert.Equal(HttpStatusCode.Unauthorized, (await laptop.SignInAsync("dora", Password)).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await laptop.SignInAsync("dora", newPassword)).Status);
        Assert.Equal("person:dora", (await laptop.GetAsync("/api/whoami")).Json.GetProperty("principal").GetString());
    }

    [Fact]
    public async Task A_person_disabled_and_enabled_again_signs_in_again_their_old_session_stays_ended()
    {
        await _host.CreatePersonAsync("erin", Password, new { role = "reader" });
        var browser = new UiClient(_host);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.SignInAsync("erin", Password)).Status);
        var secret = browser.Cookies["builder_session"];
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/whoami")).Status);

        Assert.Equal(HttpStatusCode.OK, (await _host.PatchJsonAsync("/api/people/erin", new { disabled = true }, AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/whoami")).Status);
        Assert.Equal(HttpStatusCode.OK, (await _host.PatchJsonAsync("/api/people/erin", new { disabled = false }, AccessHost.Admin)).Status);

        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/whoami")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/tokens")).Status);
        Assert.NotNull((await _host.WithDbAsync(db => db.Sessions.AsNoTracking().SingleAsync())).EndedAt);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.SignInAsync("erin", Password)).Status);
        Assert.NotEqual(secret, browser.Cookies["builder_session"]);
        Assert.Equal("person:erin", (await browser.GetAsync("/api/whoami")).Json.GetProperty("principal").GetString());
    }

    [Fact]
    public async Task Every_answer_says_nosniff_and_the_index_html_pages_carry_the_ui_pages_frame_and_content_policies()
    {
        var wheel = await _host.PublishAsync("acme-app", "1.0");
        const string pipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
        var ui = await new UiClient(_host).GetAsync("/sign-in");
        var asset = System.Text.RegularExpressions.Regex.Match(ui.Body, "href=\"(/static/[^\"]+)\"").Groups[1].Value;
        var root = await _host.GetAsync("/simple/", AccessHost.Admin);
        var answers = new Dictionary<string, Answer>
        {
            ["UI page"] = ui,
            ["UI asset"] = await _host.GetAsync(asset),
            ["index root, HTML"] = root,
            ["index root, not modified"] = await _host.SendAsync(HttpMethod.Get, "/simple/", AccessHost.Admin, configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", root.Headers.ETag!.Tag)),
            ["project page, HTML"] = await _host.GetAsync("/simple/acme-app/", AccessHost.Admin),
            ["project page, JSON"] = await _host.GetAsync("/simple/acme-app/", AccessHost.Admin, pipAccept),
            ["project page, other spelling"] = await _host.GetAsync("/simple/Acme_App/", AccessHost.Admin),
            ["file"] = await _host.GetAsync($"/files/acme-app/{wheel}", AccessHost.Admin),
            ["missing file"] = await _host.GetAsync("/files/acme-app/acme_app-9.9-py3-none-any.whl", AccessHost.Admin),
            ["missing project"] = await _host.GetAsync("/simple/no-such-project/", AccessHost.Admin),
            ["no such route"] = await _host.GetAsync("/no/such/route", AccessHost.Admin),
            ["no credentials"] = await _host.GetAsync("/simple/"),
            ["bad credentials"] = await _host.GetAsync("/simple/", AccessHost.BearerOf("bld_not-a-token")),
            ["format not served"] = await _host.GetAsync("/simple/?format=text/plain", AccessHost.Admin),
            ["JSON API"] = await _host.GetAsync("/api/whoami", AccessHost.Admin),
            ["bad JSON request"] = await _host.PostJsonAsync("/api/tokens", new { name = "" }, AccessHost.Admin),
        };
        Assert.Equal(
            [200, 200, 200, 304, 200, 200, 301, 200, 404, 404, 404, 401, 401, 406, 200, 400],
            answers.Values.Select(a => a.Code));
        Assert.All(answers, a => Assert.True(a.Value.Headers.TryGetValues("X-Content-Type-Options", out var values) && values.SequenceEqual(["nosniff"]),
            $"{a.Key} ({a.Value.Code}) says X-Content-Type-Options: nosniff"));

        // The index's HTML pages may not be framed and run nothing, exactly as the UI's pages.
        var csp = Assert.Single(ui.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        var frames = Assert.Single(ui.Headers.GetValues("X-Frame-Options"));
        foreach (var page in new[] { "index root, HTML", "project page, HTML" })
        {
            Assert.Equal(csp, Assert.Single(answers[page].Headers.GetValues("Content-Security-Policy")));
            Assert.Equal(frames, Assert.Single(answers[page].Headers.GetValues("X-Frame-Options")));
        }
    }

    [Fact]
    public async Task Assets_are_served_at_content_hashed_urls_with_immutable_caching_and_pages_use_no_inline_script()
    {
        var page = await new UiClient(_host).GetAsync("/sign-in");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        var urls = System.Text.RegularExpressions.Regex.Matches(page.Body, "(?:src|href)=\"(/static/[^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, urls.Count); // app.css and app.js
        Assert.All(urls, url => Assert.Matches(@"^/static/(css|js)/app\.[0-9a-f]{12}\.(css|js)$", url));
        Assert.DoesNotMatch("<script>|<script [^>]*>[^<]", page.Body); // every script has a src and no body
        Assert.DoesNotContain("style=", page.Body, StringComparison.Ordinal);

        foreach (var url in urls)
        {
            var asset = await _host.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, asset.Status);
            Assert.Equal("public, max-age=31536000, immutable", asset.Headers.CacheControl?.ToString());
            Assert.False(string.IsNullOrEmpty(asset.Body));
            var etag = asset.Headers.ETag!.Tag;
            var again = await _host.SendAsync(HttpMethod.Get, url, configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", etag));
            Assert.Equal(HttpStatusCode.NotModified, again.Status);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await _host.GetAsync("/static/js/app.000000000000.js")).Status);
    }

    [Fact]
    public async Task Search_as_you_type_gets_the_results_fragment_alone_with_only_what_the_person_may_read()
    {
        await _host.PublishAsync("acme-app", "1.0");
        await _host.PublishAsync("other-lib", "1.0");
        await _host.CreatePersonAsync("rita", Password, new { role = "reader", projects = new[] { "acme-*" } });
        var browser = new UiClient(_host);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.SignInAsync("rita", Password)).Status);

        var page = await browser.GetAsync("/?q=a");
        Assert.Contains("<html", page.Body, StringComparison.Ordinal);
        Assert.Contains("class=\"project-link\" href=\"/project/acme-app/\"", page.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("other-lib", page.Body, StringComparison.Ordinal);

        var fragment = await browser.GetAsync("/?q=acme&partial=true");
        Assert.Equal(HttpStatusCode.OK, fragment.Status);
        Assert.DoesNotContain("<html", fragment.Body, StringComparison.Ordinal);
        Assert.StartsWith("<p class=\"muted\">1 package matching", fragment.Body.Trim(), StringComparison.Ordinal);
        Assert.Contains("acme-app", fragment.Body, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync("/project/other-lib/")).Status);
    }
}
