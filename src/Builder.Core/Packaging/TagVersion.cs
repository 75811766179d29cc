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
}
