using Builder.Core.Packaging;

namespace Builder.Index;

/// <summary>A published file of a project: its name and its version as published.</summary>
internal sealed record PublishedName(string Filename, string Version);

/// <summary>
/// What a published release may still take, whatever publishes (build, upload, import): what <c>pip install
/// project==1.0</c> installs never changes once 1.0 is published. A release is its PEP 440 version (1.0, 1.0.0 and 0!1.0
/// are one release), spelled one way; a file may join it only for tags none of its files installs for (a wheel for
/// another Python or platform), never beside a file that an installer could pick instead (another build tag, another
/// spelling of the name or version, a second sdist).
/// </summary>
internal static class ReleaseRules
{
    /// <summary>Why <paramref name="added"/> (new names, all of one project) may not join <paramref name="published"/> (its live files), or null.</summary>
    public static string? Refusal(IReadOnlyList<PublishedName> published, IReadOnlyList<FileToPublish> added)
    {
        var taken = new List<(DistributionFilename Name, string Version)>();
        foreach (var file in published)
        {
            if (DistributionFilename.TryParse(file.Filename, out var name) && name is not null)
            {
                taken.Add((name, file.Version));
            }
        }

        foreach (var file in added)
        {
            if (!DistributionFilename.TryParse(file.Filename, out var name) || name is null)
            {
                return $"'{file.Filename}' is not a valid wheel or sdist file name";
            }

            var release = taken.Where(t => Pep440Comparer.Instance.Compare(t.Version, file.Version) == 0).ToList();
            if (release.FirstOrDefault(t => t.Version != file.Version) is { Name: not null } other)
            {
                return $"{file.Filename}: version {file.Version} is release {other.Version} (equal by PEP 440), already published with files named {other.Version}; "
                    + "a release has one spelling and a published one never changes what installs pick: release a new version";
            }

            foreach (var (sibling, _) in release)
            {
                if (sibling.Tags.Intersect(name.Tags, StringComparer.Ordinal).FirstOrDefault() is { } tag)
                {
                    return $"{file.Filename}: release {file.Version} already has {sibling.Filename} for {(tag == "sdist" ? "its sdist" : tag)}; "
                        + "a published release never changes what installs pick (another build tag or spelling of the same file is refused): release a new version";
                }
            }

            taken.Add((name, file.Version));
        }

        return null;
    }
}
