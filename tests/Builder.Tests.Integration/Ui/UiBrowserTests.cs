using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Builder.Tests.Integration.Access;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// The web UI's acceptance tests in a real browser, against one embedded Builder web process with the data of
/// <see cref="UiBrowserScenario"/>: signing in, the live package search, a project page whose copied pip command
/// installs, untrusted metadata and build output that run no script, a build followed live until its test step fails,
/// a token made on the tokens page that pip uses, what a reader may not see, and the admin pages. Every page visited is
/// saved as a full-page screenshot (<see cref="BrowserSession.ScreenshotDirectory"/>).
/// </summary>
[DockerBuild]
public sealed partial class UiBrowserTests(BrowserSession browser, UiBrowserScenario scenario, ITestOutputHelper output)
    : IClassFixture<BrowserSession>, IClassFixture<UiBrowserScenario>
{
    /// <summary>From the trigger to the build's end: cloning, two containers (build, then test) and the slow wheel hook.</summary>
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(3);

    private string BaseUrl => scenario.Builder.BaseUrl;

    [Fact]
    public async Task Alice_signs_in_and_finds_acme_billing_by_searching_as_she_types()
    {
        // 2. Sign in.
        await using var tab = await browser.NewPageAsync(BaseUrl);
        await tab.Page.GotoAsync("/sign-in");
        await Screenshot(tab.Page, "sign-in");
        await SubmitSignInAsync(tab.Page, UiBrowserScenario.Alice, UiBrowserScenario.AlicePassword);

        // 3. Packages: the search answers in #results without loading another page.
        Assert.Equal(BaseUrl + "/", tab.Page.Url);
        var all = await ProjectLinksAsync(tab.Page);
        Assert.True(all.Contains("acme-billing") && all.Contains("secret-sauce"),
            "before searching, #results lists every project alice (an admin) may read; got: " + string.Join(", ", all));
        await MarkPageAsync(tab.Page);
        var search = tab.Page.Locator("form[data-live-search] input[type=search][name=q]");
        await search.PressSequentiallyAsync("bill", new() { Delay = 60 });
        await WaitForAsync(tab.Page, """
            () => {
                const names = [...document.querySelectorAll('#results a.project-link')].map(a => a.textContent.trim());
                return names.includes('acme-billing') && !document.querySelector('#results').textContent.includes('secret-sauce');
            }
            """, "the search for 'bill' to show acme-billing and not secret-sauce in #results");
        Assert.True(await IsSamePageAsync(tab.Page), "the search results came with a page load; they must arrive in #results by script");
        await Screenshot(tab.Page, "packages");
        var nested = await tab.Page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('#results header, #results footer, #results h1, #results form[data-live-search], #results #results')].map(e => e.outerHTML.slice(0, 80))");
        Assert.True(nested.Length == 0, "#results holds the results alone, not a whole page (layout, heading, search form): " + string.Join(" | ", nested));
        await FollowAsync(tab.Page, tab.Page.Locator("#results a.project-link", new() { HasTextString = "acme-billing" }), BaseUrl + "/project/acme-billing/");
        tab.AssertNoScriptRan();
    }

    [Fact]
    public async Task The_project_page_shows_releases_and_hashes_and_its_copied_pip_command_installs_the_latest_release()
    {
        // 4. Project (from the packages list): the install command, copied, runs.
        await using var tab = await SignedInPageAsync(UiBrowserScenario.Alice, UiBrowserScenario.AlicePassword);
        await FollowAsync(tab.Page, tab.Page.Locator("#results a.project-link", new() { HasTextString = "acme-billing" }).First, BaseUrl + "/project/acme-billing/");
        var command = (await tab.Page.Locator("#install-pip").InnerTextAsync()).Trim();
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(command.StartsWith("pip install ", StringComparison.Ordinal) && words.Contains("acme-billing") && command.Contains($"--index-url {BaseUrl}/simple/", StringComparison.Ordinal),
            $"#install-pip is like 'pip install acme-billing --index-url {BaseUrl}/simple/': {command}");
        var html = await tab.Page.ContentAsync();
        Assert.DoesNotContain(UiBrowserScenario.AlicePassword, html, StringComparison.Ordinal);
        Assert.DoesNotContain(scenario.AliceToken, html, StringComparison.Ordinal);
        Assert.DoesNotContain("@", command, StringComparison.Ordinal);
        await tab.Page.Locator("button[data-copy=\"install-pip\"]").ClickAsync();
        var copied = await ClipboardAsync(tab, text => text.Length > 0, "the copy button of #install-pip to write the clipboard");
        Assert.Equal(command, copied.Trim());

        var releases = await tab.Page.Locator("#releases").InnerTextAsync();
        Assert.True(releases.Contains("1.0.0", StringComparison.Ordinal) && releases.Contains("1.1.0", StringComparison.Ordinal), "#releases lists 1.0.0 and 1.1.0: " + releases);
        var files = await tab.Page.Locator("#files").InnerHTMLAsync();
        Assert.True(files.Contains(scenario.BillingSha256, StringComparison.Ordinal), $"#files shows the sha256 of the 1.1.0 wheel ({scenario.BillingSha256}): {files}");
        var hashCopy = tab.Page.Locator("#files button[data-copy]");
        Assert.True(await hashCopy.CountAsync() > 0, "#files has a copy button for the sha256");
        await hashCopy.First.ClickAsync();
        await ClipboardAsync(tab, text => text.Contains(scenario.BillingSha256, StringComparison.Ordinal) || text.Contains(scenario.BillingOldSha256, StringComparison.Ordinal),
            "the sha256 copy button in #files to copy a file's sha256");
        await Screenshot(tab.Page, "project");
        tab.AssertNoScriptRan();

        // The release page of 1.1.0 shows its wheel.
        Assert.Equal(200, (await tab.Page.GotoAsync("/project/acme-billing/1.1.0/"))!.Status);
        Assert.Contains(Path.GetFileName(scenario.BillingWheel), await tab.Page.Locator("main").InnerTextAsync(), StringComparison.Ordinal);
        await Screenshot(tab.Page, "release");
        tab.AssertNoScriptRan();

        // The copied command as it is, with alice's token for the index in a ~/.netrc (pip reads it; the URL stays as copied).
        var python = await RunCopiedPipCommandAsync(copied.Trim(), scenario.AliceToken);
        Assert.Equal("1.1.0", await AccessClientHelpers.ImportedVersionAsync(python, "acme_billing"));
    }

    [Fact]
    public async Task Untrusted_project_metadata_is_shown_without_running_any_of_it()
    {
        await using var tab = await SignedInPageAsync(UiBrowserScenario.Alice, UiBrowserScenario.AlicePassword);
        var answer = await tab.Page.GotoAsync("/project/acme-xss/");
        Assert.Equal(200, answer!.Status);
        Assert.Contains(UiBrowserScenario.XssMarker, await tab.Page.Locator("main").InnerTextAsync(), StringComparison.Ordinal);

        await AssertNothingInjectedRanAsync(tab, "window.__xss=1");
        Assert.Equal("undefined", await tab.Page.EvaluateAsync<string>("() => typeof window.__xss"));
        Assert.Equal(0, await tab.Page.Locator("a[href^=\"javascript:\" i]").CountAsync());
        var text = await tab.Page.Locator("main").InnerTextAsync();
        Assert.True(!text.Contains("window.__xss", StringComparison.Ordinal) || text.Contains("<script>window.__xss=1;alert('desc')</script>", StringComparison.Ordinal),
            "the description's <script> is either removed or shown as text: " + text);
        Assert.True(text.Contains("<b onmouseover=alert(1)>", StringComparison.Ordinal) || !text.Contains("onmouseover", StringComparison.Ordinal),
            "the summary's <b onmouseover=...> is shown as text (or removed), never made an element: " + text);
        await Screenshot(tab.Page, "project-xss");
        tab.AssertNoScriptRan();
    }

    [Fact]
    public async Task A_running_build_streams_its_log_live_and_once_failed_opens_its_failed_step_and_folds_the_others()
    {
        await using var tab = await SignedInPageAsync(UiBrowserScenario.Alice, UiBrowserScenario.AlicePassword);
        var id = await scenario.TriggerLiveBuildAsync();
        output.WriteLine($"build {id}");
        await tab.Page.GotoAsync($"/builds/{id}");
        Assert.True(await tab.Page.Locator("section#log[data-stream-url]").CountAsync() == 1, "the build page has section#log[data-stream-url], where its script streams the log");
        await MarkPageAsync(tab.Page);

        // Live: tick lines arrive while the page stays the same and the build runs.
        var first = await WaitForTickAsync(tab.Page, 2, id);
        Assert.Equal("running", (await scenario.Builder.Client.GetBuildAsync(id)).State);
        var linesAtFirst = await tab.Page.Locator("li[id^=\"L\"]").CountAsync();
        output.WriteLine($"tick {first} shown with {linesAtFirst} lines");
        var later = await WaitForTickAsync(tab.Page, Math.Min(first + 4, 16), id);
        var linesLater = await tab.Page.Locator("li[id^=\"L\"]").CountAsync();
        Assert.True(linesLater > linesAtFirst, $"new log lines appear without a reload: {linesAtFirst} lines at tick {first}, {linesLater} at tick {later}");
        Assert.True(await IsSamePageAsync(tab.Page), "the page was reloaded; new lines must be streamed into it");
        await Screenshot(tab.Page, "build-live");

        // The end: the test step fails.
        var state = await WaitForFinalStateAsync(tab.Page, id);
        var build = await scenario.Builder.Client.GetBuildAsync(id);
        Assert.True(build.State == "failed", $"build {id} failed in its test step; it is {build.State}: {build.Error}");
        Assert.Contains("test of cp312-manylinux_x86_64 failed", build.Error, StringComparison.Ordinal);
        Assert.Equal("failed", state);
        Assert.True(await IsSamePageAsync(tab.Page), "the page followed the build to its end without a reload");
        await WaitForAsync(tab.Page, "() => [...document.querySelectorAll('li[id^=\"L\"]')].some(li => li.textContent.includes('tick 16'))",
            "the live page to show the last tick line");

        // Reloaded: the failed step open, the succeeded ones folded, colours as classes, HTML as text.
        await tab.Page.ReloadAsync();
        var failed = tab.Page.Locator("details.log-step.state-failed");
        Assert.True(await failed.CountAsync() > 0, "the finished build's log has a details.log-step.state-failed");
        foreach (var step in await failed.AllAsync())
        {
            Assert.True(await step.GetAttributeAsync("open") is not null, "the failed step is open: " + await step.Locator("summary").InnerTextAsync());
        }

        Assert.Contains(await failed.AllInnerTextsAsync(), t => t.Contains("testing acme-live 1.0.0", StringComparison.Ordinal));
        var succeeded = tab.Page.Locator("details.log-step.state-succeeded");
        Assert.True(await succeeded.CountAsync() > 0, "the finished build's log has succeeded steps (details.log-step.state-succeeded)");
        foreach (var step in await succeeded.AllAsync())
        {
            Assert.True(await step.GetAttributeAsync("open") is null, "a succeeded step is folded: " + await step.Locator("summary").InnerTextAsync());
        }

        var red = tab.Page.Locator("li[id^=\"L\"] span.a-fg1");
        Assert.True(await red.CountAsync() > 0, "the ANSI red line renders as a span.a-fg1");
        Assert.Equal("red", (await red.First.TextContentAsync())?.Trim());
        var lines = await tab.Page.Locator("li[id^=\"L\"]").AllTextContentsAsync();
        Assert.DoesNotContain(lines, l => l.Contains('\u001b', StringComparison.Ordinal) || l.Contains("[31m", StringComparison.Ordinal) || l.Contains("[0m", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(UiBrowserScenario.LogScript, StringComparison.Ordinal));
        await AssertNothingInjectedRanAsync(tab, "alert('log')");
        await Screenshot(tab.Page, "build-failed");
        tab.AssertNoScriptRan();

        // 9. The builds page lists it.
        Assert.Equal(200, (await tab.Page.GotoAsync("/builds"))!.Status);
        Assert.True(await tab.Page.Locator($"a[href=\"/builds/{id}\"]").CountAsync() > 0, $"/builds links to /builds/{id}");
        await Screenshot(tab.Page, "builds");
        tab.AssertNoScriptRan();
    }

    [Fact]
    public async Task A_token_created_on_the_tokens_page_installs_with_pip()
    {
        await using var tab = await SignedInPageAsync(UiBrowserScenario.Alice, UiBrowserScenario.AlicePassword);
        Assert.Equal(200, (await tab.Page.GotoAsync("/tokens"))!.Status);
        await Screenshot(tab.Page, "tokens");
        var form = tab.Page.Locator("#create-token");
        await form.Locator("[name=\"Form.Name\"]").FillAsync("laptop-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.True(await form.Locator("[name=\"Form.Read\"][type=checkbox]").IsCheckedAsync(), "read is checked by default");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var secret = (await tab.Page.Locator("#token-secret").InnerTextAsync()).Trim();
        Assert.Matches(TokenSecret(), secret);
        await Screenshot(tab.Page, "token-created");
        tab.AssertNoScriptRan();

        await tab.Page.Locator("button[data-copy=\"snippet-netrc\"]").ClickAsync();
        var netrc = await ClipboardAsync(tab, text => text.Contains(secret, StringComparison.Ordinal), "the 'Copy .netrc' button to copy the .netrc snippet");

        var home = AccessClientHelpers.Dir(scenario.Root, "home-" + Guid.NewGuid().ToString("N")[..8]);
        var python = await PipInstallAsync(home, "acme-billing==1.0.0", "--index-url", BuilderInstance.WithCredentials(BaseUrl + "/simple/", secret));
        Assert.Equal("1.0.0", await AccessClientHelpers.ImportedVersionAsync(python, "acme_billing"));

        // The copied .netrc, as ~/.netrc: pip's own lookup (requests' get_netrc_auth, which matches the host without its port) finds the token.
        var netrcHome = AccessClientHelpers.Dir(scenario.Root, "home-" + Guid.NewGuid().ToString("N")[..8]);
        await File.WriteAllTextAsync(Path.Combine(netrcHome, ".netrc"), netrc.Trim() + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(netrcHome, ".netrc"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var lookup = await Shell.RunAsync(Pip.PythonExecutable("3.12"), ["-c", "import sys; from pip._vendor.requests.utils import get_netrc_auth; print(get_netrc_auth(sys.argv[1]))", BaseUrl + "/simple/"],
            environment: AccessClientHelpers.ClientEnvironment(netrcHome));
        Assert.True(lookup.StandardOutput.Trim() == $"('__token__', '{secret}')",
            $"pip finds the token in the copied .netrc for {BaseUrl}/simple/ (netrc 'machine' is a host name: pip ignores the port when it looks one up); got {lookup.Output.Trim()} from:\n{netrc}");
    }

    [Fact]
    public async Task A_reader_sees_only_her_projects_and_a_hidden_project_is_the_404_of_one_that_does_not_exist()
    {
        await using var tab = await SignedInPageAsync(UiBrowserScenario.Rita, UiBrowserScenario.RitaPassword);
        var names = await ProjectLinksAsync(tab.Page);
        Assert.True(names.Contains("acme-billing"), "rita (reader of acme-*) sees acme-billing on /: " + string.Join(", ", names));
        Assert.DoesNotContain("secret-sauce", await tab.Page.ContentAsync(), StringComparison.Ordinal);

        var hidden = await tab.Page.GotoAsync("/project/secret-sauce/");
        Assert.Equal(404, hidden!.Status);
        var hiddenText = (await tab.Page.Locator("main").InnerTextAsync()).Replace("secret-sauce", "NAME", StringComparison.Ordinal);
        var hiddenTitle = (await tab.Page.TitleAsync()).Replace("secret-sauce", "NAME", StringComparison.Ordinal);
        var missing = await tab.Page.GotoAsync("/project/does-not-exist/");
        Assert.Equal(404, missing!.Status);
        Assert.Equal((await tab.Page.Locator("main").InnerTextAsync()).Replace("does-not-exist", "NAME", StringComparison.Ordinal), hiddenText);
        Assert.Equal((await tab.Page.TitleAsync()).Replace("does-not-exist", "NAME", StringComparison.Ordinal), hiddenTitle);

        // Chromium logs each 404 document as a console error; nothing else may have happened.
        Assert.Empty(tab.Dialogs);
        Assert.Empty(tab.PageErrors);
        Assert.All(tab.ConsoleErrors, e => Assert.StartsWith("Failed to load resource: the server responded with a status of 404", e, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_repositories_and_audit_pages_show_an_admin_the_registered_repository_and_the_events()
    {
        await using var tab = await SignedInPageAsync(UiBrowserScenario.Alice, UiBrowserScenario.AlicePassword);
        Assert.Equal(200, (await tab.Page.GotoAsync("/repositories"))!.Status);
        Assert.Contains(UiBrowserScenario.LiveRepository, await tab.Page.Locator("main").InnerTextAsync(), StringComparison.Ordinal);
        await Screenshot(tab.Page, "repositories");
        tab.AssertNoScriptRan();

        Assert.Equal(200, (await tab.Page.GotoAsync("/audit"))!.Status);
        var audit = await tab.Page.Locator("#audit").InnerTextAsync();
        Assert.Contains("person:signed_in", audit, StringComparison.Ordinal);
        Assert.Contains("file:uploaded", audit, StringComparison.Ordinal);
        Assert.Contains("repository:registered", audit, StringComparison.Ordinal);
        await Screenshot(tab.Page, "audit");
        tab.AssertNoScriptRan();
    }

    [GeneratedRegex("^bld_[0-9A-Za-z]{55}$")]
    private static partial Regex TokenSecret();

    /// <summary>
    /// A navigation is seen when the new document is committed (as BrowserSecurityTests waits): what follows waits for
    /// its own elements. Waiting for the load event (the default) timed out twice in 60 s in full runs with the
    /// network idle, each time after the page had arrived; never in a run of the class alone.
    /// </summary>
    private static readonly PageWaitForURLOptions AtCommit = new() { WaitUntil = WaitUntilState.Commit };

    /// <summary>
    /// Clicks a link of the packages list and sees its page's document committed. Full runs lost such a click three
    /// times this stop (no navigation followed, the network idle; never in a run of the class alone): a click that
    /// brought no navigation within 15 s is made again, at most three times in all, so a link that never leads there
    /// still fails.
    /// </summary>
    private static async Task FollowAsync(IPage page, ILocator link, string url)
    {
        for (var attempt = 1; ; attempt++)
        {
            await link.ClickAsync();
            try
            {
                await page.WaitForURLAsync(url, new() { WaitUntil = WaitUntilState.Commit, Timeout = 15_000 });
                return;
            }
            catch (TimeoutException) when (attempt < 3)
            {
            }
        }
    }

    private async Task<BrowserPage> SignedInPageAsync(string userName, string password)
    {
        var tab = await browser.NewPageAsync(BaseUrl);
        await tab.Page.GotoAsync("/sign-in");
        await SubmitSignInAsync(tab.Page, userName, password);
        return tab;
    }

    private async Task SubmitSignInAsync(IPage page, string userName, string password)
    {
        var form = page.Locator("main form");
        await form.Locator("input[name=userName]").FillAsync(userName);
        await form.Locator("input[name=password]").FillAsync(password);
        await form.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(BaseUrl + "/", AtCommit);
    }

    private static async Task<List<string>> ProjectLinksAsync(IPage page) =>
        [.. (await page.Locator("#results a.project-link").AllTextContentsAsync()).Select(t => t.Trim())];

    /// <summary>Marks the document: <see cref="IsSamePageAsync"/> is false once another page loaded (a navigation or reload).</summary>
    private static async Task MarkPageAsync(IPage page) => await page.EvaluateAsync("() => { window.__uiTestMark = true; }");

    private static Task<bool> IsSamePageAsync(IPage page) => page.EvaluateAsync<bool>("() => window.__uiTestMark === true");

    private static async Task WaitForAsync(IPage page, string predicate, string what, TimeSpan? timeout = null)
    {
        try
        {
            await page.WaitForFunctionAsync(predicate, null, new() { Timeout = (float)(timeout ?? BrowserSession.ActionTimeout).TotalMilliseconds, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"timed out waiting for {what} on {page.Url}");
        }
    }

    /// <summary>Waits until the page shows a <c>tick N</c> line with N ≥ <paramref name="atLeast"/>; returns the highest N shown.</summary>
    private async Task<int> WaitForTickAsync(IPage page, int atLeast, long buildId)
    {
        const string HighestTick = """
            () => Math.max(0, ...[...document.querySelectorAll('li[id^="L"]')].map(li => /tick (\d+)\s*$/.exec(li.textContent)).filter(m => m).map(m => +m[1]))
            """;
        var deadline = DateTime.UtcNow + BuildTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var highest = await page.EvaluateAsync<int>(HighestTick);
            if (highest >= atLeast)
            {
                return highest;
            }

            if ((await scenario.Builder.Client.GetBuildAsync(buildId)).State is "succeeded" or "failed" or "cancelled")
            {
                Assert.Fail($"build {buildId} ended before the page showed tick {atLeast} (it shows tick {highest}); its log:\n{await scenario.Builder.Client.GetLogSoFarAsync(buildId)}");
            }

            await Task.Delay(100);
        }

        Assert.Fail($"the build page did not show tick {atLeast} within {BuildTimeout}; the build's log so far:\n{await scenario.Builder.Client.GetLogSoFarAsync(buildId)}");
        return 0;
    }

    /// <summary>The final state the page shows (body's data-build-state, else #build-state's text), once it shows one.</summary>
    private async Task<string> WaitForFinalStateAsync(IPage page, long buildId)
    {
        const string Shown = """
            () => {
                const state = (document.body.dataset.buildState || document.querySelector('#build-state')?.textContent || '').trim().toLowerCase();
                return ['succeeded', 'failed', 'cancelled'].includes(state) ? state : null;
            }
            """;
        try
        {
            var handle = await page.WaitForFunctionAsync(Shown, null, new() { Timeout = (float)BuildTimeout.TotalMilliseconds, PollingInterval = 250 });
            return await handle.JsonValueAsync<string>();
        }
        catch (TimeoutException)
        {
            var build = await scenario.Builder.Client.GetBuildAsync(buildId);
            Assert.Fail($"the build page did not show a final state within {BuildTimeout} (the API says {build.State}); the log:\n{await scenario.Builder.Client.GetLogSoFarAsync(buildId)}");
            return "";
        }
    }

    /// <summary>No element carries an event-handler attribute, no script element holds <paramref name="injected"/>.</summary>
    private static async Task AssertNothingInjectedRanAsync(BrowserPage tab, string injected)
    {
        var handlers = await tab.Page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.toLowerCase().startsWith('on')).map(a => e.tagName + ' ' + a.name + '=' + a.value))");
        Assert.True(handlers.Length == 0, "elements with event-handler attributes: " + string.Join("; ", handlers));
        Assert.False(await tab.Page.EvaluateAsync<bool>("text => [...document.scripts].some(s => s.textContent.includes(text))", injected),
            $"a <script> element holds the injected '{injected}'");
    }

    private static async Task<string> ClipboardAsync(BrowserPage tab, Func<string, bool> expected, string what)
    {
        var deadline = DateTime.UtcNow + BrowserSession.ActionTimeout;
        var text = "";
        while (DateTime.UtcNow < deadline)
        {
            text = await tab.ReadClipboardAsync();
            if (expected(text))
            {
                return text;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"timed out waiting for {what}; the clipboard holds '{text}'");
        return text;
    }

    /// <summary>
    /// Runs the copied <c>pip install ...</c> command word for word (into a fresh venv) in a HOME whose <c>.netrc</c>
    /// holds <paramref name="token"/> for the index's host: the URL stays as copied, pip adds the credentials.
    /// </summary>
    private async Task<string> RunCopiedPipCommandAsync(string command, string token)
    {
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(words.Length > 2 && words[0] == "pip" && words[1] == "install", "the copied command is a pip install: " + command);
        var home = AccessClientHelpers.Dir(scenario.Root, "home-" + Guid.NewGuid().ToString("N")[..8]);
        await AccessClientHelpers.WriteNetrcAsync(home, new Uri(BaseUrl).Host, "__token__", token);
        return await PipInstallAsync(home, words[2..]);
    }

    /// <summary>
    /// <c>pip install ARGUMENTS</c> into a fresh venv of Python 3.12, as CI runs it (no input, no cache, no config file,
    /// <paramref name="home"/> as HOME); returns the venv's python. The venv has no pip of its own (making one takes
    /// seconds): Python 3.12's pip installs into it with <c>--python</c>.
    /// </summary>
    private async Task<string> PipInstallAsync(string home, params string[] arguments)
    {
        var python = await Pip.VenvAsync("3.12", scenario.Root, withPip: false);
        var result = await Shell.RunAsync(Pip.PythonExecutable("3.12"),
            ["-m", "pip", "--python", python, "install", "--no-input", "--no-cache-dir", "--disable-pip-version-check", .. arguments],
            environment: AccessClientHelpers.ClientEnvironment(home));
        Assert.True(result.ExitCode == 0, $"pip install {string.Join(' ', arguments)} failed ({result.ExitCode}):\n{result.Output}");
        return python;
    }

    private async Task Screenshot(IPage page, string name) => output.WriteLine("screenshot: " + await BrowserSession.SaveScreenshotAsync(page, name));
}

/// <summary>
/// The data the browser tests look at, made once through the admin API of one embedded Builder web process: alice (admin)
/// and rita (reader of <c>acme-*</c>), acme-billing 1.0.0 and 1.1.0, secret-sauce 2.0, acme-xss 0.1 with hostile
/// metadata (uploaded as twine does), alice's API token, and the registered repository of acme-live (a slow build whose
/// test step fails), built only when a test triggers it.
/// </summary>
public sealed class UiBrowserScenario : IAsyncLifetime
{
    public const string Alice = "alice";
    public const string AlicePassword = "alice-password-1";
    public const string Rita = "rita";
    public const string RitaPassword = "rita-password-1";
    public const string LiveRepository = "acme/live";
    public const string XssMarker = "Acme XSS description marker.";
    public const string LogScript = "<script>alert('log')</script>";

    public EmbeddedBuilder Builder { get; } = new();

    public string Root { get; } = TestPaths.NewTempDirectory("ui-scenario");

    /// <summary>acme-billing 1.1.0's wheel.</summary>
    public string BillingWheel { get; private set; } = "";

    /// <summary>The sha256 of acme-billing 1.1.0's wheel.</summary>
    public string BillingSha256 { get; private set; } = "";

    /// <summary>The sha256 of acme-billing 1.0.0's wheel.</summary>
    public string BillingOldSha256 { get; private set; } = "";

    /// <summary>A read token of alice's, made through the API.</summary>
    public string AliceToken { get; private set; } = "";

    private RegisteredRepository? _live;
    private TaggedRepository? _liveGit;

    public async Task InitializeAsync()
    {
        await Builder.InitializeAsync();
        await PostAsync("/api/people", new { userName = Alice, password = AlicePassword, roles = new[] { new { role = "admin" } } });
        await PostAsync("/api/people", new { userName = Rita, password = RitaPassword, roles = new[] { new { role = "reader", projects = new[] { "acme-*" } } } });
        using (var token = await PostAsync("/api/tokens", new { name = "alice-pip", scopes = new[] { "read" }, owner = Alice }))
        {
            AliceToken = JsonDocument.Parse(await token.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
        }

        var dist = Path.Combine(Root, "dist");
        Directory.CreateDirectory(dist);
        var billingOld = Distributions.Wheel(dist, "acme-billing", "1.0.0");
        var billing = BillingWheel = Distributions.Wheel(dist, "acme-billing", "1.1.0");
        BillingOldSha256 = Distributions.Sha256(billingOld);
        BillingSha256 = Distributions.Sha256(billing);
        await UploadAsync(billingOld, "acme-billing", "1.0.0");
        await UploadAsync(billing, "acme-billing", "1.1.0");
        await UploadAsync(Distributions.Wheel(dist, "secret-sauce", "2.0"), "secret-sauce", "2.0");
        const string summary = "Acme XSS <b onmouseover=alert(1)>bold</b> summary";
        var xss = Distributions.Wheel(dist, "acme-xss", "0.1", summary: summary, descriptionContentType: "text/markdown", description: $"""
            # Acme XSS

            {XssMarker}

            <script>window.__xss=1;alert('desc')</script>

            [click](javascript:alert('link'))

            <img src=x onerror="alert('img')">

            """);
        await UploadAsync(xss, "acme-xss", "0.1", summary);

        _liveGit = await GitRepositories.CreateAsync(Path.Combine(Root, "live"), PythonProjects.SlowLog("acme-live", "1.0.0"), "v1.0.0");
        _live = await Builder.Client.RegisterAsync(LiveRepository, _liveGit.CloneUrl);
    }

    /// <summary>Builds acme-live's tag (POST /api/repositories/{id}/builds); returns the build's id.</summary>
    public async Task<long> TriggerLiveBuildAsync()
    {
        using var answer = await Builder.Client.Http.PostAsJsonAsync($"/api/repositories/{_live!.Id}/builds", new { tag = _liveGit!.Tag });
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.Accepted, $"trigger {_liveGit.Tag}: {(int)answer.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
    }

    public async Task DisposeAsync()
    {
        await Builder.DisposeAsync();
        TestPaths.DeleteDirectory(Root);
    }

    private async Task<HttpResponseMessage> PostAsync(string path, object body)
    {
        var answer = await Builder.Client.Http.PostAsJsonAsync(path, body);
        Assert.True(answer.StatusCode == HttpStatusCode.Created, $"POST {path}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
        return answer;
    }

    private async Task UploadAsync(string path, string name, string version, string? summary = null)
    {
        var upload = LegacyUpload.Twine(path, name, version);
        if (summary is not null)
        {
            upload.Set("summary", summary);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = upload.ToContent() };
        request.Headers.Authorization = LegacyUpload.AdminBasic;
        using var answer = await Builder.Client.Http.SendAsync(request);
        Assert.True(answer.IsSuccessStatusCode, $"upload {Path.GetFileName(path)}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
    }
}
