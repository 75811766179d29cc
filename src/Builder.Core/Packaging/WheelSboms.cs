namespace Builder.Core.Packaging;

/// <summary>
/// The SBOM files a wheel carries: binary distribution format §The .dist-info/sboms directory (PEP 770; auditwheel
/// writes one for the libraries it grafts). Their names are read once, when the wheel is checked, and kept with the
/// file (one column, a name per line) so pages list them without opening the wheel again.
/// </summary>
public static class WheelSboms
{
    /// <summary>The directory under the wheel's <c>.dist-info</c> directory that holds them.</summary>
    public const string Directory = "sboms/";

    /// <summary>
    /// At most this many names are kept (a real wheel has one or two); a name that is longer than
    /// <see cref="MaxNameLength"/> or has a control character is not listed: the names are shown and stored, the
    /// files are not read.
    /// </summary>
    public const int MaxNames = 100;

    public const int MaxNameLength = 255;

    /// <summary>
    /// The SBOM names among a wheel's archive entries (<paramref name="entries"/>, full names) under
    /// <paramref name="distInfo"/> (<c>acme_app-1.0.dist-info/</c>): each as its path under <c>sboms/</c>, directories
    /// left out, in ordinal order.
    /// </summary>
    public static IReadOnlyList<string> Find(IEnumerable<string> entries, string distInfo)
    {
        var prefix = distInfo + Directory;
        return entries
            .Where(e => e.StartsWith(prefix, StringComparison.Ordinal) && !e.EndsWith('/'))
            .Select(e => e[prefix.Length..])
            .Where(name => name.Length is > 0 and <= MaxNameLength && !name.Any(char.IsControl))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Take(MaxNames)
            .ToList();
    }

    /// <summary>The column's text: a name per line; an empty string for none; null stays null (not read).</summary>
    public static string? Format(IReadOnlyList<string>? names) => names is null ? null : string.Join('\n', names);

    /// <summary>The names in the column's text (<see cref="Format"/>); none for null (not read: an sdist, or a file published before Builder read them).</summary>
    public static IReadOnlyList<string> Parse(string? column) =>
        string.IsNullOrEmpty(column) ? [] : column.Split('\n');
}
