using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;

namespace Builder.Web.Ui;

/// <summary>How the UI writes times, sizes and durations: one place, so every page agrees.</summary>
public static class UiFormat
{
    /// <summary>
    /// A <c>&lt;time&gt;</c> in UTC, with the UTC time as its title: app.js rewrites the text into the viewer's local
    /// time (the title keeps UTC for hovering); without JavaScript the UTC text stays.
    /// </summary>
    public static IHtmlContent Time(DateTimeOffset? at)
    {
        if (at is not { } value)
        {
            return new HtmlString("<span class=\"muted\">—</span>");
        }

        var utc = value.ToUniversalTime();
        var iso = utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var text = utc.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        return new HtmlString($"<time datetime=\"{iso}\" title=\"{text}\">{text}</time>");
    }

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
    };

    public static string Duration(DateTimeOffset? start, DateTimeOffset? end) =>
        start is { } s && end is { } e ? Duration(e - s) : string.Empty;

    /// <summary>One way to write a duration on every page: the log's step durations' (<see cref="BuildLogView.FormatDuration"/>).</summary>
    public static string Duration(TimeSpan span) => BuildLogView.FormatDuration(span);

    /// <summary>A state badge: the state's own word, a class per state for its colour.</summary>
    public static IHtmlContent State(string state) =>
        new HtmlString($"<span class=\"badge state-{HtmlEncoder.Default.Encode(state)}\">{HtmlEncoder.Default.Encode(state)}</span>");
}

/// <summary>
/// The files table of a release (project and release pages): each file with its provenance (<paramref name="Provenance"/>,
/// by file name; a file missing there has none) and the SBOMs it carries; admins get yank, unyank and delete buttons.
/// </summary>
public sealed record FilesView(
    string Project, Builder.Web.Catalog.ReleaseDetail Release, IReadOnlyDictionary<string, ProvenanceSummary> Provenance, bool Admin, string? TableId);
