namespace Builder.Web.Ui;

/// <summary>
/// Which section of the build page a log line is in, and what of it is shown. The rules, the same in
/// Ui/Assets/js/log.js (which follows the log in the browser; change both together):
/// <list type="number">
/// <item>A line is the text between two line feeds, without the carriage returns that end it. (The stream sends a line
/// with its other carriage returns as data fields of one event, which EventSource joins with line feeds: in the
/// browser, a line feed in a line stands for a carriage return.)</item>
/// <item>A bracket is <c>[</c> NAME <c>]</c> followed by a space or the end of the line, where NAME is not empty and has
/// no <c>]</c> and no control character (below U+0020).</item>
/// <item>A line that starts with a bracket has a prefix; its NAME is the source. The job's own sources <c>builder</c>,
/// <c>git</c> and <c>plan</c> are the key. Otherwise, when a second bracket follows the first one's space, the prefix is
/// both and the key is source, space, second NAME (<c>[x86_64] [cp311-cp311 wheel]</c> → <c>x86_64 cp311-cp311
/// wheel</c>); else the key is the source (<c>[x86_64] ...</c> → <c>x86_64</c>, <c>[x86_64 part 5] ...</c> →
/// <c>x86_64 part 5</c>).</item>
/// <item>A line without a prefix continues the line before it (a message of several lines) and is in that line's
/// section; at the start of the log, in section <c>log</c>.</item>
/// <item>A line shows what follows its prefix and the one space after it (all of a line without a prefix), and of
/// that only what follows the last carriage return (a progress bar shows its last state).</item>
/// <item>Sections are in the order their keys first appear. A section's anchor id is <c>s-</c> and the slug of its key:
/// ASCII letters lower-cased, ASCII digits and <c>_</c> kept, each run of other characters one <c>-</c>, none at either
/// end, <c>log</c> when nothing is left; an id an earlier section has gets <c>-2</c>, <c>-3</c>, ... Its title is the
/// key.</item>
/// <item>Lines are numbered from 1 through the whole log (the raw log's line numbers), whatever their section; line N
/// has the id <c>LN</c>.</item>
/// </list>
/// </summary>
internal static class LogLinePrefix
{
    /// <summary>The key of lines before the first prefixed one.</summary>
    public const string NoPrefixKey = "log";

    private static readonly string[] JobSources = ["builder", "git", "plan"];

    /// <summary>
    /// Reads a line's prefix (rules 2 and 3): its <paramref name="source"/> (the first NAME), its
    /// <paramref name="step"/> (the second NAME, or null) and where its text starts (<paramref name="textStart"/>:
    /// after the prefix and its space). False for a line without a prefix.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> line, out Range source, out Range? step, out int textStart)
    {
        source = default;
        step = null;
        textStart = 0;
        var first = Bracket(line, 0);
        if (first < 0)
        {
            return false;
        }

        source = 1..first;
        var end = first + 1;
        if (!IsJobSource(line[source]))
        {
            var second = Bracket(line, first + 2);
            if (second >= 0)
            {
                step = (first + 3)..second;
                end = second + 1;
            }
        }

        textStart = Math.Min(end + 1, line.Length);
        return true;
    }

    /// <summary>The section key of a prefix (rule 3).</summary>
    public static string Key(ReadOnlySpan<char> line, Range source, Range? step) =>
        step is { } s ? string.Concat(line[source], " ", line[s]) : line[source].ToString();

    /// <summary>What a line (without the carriage returns that end it) shows (rule 5): its text after the prefix, from after its last carriage return.</summary>
    public static int ShownTextStart(ReadOnlySpan<char> line, int textStart)
    {
        var cr = line[textStart..].LastIndexOf('\r');
        return cr < 0 ? textStart : textStart + cr + 1;
    }

    /// <summary>The anchor id of a key (rule 6), before making it unique among the page's sections.</summary>
    public static string Slug(string key)
    {
        var slug = new System.Text.StringBuilder("s-", key.Length + 2);
        var dash = false;
        foreach (var c in key)
        {
            var kept = c switch
            {
                >= 'a' and <= 'z' or >= '0' and <= '9' or '_' => c,
                >= 'A' and <= 'Z' => (char)(c + ('a' - 'A')),
                _ => '\0',
            };
            if (kept == '\0')
            {
                dash = true;
                continue;
            }

            if (dash && slug.Length > 2)
            {
                slug.Append('-');
            }

            dash = false;
            slug.Append(kept);
        }

        return slug.Length > 2 ? slug.ToString() : "s-" + NoPrefixKey;
    }

    /// <summary><paramref name="slug"/>, or with <c>-2</c>, <c>-3</c>, ... the first that <paramref name="taken"/> does not hold (rule 6).</summary>
    public static string Unique(string slug, IReadOnlySet<string> taken)
    {
        var id = slug;
        for (var n = 2; taken.Contains(id); n++)
        {
            id = slug + "-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return id;
    }

    /// <summary>The job's own sources (<c>builder</c>, <c>git</c>, <c>plan</c>): their lines never have a step.</summary>
    public static bool IsJobSource(ReadOnlySpan<char> source)
    {
        foreach (var job in JobSources)
        {
            if (source.SequenceEqual(job))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Where the bracket that starts at <paramref name="start"/> closes (rule 2); -1 when none starts there.</summary>
    private static int Bracket(ReadOnlySpan<char> line, int start)
    {
        if (start >= line.Length || line[start] != '[')
        {
            return -1;
        }

        var close = line[(start + 1)..].IndexOf(']');
        if (close <= 0)
        {
            return -1;
        }

        close += start + 1;
        if (close + 1 < line.Length && line[close + 1] != ' ')
        {
            return -1;
        }

        foreach (var c in line[(start + 1)..close])
        {
            if (c < ' ')
            {
                return -1;
            }
        }

        return close;
    }
}
