using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Builder.Core.Packaging;

/// <summary>PEP 440 versions in their normalized form (the spelling the index and wheel names use).</summary>
public static partial class Pep440Version
{
    // The canonical pattern from PEP 440 Appendix B ("packaging.version.VERSION_PATTERN").
    [GeneratedRegex("""
        ^\s*v?
        (?:(?<epoch>[0-9]+)!)?
        (?<release>[0-9]+(?:\.[0-9]+)*)
        (?<pre>[-_\.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_\.]?(?<pre_n>[0-9]+)?)?
        (?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_\.]?(?<post_l>post|rev|r)[-_\.]?(?<post_n2>[0-9]+)?))?
        (?<dev>[-_\.]?(?<dev_l>dev)[-_\.]?(?<dev_n>[0-9]+)?)?
        (?:\+(?<local>[a-z0-9]+(?:[-_\.][a-z0-9]+)*))?
        \s*\z
        """, RegexOptions.IgnoreCase | RegexOptions.IgnorePatternWhitespace | RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    /// <summary>
    /// A local version ("1.0+abc", normalized): never published, as "==1.0" matches it and pip would install it
    /// (PyPI refuses them too). Builds, uploads and imports ask this.
    /// </summary>
    public static bool IsLocal(string normalized) => normalized.Contains('+', StringComparison.Ordinal);

    public static bool TryNormalize(string? text, out string normalized)
    {
        normalized = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        // PEP 440 versions are ASCII; without this check IgnoreCase would let U+212A (Kelvin sign) pass as "k".
        if (!System.Text.Ascii.IsValid(text))
        {
            return false;
        }

        var m = VersionPattern().Match(text);
        if (!m.Success)
        {
            return false;
        }

        var sb = new StringBuilder();
        if (m.Groups["epoch"].Success && Number(m.Groups["epoch"].Value) != "0")
        {
            sb.Append(Number(m.Groups["epoch"].Value)).Append('!');
        }

        sb.AppendJoin('.', m.Groups["release"].Value.Split('.').Select(Number));

        if (m.Groups["pre"].Success)
        {
            var label = m.Groups["pre_l"].Value.ToLowerInvariant() switch
            {
                "alpha" or "a" => "a",
                "beta" or "b" => "b",
                _ => "rc", // c, rc, pre, preview
            };
            sb.Append(label).Append(NumberOrZero(m.Groups["pre_n"]));
        }

        if (m.Groups["post"].Success)
        {
            var n = m.Groups["post_n1"].Success ? Number(m.Groups["post_n1"].Value) : NumberOrZero(m.Groups["post_n2"]);
            sb.Append(".post").Append(n);
        }

        if (m.Groups["dev"].Success)
        {
            sb.Append(".dev").Append(NumberOrZero(m.Groups["dev_n"]));
        }

        if (m.Groups["local"].Success)
        {
            sb.Append('+').Append(string.Join('.', m.Groups["local"].Value.ToLowerInvariant()
                .Split('-', '_', '.')
                .Select(part => part.All(char.IsAsciiDigit) ? Number(part) : part)));
        }

        normalized = sb.ToString();
        return true;
    }

    private static string NumberOrZero(Group group) => group.Success ? Number(group.Value) : "0";

    // Leading zeros are not significant (PEP 440 §Integer normalization); numbers may exceed 64 bits.
    private static string Number(string digits)
    {
        var trimmed = digits.TrimStart('0');
        return trimmed.Length == 0 ? "0" : trimmed.ToString(CultureInfo.InvariantCulture);
    }
}
