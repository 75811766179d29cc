using System.Text;
using System.Text.RegularExpressions;

namespace Builder.Core.Builds;

/// <summary>
/// cibuildwheel's build selectors (<c>build</c>, <c>skip</c>, <c>test-skip</c>): space-separated patterns, each
/// brace-expanded (<c>cp{38,39}-*</c>) and then matched with Python's <c>fnmatch</c> against the whole identifier.
/// </summary>
/// <remarks>
/// Mirrors <c>cibuildwheel.selector.selector_matches</c>: <c>patterns.split()</c>, <c>bracex.expand</c> per pattern,
/// <c>any(fnmatch(identifier, p))</c>. fnmatch: <c>*</c> any run, <c>?</c> one character, <c>[seq]</c> / <c>[!seq]</c>
/// a set (an unclosed <c>[</c> is literal); on POSIX it is case-sensitive. bracex also expands numeric and
/// character sequences (<c>{8..12}</c>); a brace group without a comma or a sequence stays literal.
/// </remarks>
internal static class CibuildwheelPattern
{
    // A selector string is tiny and user-written; the cap only bounds a pathological brace product.
    private const int MaxExpansions = 4096;

    public static bool Matches(string patterns, string identifier) =>
        Split(patterns).SelectMany(Expand).Any(p => ToRegex(p).IsMatch(identifier));

    public static IEnumerable<string> Split(string patterns) =>
        patterns.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Shell-like brace expansion: <c>a{b,c{d,e}}f</c> → <c>abf acdf acef</c>; <c>cp3{8..10}</c> → cp38 cp39 cp310.</summary>
    public static IReadOnlyList<string> Expand(string pattern)
    {
        var open = FindOpenBrace(pattern, out var close, out var alternatives);
        if (open < 0)
        {
            return [pattern];
        }

        var prefix = pattern[..open];
        var suffix = pattern[(close + 1)..];
        var results = new List<string>();
        foreach (var alternative in alternatives!)
        {
            foreach (var expanded in Expand(prefix + alternative + suffix))
            {
                results.Add(expanded);
                if (results.Count > MaxExpansions)
                {
                    throw new BuildStepException($"the pattern '{pattern}' expands to more than {MaxExpansions} patterns");
                }
            }
        }

        return results;
    }

    /// <summary>The first brace group that expands (has a top-level comma or is a sequence), with its alternatives.</summary>
    private static int FindOpenBrace(string pattern, out int close, out List<string>? alternatives)
    {
        for (var open = 0; open < pattern.Length; open++)
        {
            if (pattern[open] != '{')
            {
                continue;
            }

            var depth = 0;
            var parts = new List<string>();
            var start = open + 1;
            for (var i = open; i < pattern.Length; i++)
            {
                if (pattern[i] == '{')
                {
                    depth++;
                }
                else if (pattern[i] == '}' && --depth == 0)
                {
                    parts.Add(pattern[start..i]);
                    var sequence = parts.Count == 1 ? Sequence(parts[0]) : null;
                    if (parts.Count > 1 || sequence is not null)
                    {
                        close = i;
                        alternatives = sequence ?? parts;
                        return open;
                    }

                    break; // "{x}" is literal in bash and bracex: try the next brace
                }
                else if (pattern[i] == ',' && depth == 1)
                {
                    parts.Add(pattern[start..i]);
                    start = i + 1;
                }
            }
        }

        close = -1;
        alternatives = null;
        return -1;
    }

    /// <summary>bracex sequences: <c>8..12</c>, <c>12..8</c>, <c>1..9..2</c>, <c>a..e</c>; null when the text is not one.</summary>
    private static List<string>? Sequence(string body)
    {
        var m = Regex.Match(body, @"^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$", RegexOptions.CultureInvariant);
        if (m.Success && int.TryParse(m.Groups[1].Value, out var from) && int.TryParse(m.Groups[2].Value, out var to))
        {
            var step = m.Groups[3].Success && int.TryParse(m.Groups[3].Value, out var s) && s != 0 ? Math.Abs(s) : 1;
            if (Math.Abs((long)to - from) / step > MaxExpansions)
            {
                return null;
            }

            var values = new List<string>();
            for (var v = from; from <= to ? v <= to : v >= to; v += from <= to ? step : -step)
            {
                values.Add(v.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            return values;
        }

        var c = Regex.Match(body, @"^([A-Za-z])\.\.([A-Za-z])$", RegexOptions.CultureInvariant);
        if (c.Success)
        {
            var (a, b) = (c.Groups[1].Value[0], c.Groups[2].Value[0]);
            var values = new List<string>();
            for (var ch = a; a <= b ? ch <= b : ch >= b; ch = (char)(ch + (a <= b ? 1 : -1)))
            {
                values.Add(ch.ToString());
            }

            return values;
        }

        return null;
    }

    /// <summary>The anchored regex of one fnmatch pattern (CPython's <c>fnmatch.translate</c>).</summary>
    internal static Regex ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*':
                    regex.Append(".*");
                    break;
                case '?':
                    regex.Append('.');
                    break;
                case '[':
                    var end = ClassEnd(pattern, i);
                    if (end < 0)
                    {
                        regex.Append(@"\[");
                        break;
                    }

                    regex.Append(CharacterClass(pattern[(i + 1)..end]));
                    i = end;
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    // fnmatch: a ']' right after '[' or '[!' belongs to the set; the set ends at the next ']'.
    private static int ClassEnd(string pattern, int open)
    {
        var j = open + 1;
        if (j < pattern.Length && pattern[j] == '!')
        {
            j++;
        }

        if (j < pattern.Length && pattern[j] == ']')
        {
            j++;
        }

        return pattern.IndexOf(']', j);
    }

    private static string CharacterClass(string body)
    {
        var negate = body.StartsWith('!');
        if (negate)
        {
            body = body[1..];
        }

        if (body.Length == 0)
        {
            // "[!]" matches any character; "[]" cannot occur (']' first is a member).
            return ".";
        }

        var escaped = body.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("[", @"\[", StringComparison.Ordinal)
            .Replace("]", @"\]", StringComparison.Ordinal).Replace("^", @"\^", StringComparison.Ordinal);
        return (negate ? "[^" : "[") + escaped + "]";
    }
}
