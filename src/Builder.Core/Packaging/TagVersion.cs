namespace Builder.Core.Packaging;

/// <summary>Reads the release version a git tag names: "v1.2.3", "1.2.3", "V1.2.0rc1" → PEP 440 normalized.</summary>
public static class TagVersion
{
    public static bool TryParse(string tag, out string version)
    {
        version = string.Empty;
        if (string.IsNullOrWhiteSpace(tag) || tag.Any(char.IsWhiteSpace))
        {
            return false;
        }

        // PEP 440 itself accepts a leading "v"; the normalizer drops it.
        return Pep440Version.TryNormalize(tag, out version);
    }

    /// <summary>
    /// Why a tag cannot make a release, or null with its version: it must name a PEP 440 version that is not local
    /// (<see cref="Pep440Version.IsLocal"/>).
    /// </summary>
    public static string? Refusal(string tag, out string version)
    {
        if (!TryParse(tag, out version))
        {
            return $"tag '{tag}' does not name a PEP 440 version (expected a tag like v1.2.3)";
        }

        return Pep440Version.IsLocal(version)
            ? $"tag '{tag}' names the local version {version}; local versions are never published (pip's ==1.0 would install them): tag the release without '+...'"
            : null;
    }
}
