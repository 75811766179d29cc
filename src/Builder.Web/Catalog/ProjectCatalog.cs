using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Serialization;
using Builder.Core.Access;
using Builder.Core.Builds;
using Builder.Core.Packaging;
using Builder.Index;

namespace Builder.Web.Catalog;

/// <summary>A project as the project list shows it, over the releases the viewer may read.</summary>
/// <param name="Name">The normalized name.</param>
/// <param name="LatestVersion">The highest release neither yanked nor a pre-release; failing that, the highest (as Warehouse shows it).</param>
/// <param name="LastReleaseAt">When the newest release appeared (its first file's upload).</param>
/// <param name="LastBuild">The newest build of the project the viewer may see; null: none.</param>
public sealed record ProjectSummary(string Name, string LatestVersion, DateTimeOffset LastReleaseAt, BuildSummary? LastBuild);

/// <summary>One page of the project list: <see cref="Total"/> projects matched, this is page <see cref="Page"/> (1-based) of <see cref="PageSize"/>.</summary>
public sealed record ProjectListPage(IReadOnlyList<ProjectSummary> Projects, int Total, int Page, int PageSize)
{
    /// <summary>Whether a page follows this one.</summary>
    [JsonIgnore]
    public bool HasNext => (long)Page * PageSize < Total;
}

/// <summary>A published file of a release.</summary>
/// <param name="Url">Its download route, <c>/files/{project}/{filename}</c> (relative to Builder's base URL).</param>
/// <param name="Kind"><c>wheel</c> or <c>sdist</c>.</param>
/// <param name="PythonTag">A wheel's tags (<c>cp311</c>, <c>cp311</c>, <c>manylinux_2_17_x86_64</c>); null for an sdist.</param>
/// <param name="BuildId">The build that made it; null for an uploaded or imported file.</param>
/// <param name="Sboms">The SBOM files a wheel carries (<see cref="WheelSboms"/>), listed on the UI's file rows (not part of the JSON API).</param>
public sealed record FileDetail(
    string Filename,
    string Url,
    string Sha256,
    long Size,
    string? RequiresPython,
    string Kind,
    string? PythonTag,
    string? AbiTag,
    string? PlatformTag,
    DateTimeOffset UploadedAt,
    bool Yanked,
    string? YankedReason,
    long? BuildId,
    [property: JsonIgnore] IReadOnlyList<string> Sboms);

/// <summary>A release and its files (by file name).</summary>
/// <param name="Yanked">Every file is yanked (PEP 592).</param>
/// <param name="YankedReason">The reason given, when yanked.</param>
/// <param name="UploadedAt">When the release appeared (its first file's upload).</param>
/// <param name="BuildId">The build that made the release; null when its files were uploaded or imported.</param>
public sealed record ReleaseDetail(string Version, bool PreRelease, bool Yanked, string? YankedReason, DateTimeOffset UploadedAt, long? BuildId, IReadOnlyList<FileDetail> Files);

/// <summary>A project's releases the viewer may read, newest first (PEP 440 order), and the newest build of it they may see.</summary>
public sealed record ProjectDetail(string Name, IReadOnlyList<ReleaseDetail> Releases, BuildSummary? LatestBuild);

/// <summary>
/// The projects a principal may read, for the JSON API (<c>/api/projects</c>) and the web UI's pages alike. The list
/// is served from the index's published snapshot (<see cref="IndexCache.GetPublishedAsync"/>), which is read again
/// only for projects that changed; what each distinct set of rights sees of it is computed once per snapshot. A request
/// then filters and pages in memory and makes one query: the last builds of the projects on its page.
/// </summary>
public sealed class ProjectCatalog(IndexCache index, BuildCatalog builds)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 200;

    // Distinct rights (token shapes) whose view of one snapshot is kept; more start the set over.
    private const int MaxViews = 1_000;

    private Views? _views;

    /// <summary>
    /// Reads the query parameters <c>page</c> (1-based, default 1) and <c>pageSize</c> (default
    /// <see cref="DefaultPageSize"/>, at most <see cref="MaxPageSize"/>); false with a problem naming the parameter.
    /// </summary>
    public static bool TryParsePaging(string? page, string? pageSize, out int pageNumber, out int size, out string? problem)
    {
        problem = null;
        pageNumber = 1;
        size = DefaultPageSize;
        if (page is not null && (!int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out pageNumber) || pageNumber < 1))
        {
            problem = $"'page' must be a page number from 1, not '{page}'";
            return false;
        }

        if (pageSize is not null && (!int.TryParse(pageSize, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxPageSize))
        {
            problem = $"'pageSize' must be a number from 1 to {MaxPageSize}, not '{pageSize}'";
            return false;
        }

        return true;
    }

    /// <summary>
    /// Page <paramref name="page"/> (1-based) of the projects <paramref name="viewer"/> may read whose normalized name
    /// contains <paramref name="query"/> normalized (<c>Acme_App</c> finds <c>acme-app</c>; null or blank: every
    /// project), sorted by name. A project is listed when the viewer may read at least one of its releases, and its
    /// latest version and last release are those of the releases they may read.
    /// </summary>
    public async Task<ProjectListPage> ListAsync(Principal viewer, string? query, int page, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(page, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var visible = Visible(await index.GetPublishedAsync(cancellationToken), viewer.Rights);
        IReadOnlyList<VisibleProject> matched = visible;
        var needle = string.IsNullOrWhiteSpace(query) ? null : PackageName.Normalize(query.Trim());
        if (needle is not null)
        {
            matched = visible.Where(p => p.Name.Contains(needle, StringComparison.Ordinal)).ToList();
        }

        var skip = (long)(page - 1) * pageSize;
        var onPage = skip >= matched.Count ? [] : matched.Skip((int)skip).Take(pageSize).ToList();
        var lastBuilds = onPage.Count == 0
            ? new Dictionary<string, BuildSummary>()
            : await builds.LastBuildsAsync(viewer, onPage.Select(p => p.Name).ToList(), cancellationToken);
        var projects = onPage.Select(p => new ProjectSummary(p.Name, p.LatestVersion, p.LastReleaseAt, lastBuilds.GetValueOrDefault(p.Name))).ToList();
        return new ProjectListPage(projects, matched.Count, page, pageSize);
    }

    /// <summary>
    /// The project (any spelling of its name) with the releases <paramref name="viewer"/> may read, or null when it does
    /// not exist, has no published file, or none they may read: the same answer for each, as everywhere in the index.
    /// Deleted files never appear.
    /// </summary>
    public async Task<ProjectDetail?> GetAsync(Principal viewer, string project, CancellationToken cancellationToken)
    {
        var normalized = PackageName.Normalize(project.Trim());
        var access = viewer.Rights.Read(normalized);
        if (!access.Any)
        {
            return null;
        }

        var files = (await index.ReadPublishedAsync(normalized, cancellationToken)).Where(f => access.Allows(f.Version)).ToList();
        if (files.Count == 0)
        {
            return null;
        }

        var releases = files.GroupBy(f => f.Version, StringComparer.Ordinal)
            .Select(g => (Version: new ParsedVersion(g.Key), Files: g.OrderBy(f => f.Filename, StringComparer.Ordinal).ToList()))
            .OrderByDescending(r => r.Version, ParsedVersion.Order)
            .Select(r => Release(r.Version, r.Files))
            .ToList();
        var lastBuild = (await builds.LastBuildsAsync(viewer, [normalized], cancellationToken)).GetValueOrDefault(normalized);
        return new ProjectDetail(normalized, releases, lastBuild);
    }

    private static ReleaseDetail Release(ParsedVersion version, List<PackageFile> files)
    {
        var yanked = files.All(f => f.Yanked);
        return new ReleaseDetail(
            version.Text,
            version.IsPrerelease,
            yanked,
            yanked ? files.Select(f => f.YankedReason).FirstOrDefault(r => r is not null) : null,
            files.Min(f => f.UploadedAt),
            files.Select(f => f.BuildId).FirstOrDefault(b => b is not null),
            files.Select(File).ToList());
    }

    private static FileDetail File(PackageFile file)
    {
        // Published names were checked at publication; a wheel's tags come from its name.
        var wheel = DistributionFilename.TryParse(file.Filename, out var name) && name!.Kind == DistributionKind.Wheel;
        return new FileDetail(
            file.Filename,
            PublicRoutes.File(file.Project, file.Filename),
            file.Sha256,
            file.Size,
            file.RequiresPython,
            wheel ? "wheel" : "sdist",
            wheel ? name!.PythonTag : null,
            wheel ? name!.AbiTag : null,
            wheel ? name!.PlatformTag : null,
            file.UploadedAt,
            file.Yanked,
            file.Yanked ? file.YankedReason : null,
            file.BuildId,
            WheelSboms.Parse(file.Sboms));
    }

    /// <summary>What <paramref name="rights"/> see of <paramref name="published"/>: computed once per snapshot and distinct rights.</summary>
    private IReadOnlyList<VisibleProject> Visible(PublishedIndex published, AccessRights rights)
    {
        var views = Volatile.Read(ref _views);
        if (views is null || !ReferenceEquals(views.Published, published))
        {
            // A reader still holding an older snapshot may put its views back for a moment: the reference check above
            // keeps every answer computed from the snapshot it was asked about.
            views = new Views(published);
            Volatile.Write(ref _views, views);
        }

        if (views.ByRights.TryGetValue(rights.ReadKey, out var cached))
        {
            return cached;
        }

        var visible = new List<VisibleProject>();
        foreach (var project in published.Projects)
        {
            var access = rights.Read(project.Name);
            if (access.IsEverything)
            {
                visible.Add(new VisibleProject(project.Name, project.Latest.Version.Text, project.LastReleaseAt));
            }
            else if (access.Any && project.Releases.Where(r => access.Allows(r.Version)).ToList() is { Count: > 0 } readable)
            {
                visible.Add(new VisibleProject(project.Name, PublishedProject.LatestOf(readable)!.Version.Text, readable.Max(r => r.UploadedAt)));
            }
        }

        if (views.ByRights.Count >= MaxViews)
        {
            views.ByRights.Clear();
        }

        views.ByRights.TryAdd(rights.ReadKey, visible);
        return visible;
    }

    private sealed record VisibleProject(string Name, string LatestVersion, DateTimeOffset LastReleaseAt);

    private sealed class Views(PublishedIndex published)
    {
        public PublishedIndex Published { get; } = published;

        public ConcurrentDictionary<string, IReadOnlyList<VisibleProject>> ByRights { get; } = new(StringComparer.Ordinal);
    }
}
