namespace Builder.Core.Packaging;

/// <summary>The fields of a distribution's core metadata (METADATA / PKG-INFO) that Builder relies on.</summary>
public sealed record CoreMetadata(string Name, string Version, string? RequiresPython)
{
    /// <summary>
    /// Parses the RFC 822 style header block of core metadata (Core metadata spec §Metadata files).
    /// Continuation lines (leading whitespace) belong to the previous field; the body starts at the first blank line.
    /// </summary>
    public static CoreMetadata Parse(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? last = null;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Length == 0)
            {
                break;
            }

            if (char.IsWhiteSpace(line[0]) && last is not null)
            {
                fields[last] = (fields[last] + " " + line.Trim()).Trim();
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            // The first occurrence of a field wins; continuation lines of a repeated field belong to that repeat, not to it.
            var key = line[..colon].Trim();
            last = fields.TryAdd(key, line[(colon + 1)..].Trim()) ? key : null;
        }

        if (!fields.TryGetValue("Name", out var name) || name.Length == 0)
        {
            throw new InvalidDistributionException("the core metadata has no Name field");
        }

        if (!fields.TryGetValue("Version", out var version) || version.Length == 0)
        {
            throw new InvalidDistributionException("the core metadata has no Version field");
        }

        fields.TryGetValue("Requires-Python", out var requiresPython);
        return new CoreMetadata(name, version, string.IsNullOrWhiteSpace(requiresPython) ? null : requiresPython);
    }
}

public sealed class InvalidDistributionException : Exception
{
    public InvalidDistributionException(string message)
        : base(message)
    {
    }

    public InvalidDistributionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public InvalidDistributionException()
    {
    }
}
