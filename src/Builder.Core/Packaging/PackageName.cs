using System.Text.RegularExpressions;

namespace Builder.Core.Packaging;

/// <summary>Project names as the index compares them.</summary>
public static partial class PackageName
{
    // PEP 508 §Names: ASCII letters and digits, with '.', '-' and '_' only between them.
    // Explicit ASCII ranges and \z: IgnoreCase would let U+212A (Kelvin sign) match "k", and "$" would accept a final newline.
    [GeneratedRegex("^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();

    [GeneratedRegex("[-_.]+", RegexOptions.CultureInvariant)]
    private static partial Regex Separators();

    /// <summary>
    /// The longest name taken: a file name must hold it (<see cref="DistributionFilename.MaxLength"/>), and it is a
    /// database key (PostgreSQL refuses index entries over a few KB).
    /// </summary>
    public const int MaxLength = 128;

    public static bool IsValid(string name) => name.Length <= MaxLength && ValidName().IsMatch(name);

    /// <summary>PEP 503 §Normalized Names: lowercase, runs of '-', '_' and '.' become one '-'.</summary>
    public static string Normalize(string name) => Separators().Replace(name, "-").ToLowerInvariant();

    /// <summary>The name as distribution file names write it (binary distribution format, PEP 625): normalized, with '_' for '-'.</summary>
    public static string InFileName(string name) => Separators().Replace(name, "_").ToLowerInvariant();
}
