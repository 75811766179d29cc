using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.Playwright;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// What a browser cannot be made to do, in a real chromium against one embedded Builder web process (no Docker builds):
/// signing out from the header ends the session on the server.
/// </summary>
public sealed class BrowserSecurityTests(BrowserSession browser, EmbeddedBuilder builder)
    : IClassFixture<BrowserSession>, IClassFixture<EmbeddedBuilder>
{
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
