using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;
using Xunit.Abstractions;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// The browser test tooling itself: Debian's chromium, driven by Playwright's bundled driver, opens the real Builder web
/// process's health pages, reads back what a page wrote to the clipboard, saves screenshots, and catches what injected
/// scripts do (the check every page that shows untrusted text makes).
/// </summary>
public sealed class BrowserSmokeTests(BrowserSession browser, EmbeddedBuilder builder, ITestOutputHelper output)
    : IClassFixture<BrowserSession>, IClassFixture<EmbeddedBuilder>
{
    [Fact]
    public async Task Chromium_opens_healthz_and_readyz_of_the_web_process_and_screenshots_them()
    {
        output.WriteLine($"chromium {browser.Version} launched in {browser.LaunchTime.TotalMilliseconds:F0} ms");
        await using var tab = await browser.NewPageAsync(builder.BaseUrl);

        var alive = await tab.Page.GotoAsync("/healthz");
        Assert.Equal(200, alive!.Status);
        Assert.Equal("alive", (await tab.Page.Locator("body").InnerTextAsync()).Trim());

        var ready = await tab.Page.GotoAsync("/readyz");
        Assert.Equal(200, ready!.Status);
        Assert.Equal(builder.BaseUrl + "/readyz", tab.Page.Url);
        using var json = JsonDocument.Parse(await tab.Page.Locator("body").InnerTextAsync());
        Assert.Equal("ready", json.RootElement.GetProperty("status").GetString());
        Assert.Equal(["database", "docker", "storage"], json.RootElement.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        var screenshot = await BrowserSession.SaveScreenshotAsync(tab.Page, "smoke-readyz");
        output.WriteLine("screenshot: " + screenshot);
        Assert.Equal(Path.Combine(BrowserSession.ScreenshotDirectory, "smoke-readyz.png"), screenshot);
        var png = await File.ReadAllBytesAsync(screenshot);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(File.GetLastWriteTimeUtc(screenshot) > DateTime.UtcNow.AddMinutes(-1));
        tab.AssertNoScriptRan();
    }

    [Fact]
    public async Task A_page_of_the_web_process_origin_writes_the_clipboard_and_the_test_reads_it_back()
    {
        await using var tab = await browser.NewPageAsync(builder.BaseUrl);
        await tab.Page.GotoAsync("/healthz");
        var text = "pip install --index-url " + builder.BaseUrl + "/simple/ acme-" + Guid.NewGuid().ToString("N")[..8];

        // What a "copy" button's handler does.
        await tab.Page.EvaluateAsync("text => navigator.clipboard.writeText(text)", text);

        Assert.Equal(text, await tab.ReadClipboardAsync());
    }

    [Fact]
    public async Task Dialogs_console_errors_and_uncaught_exceptions_of_injected_scripts_are_recorded_and_fail_the_check()
    {
        await using var clean = await browser.NewPageAsync();
        await clean.Page.SetContentAsync("<p id=shown>&lt;script&gt;alert(1)&lt;/script&gt;</p><script>console.log('fine')</script>");
        Assert.Equal("<script>alert(1)</script>", await clean.Page.Locator("#shown").InnerTextAsync());
        clean.AssertNoScriptRan();

        await using var tab = await browser.NewPageAsync();
        await tab.Page.SetContentAsync(
            "<script>alert(1)</script><img src=x onerror=\"confirm('from onerror')\">" +
            "<script>console.error('injected error')</script><script>throw new Error('injected throw')</script><p>after</p>");

        // The page went on past the dismissed dialogs.
        Assert.Equal("after", await tab.Page.Locator("p").InnerTextAsync());
        await AssertEventuallyAsync(() => tab.Dialogs.Count == 2 && tab.PageErrors.Count == 1);
        Assert.Contains("alert: 1", tab.Dialogs);
        Assert.Contains("confirm: from onerror", tab.Dialogs);
        Assert.Contains(tab.ConsoleErrors, e => e.StartsWith("injected error", StringComparison.Ordinal));
        Assert.Contains("injected throw", Assert.Single(tab.PageErrors), StringComparison.Ordinal);
        var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(tab.AssertNoScriptRan);
        Assert.Contains("dialog alert: 1", failure.Message, StringComparison.Ordinal);
        Assert.Contains("uncaught ", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>Events of a page reach the test a little after the action that caused them returns.</summary>
    private static async Task AssertEventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + BrowserSession.ActionTimeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), "the page's events did not arrive within " + BrowserSession.ActionTimeout);
    }
}
