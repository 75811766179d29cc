using Builder.Core.Packaging;

namespace Builder.Index;

/// <summary>
/// One published release as listings need it, without its files: its version (parsed once, to be ordered and matched
/// against rights without parsing it again), when it appeared (its first file's upload) and whether it is yanked (every
/// file yanked, as PEP 592 and Warehouse's JSON count a release).
/// </summary>
public sealed record PublishedRelease(ParsedVersion Version, DateTimeOffset UploadedAt, bool Yanked);

/// <summary>A published project and its releases (in no particular order), with its current release for principals that see all of them.</summary>
public sealed class PublishedProject
{
    public PublishedProject(string name, IReadOnlyList<PublishedRelease> releases)
    {
        Name = name;
        Releases = releases;
        Latest = LatestOf(releases)!;
        LastReleaseAt = releases.Max(r => r.UploadedAt);
    }

    /// <summary>The normalized name.</summary>
    public string Name { get; }

    /// <summary>At least one.</summary>
    public IReadOnlyList<PublishedRelease> Releases { get; }

    /// <summary><see cref="LatestOf"/> over every release.</summary>
    public PublishedRelease Latest { get; }

    /// <summary>When the newest release appeared.</summary>
    public DateTimeOffset LastReleaseAt { get; }

    /// <summary>The highest release neither yanked nor a pre-release, else the highest (<see cref="Pep440Comparer.Latest"/>); null for none.</summary>
    public static PublishedRelease? LatestOf(IEnumerable<PublishedRelease> releases) => Pep440Comparer.Latest(releases, r => r.Version, r => r.Yanked);
}

/// <summary>
/// Every project with published (not deleted) files and its releases: an immutable snapshot, one per change, which the
/// filtered project list and the catalog listings read instead of the files table (<see cref="IndexCache.GetPublishedAsync"/>).
/// </summary>
public sealed class PublishedIndex
{
    private readonly Dictionary<string, PublishedProject> _byName;

    private PublishedIndex(Dictionary<string, PublishedProject> byName)
    {
        _byName = byName;
        Projects = [.. byName.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];
    }

    public static PublishedIndex Empty { get; } = new(new(StringComparer.Ordinal));

    /// <summary>In ordinal order of their names.</summary>
    public IReadOnlyList<PublishedProject> Projects { get; }

    public PublishedProject? Find(string project) => _byName.GetValueOrDefault(project);

    /// <summary>The index of these files (each a published, not deleted file).</summary>
    public static PublishedIndex From(IEnumerable<PublishedFileRow> files) => Empty.With([], files);

    /// <summary>
    /// This index with <paramref name="changed"/> projects read again: their releases are exactly those of
    /// <paramref name="files"/> (the published files of the changed projects), and a project without files leaves.
    /// Files of other projects are taken as new projects.
    /// </summary>
    public PublishedIndex With(IReadOnlyCollection<string> changed, IEnumerable<PublishedFileRow> files)
    {
        var byName = new Dictionary<string, PublishedProject>(_byName, StringComparer.Ordinal);
        foreach (var project in changed)
        {
            byName.Remove(project);
        }

        // Projects share version strings (1.0.0): each is parsed once.
        var parsed = new Dictionary<string, ParsedVersion>(StringComparer.Ordinal);
        foreach (var project in files.GroupBy(f => f.Project, StringComparer.Ordinal))
        {
            var releases = project.GroupBy(f => f.Version, StringComparer.Ordinal)
                .Select(r => new PublishedRelease(
                    parsed.TryGetValue(r.Key, out var version) ? version : parsed[r.Key] = new ParsedVersion(r.Key),
                    r.Min(f => f.UploadedAt),
                    r.All(f => f.Yanked)))
                .ToList();
            byName[project.Key] = new PublishedProject(project.Key, releases);
        }

        return new PublishedIndex(byName);
    }
}

/// <summary>What the published index reads of one file row.</summary>
public sealed record PublishedFileRow(string Project, string Version, DateTimeOffset UploadedAt, bool Yanked);
