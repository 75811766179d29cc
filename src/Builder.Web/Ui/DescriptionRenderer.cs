using System.Text;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using Microsoft.AspNetCore.Html;

namespace Builder.Web.Ui;

/// <summary>A description as HTML, and why Markdown was shown as text instead (null when it was not).</summary>
public sealed record RenderedDescription(IHtmlContent Html, string? Fallback);

/// <summary>
/// A release's long description (core metadata <c>Description</c>, or the body of METADATA / PKG-INFO) as HTML for the
/// project page, by its <c>Description-Content-Type</c>:
/// <list type="bullet">
/// <item><c>text/markdown</c>: Markdown (CommonMark with pipe tables, autolinks, task lists, strike-through and the other
/// emphasis extras) in <c>&lt;div class="description-markdown"&gt;</c>. Raw HTML is shown as text, never passed on.
/// Links and images keep only <c>http:</c>, <c>https:</c>, <c>mailto:</c> and relative URLs (<see cref="IsSafeUrl"/>):
/// a link to anything else is its text alone, such an image is gone. Images are not embedded (they would load from
/// anywhere: a tracking pixel, the private index's address in a Referer): each is a link to the image, its alt text
/// the link's (<c>class="description-image"</c>). Links get <c>rel="nofollow noopener"</c>. Table columns' alignment
/// is a class (<c>align-left</c>, <c>align-center</c>, <c>align-right</c>), never a style attribute.</item>
/// <item>Anything else (<c>text/x-rst</c>, which is the default; <c>text/plain</c>; none): the text as it is, escaped, in
/// <c>&lt;pre class="description-text"&gt;</c>.</item>
/// </list>
/// Markdown that cannot be rendered within bounds is shown as text too (<see cref="RenderedDescription.Fallback"/> says
/// why): more than <see cref="MaxMarkdownChars"/> characters, nesting deeper than Markdig allows, or a render that takes
/// longer than the time limit (some inputs cost Markdig time quadratic in their length; the render stops there,
/// see <see cref="MarkdownTimeLimit"/>).
/// </summary>
public static class DescriptionRenderer
{
    /// <summary>Markdown longer than this (in characters) is shown as text: far beyond any README, and it bounds the work.</summary>
    public const int MaxMarkdownChars = 512 * 1024;

    /// <summary>How long one description may take to render as Markdown (a README takes milliseconds).</summary>
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(2);

    private static readonly MarkdownPipeline Pipeline = Build();

    private static MarkdownPipeline Build()
    {
        var builder = new MarkdownPipelineBuilder()
            .DisableHtml()
            .UsePipeTables()
            .UseAutoLinks()
            .UseTaskLists()
            .UseEmphasisExtras()
            .UseReferralLinks("nofollow", "noopener");
        // Last: its checkpoints go before the parsers of every opening character the others registered.
        builder.Extensions.Add(new MarkdownTimeLimit());
        return builder.Build();
    }

    /// <summary>The description as HTML (empty for no description), within <see cref="TimeLimit"/>.</summary>
    public static RenderedDescription Render(string? description, string? contentType) => Render(description, contentType, TimeLimit);

    internal static RenderedDescription Render(string? description, string? contentType, TimeSpan timeLimit)
    {
        if (string.IsNullOrWhiteSpace(description))
        {
            return new RenderedDescription(HtmlString.Empty, null);
        }

        if (!IsMarkdown(contentType))
        {
            return new RenderedDescription(PlainText(description), null);
        }

        if (description.Length > MaxMarkdownChars)
        {
            return new RenderedDescription(PlainText(description),
                $"{description.Length} characters of Markdown, more than the {MaxMarkdownChars} rendered");
        }

        using var limit = new CancellationTokenSource(timeLimit);
        try
        {
            var html = new StringBuilder(description.Length * 5 / 4 + 64);
            using var writer = new StringWriter(html, System.Globalization.CultureInfo.InvariantCulture);
            writer.Write("<div class=\"description-markdown\">\n");
            WriteMarkdown(writer, description, limit.Token);
            writer.Write("</div>\n");
            return new RenderedDescription(new HtmlString(html.ToString()), null);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            return new RenderedDescription(PlainText(description),
                $"rendering its {description.Length} characters of Markdown took longer than {timeLimit.TotalSeconds:0.#} s");
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // Markdig's guards: its depth limit ("too deeply nested", an ArgumentException) and its loop check.
            return new RenderedDescription(PlainText(description), ex.Message);
        }
    }

    private static HtmlString PlainText(string description)
    {
        var html = new StringBuilder(description.Length * 5 / 4 + 64);
        using var writer = new StringWriter(html, System.Globalization.CultureInfo.InvariantCulture);
        // The line feed after <pre> is dropped by HTML parsers: a description's own first line feed stays.
        writer.Write("<pre class=\"description-text\">\n");
        HtmlText.Write(writer, description.ReplaceLineEndings("\n"));
        writer.Write("</pre>\n");
        return new HtmlString(html.ToString());
    }

    /// <summary><c>text/markdown</c>, whatever its parameters (<c>charset</c>, <c>variant</c>: GFM and CommonMark are both read as above).</summary>
    private static bool IsMarkdown(string? contentType)
    {
        var mediaType = contentType?.Split(';', 2)[0].Trim();
        return string.Equals(mediaType, "text/markdown", StringComparison.OrdinalIgnoreCase);
    }

    private static void WriteMarkdown(TextWriter writer, string markdown, CancellationToken cancellationToken)
    {
        var document = Markdown.Parse(markdown, Pipeline, new MarkdownTimeLimit.Context(cancellationToken));
        SanitizeLinks(document, cancellationToken);
        AlignmentAsClasses(document);
        var renderer = new HtmlRenderer(writer)
        {
            // Every URL is checked above; this is a second guard, for any URL an extension writes by itself.
            LinkRewriter = url => IsSafeUrl(url) ? url : string.Empty,
        };
        Pipeline.Setup(renderer);
        renderer.Render(document);
        writer.Flush();
    }

    private static void SanitizeLinks(MarkdownDocument document, CancellationToken cancellationToken)
    {
        // Autolinks (<https://...>, <a@example.org>) as links: one way to check and render every link.
        foreach (var autolink in document.Descendants<AutolinkInline>().ToList())
        {
            var link = new LinkInline(autolink.IsEmail ? "mailto:" + autolink.Url : autolink.Url, title: string.Empty) { IsAutoLink = true };
            link.AppendChild(new LiteralInline(autolink.Url));
            autolink.ReplaceBy(link, copyChildren: false);
        }

        // In document order: an outer link is done before the images in it.
        foreach (var link in document.Descendants<LinkInline>().ToList())
        {
            // InsideLink walks up the link's ancestors: as many as the nesting is deep.
            cancellationToken.ThrowIfCancellationRequested();
            var url = link.GetDynamicUrl?.Invoke() ?? link.Url;
            link.GetDynamicUrl = null;
            link.Url = url;
            if (!IsSafeUrl(url))
            {
                Unwrap(link);
            }
            else if (link.IsImage)
            {
                if (InsideLink(link))
                {
                    // A badge inside a link: its alt text, in the outer link.
                    Unwrap(link);
                    continue;
                }

                link.IsImage = false;
                link.GetAttributes().AddClass("description-image");
                if (link.FirstChild is null)
                {
                    link.AppendChild(new LiteralInline(string.IsNullOrWhiteSpace(link.Title) ? "image" : link.Title));
                }
            }
        }
    }

    private static bool InsideLink(Inline inline)
    {
        for (var parent = inline.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is LinkInline { IsImage: false })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The link's content takes its place (an image's alt text; nothing for an image without one).</summary>
    private static void Unwrap(LinkInline link)
    {
        var child = link.FirstChild;
        while (child is not null)
        {
            var next = child.NextSibling;
            child.Remove();
            link.InsertBefore(child);
            child = next;
        }

        link.Remove();
    }

    /// <summary>Pipe tables write a column's alignment as a style attribute, which the pages' CSP refuses: a class instead.</summary>
    private static void AlignmentAsClasses(MarkdownDocument document)
    {
        foreach (var table in document.Descendants<Table>())
        {
            foreach (var row in table.OfType<TableRow>())
            {
                for (var i = 0; i < row.Count && i < table.ColumnDefinitions.Count; i++)
                {
                    var alignment = table.ColumnDefinitions[i].Alignment;
                    if (alignment is { } align && row[i] is TableCell cell)
                    {
                        cell.GetAttributes().AddClass(align switch
                        {
                            TableColumnAlign.Center => "align-center",
                            TableColumnAlign.Right => "align-right",
                            _ => "align-left",
                        });
                    }
                }
            }

            foreach (var column in table.ColumnDefinitions)
            {
                column.Alignment = null;
            }
        }
    }

    /// <summary>
    /// A URL a description may link to: <c>http:</c>, <c>https:</c>, <c>mailto:</c> (any case), or relative (no scheme:
    /// <c>docs/a.md</c>, <c>#usage</c>, <c>//host/x</c>). Read the way a browser reads it, only stricter: whitespace and
    /// control characters anywhere are dropped first (<c>java\tscript:</c> is <c>javascript:</c>), and a colon before
    /// any <c>/</c>, <c>?</c>, <c>#</c> or <c>\</c> makes what precedes it a scheme that must be one of the three.
    /// </summary>
    internal static bool IsSafeUrl(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return true;
        }

        var text = new StringBuilder(url.Length);
        foreach (var c in url)
        {
            if (!char.IsWhiteSpace(c) && !char.IsControl(c) && char.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.Format)
            {
                text.Append(c);
            }
        }

        var cleaned = text.ToString();
        var colon = cleaned.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return true;
        }

        var path = cleaned.AsSpan(0, colon).IndexOfAny("/?#\\");
        if (path >= 0)
        {
            return true;
        }

        var scheme = cleaned[..colon];
        return scheme.Equals("http", StringComparison.OrdinalIgnoreCase)
            || scheme.Equals("https", StringComparison.OrdinalIgnoreCase)
            || scheme.Equals("mailto", StringComparison.OrdinalIgnoreCase);
    }
}
