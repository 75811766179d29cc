using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// What a browser cannot be made to do, in a real chromium against one embedded Builder web process (no Docker builds):
/// signing out from the header ends the session on the server, and a page of another site (<c>127.0.0.2</c>) or of
/// another origin of Builder's site (another port of <c>127.0.0.1</c>) cannot make a browser that holds Builder
/// credentials upload or unyank, while Builder's own pages and clients that are not browsers still can.
/// </summary>
public sealed class BrowserSecurityTests(BrowserSession browser, EmbeddedBuilder builder, ITestOutputHelper output)
    : IClassFixture<BrowserSession>, IClassFixture<EmbeddedBuilder>
{
    private const string RefusalPrefix = "cross-site request refused: ";

    private string BaseUrl => builder.BaseUrl;

    [Fact]
    public async Task Sign_out_in_the_header_ends_the_session_on_the_server_so_its_cookie_is_anonymous_afterwards()
    {
        const string password = "sam-password-1";
        using (var created = await builder.Client.Http.PostAsJsonAsync("/api/people", new { userName = "sam", password, roles = new[] { new { role = "reader" } } }))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"create sam: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        await using var tab = await browser.NewPageAsync(BaseUrl);
        await tab.Page.GotoAsync("/sign-in");
        var form = tab.Page.Locator("main form");
        await form.Locator("input[name=userName]").FillAsync("sam");
        await form.Locator("input[name=password]").FillAsync(password);
        await form.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // Commit: the page after the sign-in's redirect has arrived (its styles and script need not have loaded yet).
        await tab.Page.WaitForURLAsync(BaseUrl + "/", new() { WaitUntil = WaitUntilState.Commit });
        var signOut = tab.Page.Locator("header").GetByRole(AriaRole.Button, new() { Name = "Sign out" });
        await signOut.WaitForAsync();
        var secret = (await tab.Context.CookiesAsync()).Single(c => c.Name == "builder_session").Value;
        var (signedIn, principal) = await WhoAmIAsync(secret);
        Assert.True(signedIn == HttpStatusCode.OK && principal == "person:sam", $"the browser's session cookie is sam's: {(int)signedIn} {principal}");

        // The page the click leads to (after any redirect).
        var answer = await tab.Page.RunAndWaitForResponseAsync(() => signOut.ClickAsync(), r => r.Request.IsNavigationRequest && r.Status is < 300 or >= 400);
        Assert.True(answer.Status == 200 && answer.Url == BaseUrl + "/sign-in",
            $"'Sign out' in the header leads to the sign-in page; it answered {answer.Status} at {answer.Url}: {await answer.TextAsync()}");
        Assert.DoesNotContain(await tab.Context.CookiesAsync(), c => c.Name == "builder_session");

        // The old cookie, sent again (as a copy of it would be), is nobody: the answer to no credentials at all.
        var (replayed, replayedAs) = await WhoAmIAsync(secret);
        var (none, _) = await WhoAmIAsync(null);
        Assert.Equal(HttpStatusCode.Unauthorized, none);
        Assert.True(replayed == none, $"the ended session's cookie is anonymous: {(int)replayed} {replayedAs}");
        tab.AssertNoScriptRan();
    }

    [Fact]
    public async Task A_page_of_another_site_or_origin_cannot_make_a_browser_holding_credentials_upload_or_unyank()
    {
        var dist = Path.Combine(builder.Root, "dist-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dist);
        const string unyankPath = "/api/projects/acme-csrf/releases/1.0/unyank";
        // Set up by a client that is not a browser (no Sec-Fetch-Site, no Origin), as twine and curl send.
        await AssertUploadedAsync(LegacyUpload.Twine(Distributions.Wheel(dist, "acme-csrf", "1.0"), "acme-csrf", "1.0"));
        using (var yank = await builder.Client.Http.PostAsJsonAsync("/api/projects/acme-csrf/releases/1.0/yank", new { reason = "broken" }))
        {
            Assert.Equal(HttpStatusCode.OK, yank.StatusCode);
        }

        var upload = LegacyUpload.Twine(Distributions.Wheel(dist, "acme-csrf", "2.0"), "acme-csrf", "2.0");
        await using var otherSite = await ForeignSite.StartAsync("127.0.0.2");
        await using var otherOrigin = await ForeignSite.StartAsync("127.0.0.1");

        // The browser is given the admin token at Builder's HTTP Basic prompt (Builder challenges browsers too), as a
        // person browsing the index would type it; it then sends it to Builder whenever Builder asks again.
        await using var tab = await browser.NewPageAsync(BaseUrl, configure: o => o.HttpCredentials = new HttpCredentials
        {
            Username = "__token__",
            Password = BuilderInstance.AdminToken,
            Origin = BaseUrl,
        });
        var whoami = await tab.Page.GotoAsync("/api/whoami");
        Assert.True(whoami is { Status: 200 }, $"the browser authenticates at Builder's prompt: {whoami?.Status}");
        Assert.Equal("admin-token", JsonDocument.Parse(await whoami!.TextAsync()).RootElement.GetProperty("principal").GetString());

        foreach (var (site, marked) in new[] { (otherSite, "Sec-Fetch-Site: cross-site"), (otherOrigin, "Sec-Fetch-Site: same-site") })
        {
            site.Serve("/" + upload.FileName, upload.Content, "application/octet-stream");
            site.Serve("/unyank", Html(UnyankPage(unyankPath)), "text/html; charset=utf-8");
            site.Serve("/upload", Html(UploadPage(upload)), "text/html; charset=utf-8");
            // A navigation's 401 is not its answer: the browser answers Builder's challenge with the credentials it holds.
            var fetched = tab.Page.WaitForResponseAsync(r => r.Url == BaseUrl + unyankPath && !r.Request.IsNavigationRequest);
            var submitted = tab.Page.WaitForResponseAsync(r => r.Url == BaseUrl + unyankPath && r.Request.IsNavigationRequest && r.Status != 401);
            await tab.Page.GotoAsync(site.Url + "/unyank", new() { WaitUntil = WaitUntilState.Commit });
            var refused = new List<IResponse> { await fetched, await submitted };
            // The answer's page is shown before the next page is opened (else that navigation would cut this one short).
            await tab.Page.WaitForURLAsync(BaseUrl + unyankPath, new() { WaitUntil = WaitUntilState.Commit });
            var uploaded = tab.Page.WaitForResponseAsync(r => r.Url == BaseUrl + "/legacy/" && r.Status != 401);
            await tab.Page.GotoAsync(site.Url + "/upload", new() { WaitUntil = WaitUntilState.Commit });
            refused.Add(await uploaded);
            await tab.Page.WaitForURLAsync(BaseUrl + "/legacy/", new() { WaitUntil = WaitUntilState.Commit });
            foreach (var response in refused)
            {
                output.WriteLine($"{site.Url}: {response.Request.Method} {response.Url} ({response.Request.ResourceType}) → {response.Status} {response.StatusText}");
            }

            foreach (var response in refused)
            {
                Assert.True(response.Status == 403 && response.StatusText.StartsWith(RefusalPrefix, StringComparison.Ordinal) && response.StatusText.Contains(marked, StringComparison.Ordinal),
                    $"a page of {site.Url} made the browser POST {response.Url} ({response.Request.ResourceType}); Builder answered {response.Status} {response.StatusText}");
            }
        }

        // Nothing changed: 1.0 is still yanked, and 2.0 is not on the index.
        var page = await builder.Client.Http.GetStringAsync("/simple/acme-csrf/");
        Assert.Contains("data-yanked", page, StringComparison.Ordinal);
        Assert.DoesNotContain(upload.FileName, page, StringComparison.Ordinal);

        // The same browser on Builder's own page (same-origin) still acts with its credentials.
        Assert.Equal(200, (await tab.Page.GotoAsync("/simple/acme-csrf/"))!.Status);
        var status = await tab.Page.EvaluateAsync<int>("path => fetch(path, { method: 'POST' }).then(r => r.status)", unyankPath);
        Assert.Equal(200, status);
        // And a client that is not a browser uploads the very file the other pages tried to.
        await AssertUploadedAsync(upload);
        page = await builder.Client.Http.GetStringAsync("/simple/acme-csrf/");
        Assert.DoesNotContain("data-yanked", page, StringComparison.Ordinal);
        Assert.Contains(upload.FileName, page, StringComparison.Ordinal);
    }

    /// <summary>
    /// A page that, once opened, makes the browser send Builder a body-less admin POST twice: from a script (no
    /// preflight: a POST without a body or custom headers goes to any site; its answer is opaque to the script, its
    /// effect is not), then as a form it submits (a top-level navigation, which carries the credentials the browser
    /// holds for Builder).
    /// </summary>
    private string UnyankPage(string unyankPath) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Cute cats</title></head>
        <body>
        <form id="unyank" method="post" action="{{BaseUrl}}{{unyankPath}}"></form>
        <script>
        (async () => {
            await fetch('{{BaseUrl}}{{unyankPath}}', { method: 'POST', mode: 'no-cors', credentials: 'include' }).catch(() => {});
            document.getElementById('unyank').submit();
        })();
        </script>
        </body>
        </html>
        """;

    /// <summary>A page that, once opened, submits a form uploading <paramref name="upload"/> to <c>/legacy/</c> (twine's fields, then the file).</summary>
    private string UploadPage(LegacyUpload upload)
    {
        var fields = string.Concat(upload.Fields.Select(f => $"<input type=\"hidden\" name=\"{WebUtility.HtmlEncode(f.Name)}\" value=\"{WebUtility.HtmlEncode(f.Value)}\">"));
        return $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><title>Cute dogs</title></head>
            <body>
            <form id="upload" method="post" enctype="multipart/form-data" action="{{BaseUrl}}/legacy/">{{fields}}<input type="file" name="content"></form>
            <script>
            (async () => {
                const bytes = await (await fetch('/{{upload.FileName}}')).arrayBuffer();
                const files = new DataTransfer();
                files.items.add(new File([bytes], '{{upload.FileName}}', { type: 'application/octet-stream' }));
                const form = document.getElementById('upload');
                form.elements.namedItem('content').files = files.files;
                form.submit();
            })();
            </script>
            </body>
            </html>
            """;
    }

    private static byte[] Html(string page) => System.Text.Encoding.UTF8.GetBytes(page);

    private async Task AssertUploadedAsync(LegacyUpload upload)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = upload.ToContent() };
        request.Headers.Authorization = LegacyUpload.AdminBasic;
        using var answer = await builder.Client.Http.SendAsync(request);
        Assert.True(answer.IsSuccessStatusCode, $"upload {upload.FileName}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
    }

    /// <summary><c>GET /api/whoami</c> with only the session cookie <paramref name="secret"/> (none when null): the status and the principal.</summary>
    private async Task<(HttpStatusCode Status, string? Principal)> WhoAmIAsync(string? secret)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/whoami");
        if (secret is not null)
        {
            request.Headers.Add("Cookie", "builder_session=" + secret);
        }

        using var answer = await http.SendAsync(request);
        var body = await answer.Content.ReadAsStringAsync();
        return (answer.StatusCode, answer.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.GetProperty("principal").GetString() : null);
    }
}
