using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// One headless Debian chromium (<c>/usr/bin/chromium</c>, installed by <c>scripts/ensure-deps.sh --browser</c>) driven
/// through Playwright, launched once per run however many test classes use it (<c>IClassFixture&lt;BrowserSession&gt;</c>;
/// closed when the last class that uses it ends, so a class that starts later launches it again). Each test opens its own
/// isolated <see cref="BrowserPage"/> (a new browser context: no cookies, storage or permissions shared between tests),
/// which records what scripts did on it. Playwright's driver (node and its JS package) comes with the NuGet package in
/// the test output's <c>.playwright</c> folder; nothing is downloaded.
/// </summary>
public sealed class BrowserSession : IAsyncLifetime
{
    /// <summary>
    /// How long one action (click, fill, wait for a selector, navigate) may take before it fails the test: generous, so it
    /// is only reached when the page is broken (a page load took over 15 s once while other test classes kept both CPUs busy).
    /// </summary>
    public static readonly TimeSpan ActionTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Chromium's flags: no GPU and no sandbox (tests run as root), no background traffic to outside addresses.</summary>
    public static readonly IReadOnlyList<string> Arguments =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"];

    private static readonly SemaphoreSlim s_gate = new(1, 1);
    private static IPlaywright? s_playwright;
    private static IBrowser? s_browser;
    private static TimeSpan s_launchTime;
    private static int s_users;

    private IBrowser? _browser;

    /// <summary>The browser: <c>$BUILDER_CHROMIUM</c>, or Debian's <c>/usr/bin/chromium</c>.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("BUILDER_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Where <see cref="SaveScreenshotAsync"/> writes: <c>$BUILDER_SCREENSHOTS</c>, or <c>screenshots</c> under
    /// <c>$BUILDER_STATE</c> (default <c>/var/tmp/builder-dev/screenshots</c>).</summary>
    public static string ScreenshotDirectory =>
        Environment.GetEnvironmentVariable("BUILDER_SCREENSHOTS") is { Length: > 0 } directory
            ? directory
            : Path.Combine(Environment.GetEnvironmentVariable("BUILDER_STATE") is { Length: > 0 } state ? state : "/var/tmp/builder-dev", "screenshots");

    /// <summary>How long starting Playwright's driver and chromium took (for the class that launched it).</summary>
    public TimeSpan LaunchTime { get; private set; }

    /// <summary>The browser's version, as chromium reports it.</summary>
    public string Version => Browser.Version;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser is not launched");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} not found: scripts/ensure-deps.sh --browser installs Debian's chromium");
        }

        await s_gate.WaitAsync();
        try
        {
            if (s_browser is null)
            {
                var clock = Stopwatch.StartNew();
                s_playwright = await Playwright.CreateAsync();
                s_browser = await s_playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
                {
                    ExecutablePath = ExecutablePath,
                    Headless = true,
                    Args = Arguments,
                    Timeout = 60_000,
                });
                s_launchTime = clock.Elapsed;
            }

            s_users++;
            _browser = s_browser;
            LaunchTime = s_launchTime;
        }
        finally
        {
            s_gate.Release();
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is null)
        {
            return;
        }

        await s_gate.WaitAsync();
        try
        {
            _browser = null;
            if (--s_users == 0)
            {
                await s_browser!.CloseAsync();
                s_playwright!.Dispose();
                s_browser = null;
                s_playwright = null;
            }
        }
        finally
        {
            s_gate.Release();
        }
    }

    /// <summary>
    /// A new isolated context and a page in it. With <paramref name="baseUrl"/>, relative URLs (<c>GotoAsync("/")</c>)
    /// resolve against it, and pages of that origin may read and write the clipboard (what a "copy" button wrote can be
    /// read back with <see cref="BrowserPage.ReadClipboardAsync"/>). <paramref name="configure"/> sets anything else on the
    /// context (headers, locale, credentials...).
    /// </summary>
    public async Task<BrowserPage> NewPageAsync(string? baseUrl = null, ViewportSize? viewport = null, Action<BrowserNewContextOptions>? configure = null)
    {
        var options = new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = viewport ?? new ViewportSize { Width = 1280, Height = 800 },
        };
        configure?.Invoke(options);
        var context = await Browser.NewContextAsync(options);
        context.SetDefaultTimeout((float)ActionTimeout.TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)ActionTimeout.TotalMilliseconds);
        if (baseUrl is not null)
        {
            await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new BrowserContextGrantPermissionsOptions { Origin = new Uri(baseUrl).GetLeftPart(UriPartial.Authority) });
        }

        var page = new BrowserPage(context);
        await page.OpenAsync();
        return page;
    }

    /// <summary>A full-page PNG of <paramref name="page"/> named <paramref name="name"/> in <see cref="ScreenshotDirectory"/>; returns its path.</summary>
    public static async Task<string> SaveScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var fileName = string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        var path = Path.Combine(ScreenshotDirectory, fileName.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? fileName : fileName + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true, Type = ScreenshotType.Png });
        return path;
    }
}

/// <summary>
/// A page in its own browser context, with what scripts did in that context: console errors, uncaught exceptions and
/// dialogs (<c>alert</c>, <c>confirm</c>, <c>prompt</c>; each recorded, then dismissed so the page goes on). A test that
/// renders untrusted text asserts with <see cref="AssertNoScriptRan"/> that none of it ran. Dispose closes the context.
/// </summary>
public sealed partial class BrowserPage : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<string> _consoleErrors = [];
    private readonly List<string> _pageErrors = [];
    private readonly List<string> _dialogs = [];
    private IPage? _page;

    internal BrowserPage(IBrowserContext context)
    {
        Context = context;
        context.Console += (_, message) =>
        {
            // Chromium asks for /favicon.ico by itself on a page without an icon link; its 404 is no page's doing.
            if (message.Type == "error" && !BrowsersOwnFaviconRequest().IsMatch(message.Location))
            {
                Record(_consoleErrors, $"{message.Text} ({message.Location})");
            }
        };
        context.WebError += (_, error) => Record(_pageErrors, error.Error);
        context.Dialog += async (_, dialog) =>
        {
            Record(_dialogs, $"{dialog.Type}: {dialog.Message}");
            try
            {
                await dialog.DismissAsync();
            }
            catch (PlaywrightException)
            {
                // The page closed with the dialog open.
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page => _page ?? throw new InvalidOperationException("the page is not open");

    /// <summary>Messages logged with <c>console.error</c>, and chromium's own (a resource that failed to load, a CSP violation).</summary>
    public IReadOnlyList<string> ConsoleErrors => Snapshot(_consoleErrors);

    /// <summary>Exceptions no script caught.</summary>
    public IReadOnlyList<string> PageErrors => Snapshot(_pageErrors);

    /// <summary>Dialogs that opened, as <c>type: message</c> (<c>alert: 1</c>).</summary>
    public IReadOnlyList<string> Dialogs => Snapshot(_dialogs);

    /// <summary>Fails unless no dialog opened, nothing was logged as an error and no exception went uncaught.</summary>
    public void AssertNoScriptRan()
    {
        var problems = Dialogs.Select(d => "dialog " + d)
            .Concat(ConsoleErrors.Select(e => "console error " + e))
            .Concat(PageErrors.Select(e => "uncaught " + e))
            .ToList();
        Assert.True(problems.Count == 0, $"scripts ran or failed on {Page.Url}:\n" + string.Join("\n", problems));
    }

    /// <summary>The clipboard's text (the context's origin must have been granted clipboard access: a base URL).</summary>
    public Task<string> ReadClipboardAsync() => Page.EvaluateAsync<string>("() => navigator.clipboard.readText()");

    public async ValueTask DisposeAsync() => await Context.CloseAsync();

    internal async Task OpenAsync() => _page = await Context.NewPageAsync();

    [GeneratedRegex(@"^https?://[^/]+/favicon\.ico:")]
    private static partial Regex BrowsersOwnFaviconRequest();

    private void Record(List<string> list, string entry)
    {
        lock (_gate)
        {
            list.Add(entry);
        }
    }

    private List<string> Snapshot(List<string> list)
    {
        lock (_gate)
        {
            return [.. list];
        }
    }
}
