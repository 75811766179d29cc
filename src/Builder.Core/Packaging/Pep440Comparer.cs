using System.Text.RegularExpressions;

namespace Builder.Core.Packaging;

/// <summary>
/// Orders PEP 440 versions (PEP 440 §Summary of permitted suffixes and relative ordering):
/// 1.0.dev0 &lt; 1.0a1.dev0 &lt; 1.0a1 &lt; 1.0b1 &lt; 1.0rc1 &lt; 1.0 &lt; 1.0+local &lt; 1.0.post1.dev0 &lt; 1.0.post1.
/// Strings that are not versions sort before all versions, ordinally among themselves.
/// </summary>
public sealed partial class Pep440Comparer : IComparer<string>
{
    public static Pep440Comparer Instance { get; } = new();

    [GeneratedRegex(@"^(?:(?<epoch>\d+)!)?(?<release>\d+(?:\.\d+)*)(?:(?<pre_l>a|b|rc)(?<pre_n>\d+))?(?:\.post(?<post>\d+))?(?:\.dev(?<dev>\d+))?(?:\+(?<local>[a-z0-9.]+))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Normalized();

    public int Compare(string? x, string? y) => Compare(Parse(x), x, Parse(y), y);

    /// <summary>True for pre-releases and developmental releases (which installers skip unless asked).</summary>
    public static bool IsPrerelease(string version) => IsPrerelease(Parse(version));

    /// <summary>
    /// The release shown as a project's current one, as Warehouse chooses it: the highest version that is neither a
    /// pre-release nor yanked; failing that (only pre-releases or yanked releases), the highest of all. The default
    /// (null) when there are no releases.
    /// </summary>
    public static TRelease? Latest<TRelease>(IEnumerable<TRelease> releases, Func<TRelease, ParsedVersion> version, Func<TRelease, bool> yanked)
    {
        var found = false;
        var foundFinal = false;
        TRelease? highest = default;
        TRelease? highestFinal = default;
        foreach (var release in releases)
        {
            var parsed = version(release);
            if (!found || ParsedVersion.Order.Compare(parsed, version(highest!)) > 0)
            {
                highest = release;
                found = true;
            }

            if (!yanked(release) && !parsed.IsPrerelease && (!foundFinal || ParsedVersion.Order.Compare(parsed, version(highestFinal!)) > 0))
            {
                highestFinal = release;
                foundFinal = true;
            }
        }

        return foundFinal ? highestFinal : highest;
    }

    /// <summary>The order of two strings given with their parsed forms (null: not a version).</summary>
    internal static int Compare(Key? a, string? x, Key? b, string? y)
    {
        if (a is null || b is null)
        {
            return a is null && b is null ? string.CompareOrdinal(x, y) : a is null ? -1 : 1;
        }

        return a.CompareTo(b);
    }

    internal static bool IsPrerelease(Key? version) => version is { } v && (v.PreLabel >= 0 || v.Dev is not null);

    /// <summary>
    /// The parsed form behind the ordering, or null for a string that is not a PEP 440 version. Shared with
    /// <see cref="VersionSpecifier"/> so specifier matching orders versions exactly as this comparer does.
    /// </summary>
    internal static Key? Parse(string? text)
    {
        if (text is null || !Pep440Version.TryNormalize(text, out var normalized))
        {
            return null;
        }

        var m = Normalized().Match(normalized);
        if (!m.Success)
        {
            return null;
        }

        var release = m.Groups["release"].Value.Split('.').ToList();
        while (release.Count > 1 && release[^1] == "0")
        {
            release.RemoveAt(release.Count - 1); // 1.0 == 1.0.0
        }

        return new Key(
            m.Groups["epoch"].Success ? m.Groups["epoch"].Value : "0",
            release,
            m.Groups["pre_l"].Success ? m.Groups["pre_l"].Value switch { "a" => 0, "b" => 1, _ => 2 } : -1,
            m.Groups["pre_n"].Success ? m.Groups["pre_n"].Value : "0",
            m.Groups["post"].Success ? m.Groups["post"].Value : null,
            m.Groups["dev"].Success ? m.Groups["dev"].Value : null,
            m.Groups["local"].Success ? m.Groups["local"].Value.Split('.') : null);
    }

    // Numbers are normalized digit strings (no leading zeros), so equal numbers are equal strings;
    // Release has its trailing zeros removed (PEP 440 §Final releases: shorter release segments are padded with zeros).
    internal sealed record Key(string Epoch, List<string> Release, int PreLabel, string PreNumber, string? Post, string? Dev, string[]? Local)
        : IComparable<Key>
    {
        public int CompareTo(Key? other)
        {
            ArgumentNullException.ThrowIfNull(other);
            var c = CompareNumbers(Epoch, other.Epoch);
            if (c != 0)
            {
                return c;
            }

            for (var i = 0; i < Math.Max(Release.Count, other.Release.Count); i++)
            {
                c = CompareNumbers(i < Release.Count ? Release[i] : "0", i < other.Release.Count ? other.Release[i] : "0");
                if (c != 0)
                {
                    return c;
                }
            }

            c = PreRank().CompareTo(other.PreRank());
            if (c == 0 && PreLabel >= 0)
            {
                c = CompareNumbers(PreNumber, other.PreNumber);
            }

            if (c != 0)
            {
                return c;
            }

            // No post-release sorts before any post-release.
            c = (Post is null, other.Post is null) switch
            {
                (true, true) => 0,
                (true, false) => -1,
                (false, true) => 1,
                _ => CompareNumbers(Post!, other.Post!),
            };
            if (c != 0)
            {
                return c;
            }

            // A developmental release sorts before the same version without .devN.
            c = (Dev is null, other.Dev is null) switch
            {
                (true, true) => 0,
                (true, false) => 1,
                (false, true) => -1,
                _ => CompareNumbers(Dev!, other.Dev!),
            };
            return c != 0 ? c : CompareLocal(Local, other.Local);
        }

        // 1.0.dev0 (a dev release of the final, no pre, no post) sorts before 1.0a0; the final release after every pre-release.
        private int PreRank() => PreLabel >= 0 ? PreLabel : Dev is not null && Post is null ? -1 : 3;

        private static int CompareLocal(string[]? a, string[]? b)
        {
            if (a is null || b is null)
            {
                return a is null && b is null ? 0 : a is null ? -1 : 1;
            }

            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                var aNumeric = a[i].All(char.IsAsciiDigit);
                var bNumeric = b[i].All(char.IsAsciiDigit);
                // PEP 440 §Local version identifiers: numeric segments sort after alphanumeric ones.
                var c = (aNumeric, bNumeric) switch
                {
                    (true, true) => CompareNumbers(a[i], b[i]),
                    (true, false) => 1,
                    (false, true) => -1,
                    _ => string.CompareOrdinal(a[i], b[i]),
                };
                if (c != 0)
                {
                    return c;
                }
            }

            return a.Length.CompareTo(b.Length);
        }

        // Digits of any length, without leading zeros (they are normalized): longer is larger.
        private static int CompareNumbers(string a, string b) =>
            a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
    }
}

/// <summary>
/// A version string parsed once, to be ordered (exactly as <see cref="Pep440Comparer"/> orders strings), matched against
/// specifiers (<see cref="VersionSpecifier.Contains(ParsedVersion)"/>) and asked whether it is a pre-release many times
/// without parsing it again: a listing of thousands of releases would otherwise parse each string at every comparison.
/// A string that is not a PEP 440 version is kept too (it sorts first, and matches only "===").
/// </summary>
public sealed class ParsedVersion
{
    public ParsedVersion(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Text = text;
        Key = Pep440Comparer.Parse(text);
        IsPrerelease = Pep440Comparer.IsPrerelease(Key);
    }

    /// <summary>The string as given.</summary>
    public string Text { get; }

    /// <summary>A pre-release or developmental release (<see cref="Pep440Comparer.IsPrerelease(string)"/>).</summary>
    public bool IsPrerelease { get; }

    internal Pep440Comparer.Key? Key { get; }

    /// <summary>Orders parsed versions as <see cref="Pep440Comparer"/> orders their strings.</summary>
    public static IComparer<ParsedVersion> Order { get; } = Comparer<ParsedVersion>.Create(
        (x, y) => x is null || y is null ? (x is null ? (y is null ? 0 : -1) : 1) : Pep440Comparer.Compare(x.Key, x.Text, y.Key, y.Text));

    public override string ToString() => Text;
}
