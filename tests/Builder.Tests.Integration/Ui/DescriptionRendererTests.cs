using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Html;

namespace Builder.Tests.Integration.Ui;

/// <summary>A release's long description on the project page: Markdown rendered safely, anything else as escaped text.</summary>
public sealed partial class DescriptionRendererTests
{
    private static string Render(string? description, string? contentType = "text/markdown")
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        DescriptionRenderer.Render(description, contentType).Html.WriteTo(writer, HtmlEncoder.Default);
        return writer.ToString();
    }

    /// <summary>Every href and src in the HTML.</summary>
    private static List<string> Urls(string html) => [.. UrlAttributes().Matches(html).Select(m => m.Groups[1].Value)];

    [Fact]
    public void Markdown_is_rendered_with_the_github_flavoured_extensions()
    {
        var html = Render(
            "# fastadd\n\nAdds **fast**, ~~slowly~~ `never`.\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n```python\nprint('<hi>')\n```\n",
            "text/markdown; charset=UTF-8; variant=GFM");

        Assert.StartsWith("<div class=\"description-markdown\">\n<h1>fastadd</h1>", html, StringComparison.Ordinal);
        Assert.Contains("<strong>fast</strong>", html, StringComparison.Ordinal);
        Assert.Contains("<del>slowly</del>", html, StringComparison.Ordinal);
        Assert.Contains("<code>never</code>", html, StringComparison.Ordinal);
        Assert.Contains("<table>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"align-right\">2</td>", html, StringComparison.Ordinal);
        Assert.Contains("<th class=\"align-left\">a</th>", html, StringComparison.Ordinal);
        Assert.Contains("<input disabled=\"disabled\" type=\"checkbox\" checked=\"checked\" />", html, StringComparison.Ordinal);
        Assert.Contains("print('&lt;hi&gt;')", html, StringComparison.Ordinal);
        // The pages' CSP refuses inline styles: alignment is a class.
        Assert.DoesNotContain("style", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Links_keep_http_https_mailto_and_relative_urls_with_rel_nofollow_noopener()
    {
        var html = Render(
            "[docs](https://docs.example.org/a?b=1&c=2) [home](http://example.org) [mail](mailto:dev@example.org) "
            + "[usage](#usage) [file](docs/usage.md) [root](/simple/) [proto](//cdn.example.org/x) [query](?a=b:c)\n\n"
            + "<https://auto.example.org/x> <dev@example.org> https://bare.example.org/y www.example.org\n");

        Assert.Equal(
            [
                "https://docs.example.org/a?b=1&amp;c=2", "http://example.org", "mailto:dev@example.org", "#usage", "docs/usage.md", "/simple/",
                "//cdn.example.org/x", "?a=b:c", "https://auto.example.org/x", "mailto:dev@example.org", "https://bare.example.org/y", "http://www.example.org",
            ],
            Urls(html));
        Assert.Contains("<a href=\"https://docs.example.org/a?b=1&amp;c=2\" rel=\"nofollow noopener\">docs</a>", html, StringComparison.Ordinal);
        Assert.Equal(12, CountOf(html, "rel=\"nofollow noopener\""));
    }

    [Theory]
    [InlineData("[x](javascript:alert(1))")]
    [InlineData("[x](JaVaScRiPt:alert(1))")]
    [InlineData("[x](<java\tscript:alert(1)>)")]
    [InlineData("[x](<  javascript:alert(1)>)")]
    [InlineData("[x](&#106;avascript:alert(1))")]
    [InlineData("[x](&#x6A;avascript&#x3A;alert(1))")]
    [InlineData("[x](javascript&colon;alert(1))")]
    [InlineData("[x](java&#x0A;script:alert(1))")]
    [InlineData("[x](java&#x09;script:alert(1))")]
    [InlineData("[x](java&#x200B;script:alert(1))")]
    [InlineData("[x](vbscript:msgbox(1))")]
    [InlineData("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")]
    [InlineData("[x](file:///etc/passwd)")]
    [InlineData("[x][r]\n\n[r]: javascript:alert(1)")]
    [InlineData("[x](javascript:alert(1) \"title\")")]
    public void A_link_to_another_scheme_is_only_its_text(string markdown)
    {
        var html = Render(markdown);
        Assert.Equal("<div class=\"description-markdown\">\n<p>x</p>\n</div>\n", html);
    }

    [Theory]
    [InlineData("![x](javascript:alert(1))")]
    [InlineData("![x](JAVASCRIPT:alert(1))")]
    [InlineData("![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)")]
    [InlineData("![x](vbscript:x)")]
    public void An_image_from_another_scheme_is_only_its_alt_text(string markdown)
    {
        var html = Render(markdown);
        Assert.Equal("<div class=\"description-markdown\">\n<p>x</p>\n</div>\n", html);
    }

    [Theory]
    [InlineData("<javascript:alert(1)>", "javascript:alert(1)")]
    [InlineData("<JAVASCRIPT:alert(1)>", "JAVASCRIPT:alert(1)")]
    [InlineData("<data:text/html,hi>", "data:text/html,hi")]
    [InlineData("<ftp://files.example.org/a>", "ftp://files.example.org/a")]
    [InlineData("ftp://files.example.org/b", "ftp://files.example.org/b")]
    public void An_autolink_to_another_scheme_is_text(string markdown, string text)
    {
        var html = Render(markdown);
        Assert.Empty(Urls(html));
        Assert.Equal($"<div class=\"description-markdown\">\n<p>{text}</p>\n</div>\n", html);
    }

    [Theory]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("<img src=x onerror=alert(1)>")]
    [InlineData("text <img src=x onerror=alert(1)> inline")]
    [InlineData("<a href=\"javascript:alert(1)\">x</a>")]
    [InlineData("<div onclick=\"alert(1)\">block</div>")]
    [InlineData("<!-- comment --><iframe src=//evil.example.org>")]
    [InlineData("<style>body{display:none}</style>")]
    [InlineData("<svg/onload=alert(1)>")]
    public void Raw_html_is_shown_as_text(string markdown)
    {
        var html = Render(markdown);
        var tags = Tags().Matches(html).Select(m => m.Groups[1].Value.ToLowerInvariant()).Distinct().ToList();
        Assert.Empty(tags.Except(["div", "p"]));
        Assert.Contains("&lt;", html, StringComparison.Ordinal);
        Assert.Empty(Urls(html));
    }

    [Fact]
    public void Images_are_links_to_them_never_embedded()
    {
        var html = Render("![logo **bold**](https://img.example.org/logo.png \"The logo\") ![](https://img.example.org/x.png)\n\n"
            + "[![build](https://ci.example.org/badge.svg)](https://ci.example.org/build)");

        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.Contains(
            "<a href=\"https://img.example.org/logo.png\" class=\"description-image\" title=\"The logo\" rel=\"nofollow noopener\">logo <strong>bold</strong></a>",
            html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://img.example.org/x.png\" class=\"description-image\" rel=\"nofollow noopener\">image</a>", html, StringComparison.Ordinal);
        // A badge in a link: the link, with the badge's alt text (no link in a link).
        Assert.Contains("<a href=\"https://ci.example.org/build\" rel=\"nofollow noopener\">build</a>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("badge.svg", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_badge_in_a_link_to_another_scheme_becomes_an_image_link()
    {
        var html = Render("[![build](https://ci.example.org/badge.svg)](javascript:alert(1))");
        Assert.Equal(["https://ci.example.org/badge.svg"], Urls(html));
        Assert.DoesNotContain("javascript", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/x-rst")]
    [InlineData("text/plain")]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("text/markdownx")]
    public void Anything_but_markdown_is_escaped_preformatted_text(string? contentType)
    {
        var rst = "fastadd\n=======\n\n.. raw:: html\n\n   <script>alert(1)</script>\n\n`link <javascript:alert(1)>`_ & **not bold**\n";
        Assert.Equal(
            "<pre class=\"description-text\">\nfastadd\n=======\n\n.. raw:: html\n\n   &lt;script&gt;alert(1)&lt;/script&gt;\n\n"
            + "`link &lt;javascript:alert(1)&gt;`_ &amp; **not bold**\n</pre>\n",
            Render(rst, contentType));
    }

    [Fact]
    public void Markdown_media_types_are_read_in_any_case_and_with_parameters()
    {
        Assert.StartsWith("<div class=\"description-markdown\">", Render("*x*", "Text/Markdown"), StringComparison.Ordinal);
        Assert.StartsWith("<div class=\"description-markdown\">", Render("*x*", " text/markdown ; variant=CommonMark"), StringComparison.Ordinal);
    }

    [Fact]
    public void No_description_renders_nothing()
    {
        Assert.Same(HtmlString.Empty, DescriptionRenderer.Render(null, "text/markdown").Html);
        Assert.Same(HtmlString.Empty, DescriptionRenderer.Render(" \n", "text/x-rst").Html);
    }

    /// <summary>Inputs that cost Markdig time quadratic in their length, or nest deeper than it renders.</summary>
    public static TheoryData<string, string> Pathological => new()
    {
        // Each ']' scans the rest of the paragraph for the link's end: minutes of one core for 500 KB.
        { "unclosed links", string.Concat(Enumerable.Repeat("[a](", 500 * 1024 / 4)) },
        { "unmatched brackets", new string('[', 200_000) + new string(']', 200_000) },
        { "emphasis runs", string.Concat(Enumerable.Repeat("*a ", 150_000)) },
        { "nested quotes", new string('>', 100_000) + " a" },
        { "nested lists", string.Concat(Enumerable.Repeat("1. ", 100_000)) + "a" },
        { "nested emphasis", string.Concat(Enumerable.Repeat("*_", 100_000)) + "a" + string.Concat(Enumerable.Repeat("_*", 100_000)) },
        { "nested images", string.Concat(Enumerable.Repeat("![", 200_000)) },
    };

    [Theory]
    [MemberData(nameof(Pathological))]
    public void Markdown_that_would_take_minutes_or_nests_too_deep_is_shown_as_text_within_the_time_limit(string label, string markdown)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rendered = DescriptionRenderer.Render(markdown, "text/markdown");

        // Wall-clock: the time limit (2 s) plus the depth limit's own work, on a loaded machine.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{label}: {clock.Elapsed.TotalSeconds:0.0} s");
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        rendered.Html.WriteTo(writer, HtmlEncoder.Default);
        var html = writer.ToString();
        if (rendered.Fallback is null)
        {
            Assert.StartsWith("<div class=\"description-markdown\">", html, StringComparison.Ordinal);
        }
        else
        {
            Assert.StartsWith("<pre class=\"description-text\">\n" + System.Net.WebUtility.HtmlEncode(markdown[..10]), html, StringComparison.Ordinal);
        }

        // The others stop at whichever limit comes first on a loaded machine: the time limit or Markdig's depth limit.
        if (label == "unclosed links")
        {
            Assert.Equal($"rendering its {markdown.Length} characters of Markdown took longer than 2 s", rendered.Fallback);
        }
        else if (label is "nested quotes" or "nested lists")
        {
            // Blocks: refused before any inline is parsed.
            Assert.Contains("too deeply nested", rendered.Fallback, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Markdown_longer_than_rendered_is_shown_as_text_at_once()
    {
        var markdown = "# Title\n" + string.Concat(Enumerable.Repeat("[a](", 800 * 1024 / 4));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var rendered = DescriptionRenderer.Render(markdown, "text/markdown");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"{clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal($"{markdown.Length} characters of Markdown, more than the {DescriptionRenderer.MaxMarkdownChars} rendered", rendered.Fallback);
        Assert.StartsWith("<pre class=\"description-text\">\n# Title\n[a]([a](", rendered.Html.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_project_page_shows_a_pathological_description_as_text_within_seconds_rendered_once_for_all_its_viewers()
    {
        using var host = new Access.AccessHost();
        var markdown = string.Concat(Enumerable.Repeat("[a](", 500 * 1024 / 4));
        await host.PublishAsync("acme-slow", "1.0", markdown: markdown);
        await host.PublishAsync("acme-deep", "1.0", markdown: new string('>', 100_000) + " a");

        // Three first views at once: one render, whose time limit bounds all three answers.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var views = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => host.GetAsync("/project/acme-slow/", Access.AccessHost.Admin)));
        var first = clock.Elapsed;
        clock.Restart();
        var again = await host.GetAsync("/project/acme-slow/", Access.AccessHost.Admin);
        var second = clock.Elapsed;
        var deep = await host.GetAsync("/project/acme-deep/", Access.AccessHost.Admin);

        Assert.All(views.Append(again).Append(deep), view => Assert.Equal(System.Net.HttpStatusCode.OK, view.Status));
        Assert.True(first < TimeSpan.FromSeconds(15), $"first views took {first.TotalSeconds:0.0} s");
        // From the cache: no render (one warning per file below), no second time limit.
        Assert.True(second < TimeSpan.FromSeconds(5), $"second view took {second.TotalSeconds:0.0} s");
        Assert.Contains("<pre class=\"description-text\">\n[a]([a](", again.Body, StringComparison.Ordinal);
        Assert.Contains("<pre class=\"description-text\">\n&gt;&gt;&gt;", deep.Body, StringComparison.Ordinal);
        var shownAsText = host.Factory.Logs.Entries.Where(e => e.Message.StartsWith("The description of ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, shownAsText.Count);
        Assert.Contains(shownAsText, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("acme-slow", StringComparison.Ordinal)
            && e.Message.EndsWith("took longer than 2 s", StringComparison.Ordinal));
        Assert.Contains(shownAsText, e => e.Message.Contains("acme-deep", StringComparison.Ordinal) && e.Message.Contains("too deeply nested", StringComparison.Ordinal));
        Assert.Empty(host.Factory.Logs.Failures);
    }

    [Theory]
    [InlineData("https://example.org", true)]
    [InlineData("HTTP://example.org", true)]
    [InlineData("mailto:a@example.org", true)]
    [InlineData("docs/a:b", true)]
    [InlineData("#x:y", true)]
    [InlineData("?q=a:b", true)]
    [InlineData("/a:b", true)]
    [InlineData("javascript%3Aalert(1)", true)] // a relative path to a browser
    [InlineData("", true)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData(" javascript:alert(1)", false)]
    [InlineData("\u0001javascript:alert(1)", false)]
    [InlineData("java\nscript:alert(1)", false)]
    [InlineData("java\u00adscript:alert(1)", false)]
    [InlineData("jav&#x09;ascript:alert(1)", true)] // entities are decoded by Markdown before, not in an href: to a browser a path and a fragment
    [InlineData("data:text/html,x", false)]
    [InlineData("ftp://example.org", false)]
    [InlineData("1http:x", false)]
    [InlineData("https\\:x", true)] // "\" is a path separator to a browser: relative
    public void Urls_are_judged_by_their_scheme(string url, bool safe) => Assert.Equal(safe, DescriptionRenderer.IsSafeUrl(url));

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;

    [GeneratedRegex("(?:href|src)=\"([^\"]*)\"")]
    private static partial Regex UrlAttributes();

    [GeneratedRegex("<([a-zA-Z][a-zA-Z0-9]*)")]
    private static partial Regex Tags();
}
