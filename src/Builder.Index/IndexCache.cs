using System.Collections.Concurrent;
using Builder.Core.Access;
using Builder.Core.Configuration;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Builder.Index;

/// <summary>
/// Index pages rendered once per change and served from memory. A publish, yank or delete invalidates only the
/// project it touched (and the root list); the next request renders from the database, so it sees the change.
/// Reads take no lock. A fill checks a generation counter under the lock, so a page rendered from data read
/// before an invalidation is never cached after it.
/// </summary>
/// <remarks>
/// Principals that read everything get the one full rendering. Principals limited to some projects or versions get
/// pages rendered for what they may see, cached per distinct rights (<see cref="AccessRights.ReadKey"/> for the list,
/// <see cref="ReadAccess.Key"/> per project), so a hundred customers with the same token shape share one rendering.
/// Each lookup a request makes counts as a hit or a miss (<c>builder_cache_requests_total{cache="index"}</c>); warming does not.
/// </remarks>
public sealed class IndexCache : IDisposable
{
    // Unknown names are cached too (pip asks for public dependencies we do not have), up to this many.
    private const int MaxNegativeEntries = 10_000;
    private const int MaxFilteredRoots = 1_000;
    private const int MaxFilteredPages = 20_000;

    private readonly ConcurrentDictionary<string, ProjectPages?> _projects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, ProjectPages?>> _filteredProjects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RootPages> _filteredRoots = new(StringComparer.Ordinal);
    private readonly IServiceScopeFactory _scopes;
    private readonly ChangeFeed _feed;
    private readonly IIndexMetrics _metrics;
    private readonly Lock _gate = new();

    // The published index: _published when no project changed since it was read; else _publishedBase and the projects
    // that changed since (_stalePublished), which the next reader reads again (only those: a publish does not cost a read
    // of every file). Both under _gate.
    private readonly HashSet<string> _stalePublished = new(StringComparer.Ordinal);
    private PublishedIndex? _published;
    private PublishedIndex? _publishedBase;
    private long _generation;
    private int _negativeEntries;
    private int _filteredPageCount;
    private RootPages? _root;

    public IndexCache(IServiceScopeFactory scopes, ChangeFeed feed, IIndexMetrics metrics, IOptions<PublicUrlOptions> publicUrl)
    {
        PublicBase = publicUrl.Value.BaseUri;
        _scopes = scopes;
        _feed = feed;
        _metrics = metrics;
        _feed.Changed += OnChanged;
    }

    /// <summary><c>Builder:PublicUrl</c>: the pages' provenance URLs are absolute under it (null: relative).</summary>
    public Uri? PublicBase { get; }

    public sealed record RootPages(RenderedPage Html, RenderedPage Json);

    /// <summary>The project list as <paramref name="rights"/> may see it: projects with at least one visible version.</summary>
    public async ValueTask<RootPages> GetRootAsync(AccessRights rights, CancellationToken cancellationToken)
    {
        if (rights.ReadsEverything)
        {
            return await GetRootAsync(cancellationToken);
        }

        var hit = _filteredRoots.TryGetValue(rights.ReadKey, out var cached);
        _metrics.CountCacheLookup(IIndexMetrics.PageCache, hit);
        if (hit)
        {
            return cached!;
        }

        var generation = Volatile.Read(ref _generation);
        var published = await GetPublishedAsync(cancellationToken);
        var visible = published.Projects
            .Where(p => rights.Read(p.Name) is { Any: true } access && (access.IsEverything || p.Releases.Any(r => access.Allows(r.Version))))
            .Select(p => p.Name)
            .ToList();
        var (html, json) = IndexPages.RenderRoot(visible);
        var root = new RootPages(html, json);
        lock (_gate)
        {
            if (_generation == generation)
            {
                if (_filteredRoots.Count >= MaxFilteredRoots)
                {
                    _filteredRoots.Clear();
                }

                _filteredRoots[rights.ReadKey] = root;
            }
        }

        return root;
    }

    /// <summary>The full project list (every project), for principals that read everything.</summary>
    public async ValueTask<RootPages> GetRootAsync(CancellationToken cancellationToken)
    {
        var cached = Volatile.Read(ref _root);
        _metrics.CountCacheLookup(IIndexMetrics.PageCache, cached is not null);
        if (cached is not null)
        {
            return cached;
        }

        var generation = Volatile.Read(ref _generation);
        var projects = await ListProjectsAsync(cancellationToken);
        var (html, json) = IndexPages.RenderRoot(projects);
        var root = new RootPages(html, json);
        lock (_gate)
        {
            if (_generation == generation)
            {
                _root = root;
            }
        }

        return root;
    }

    /// <summary>The normalized names of the projects with published files, in ordinal order (read from the database).</summary>
    public async Task<List<string>> ListProjectsAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var projects = await db.Files.AsNoTracking().Where(f => f.DeletedAt == null).Select(f => f.Project).Distinct().ToListAsync(cancellationToken);
        projects.Sort(StringComparer.Ordinal);
        return projects;
    }

    /// <summary>
    /// The project's pages as <paramref name="access"/> may see them, or null when none of its files is visible (or
    /// published). <paramref name="project"/> is normalized.
    /// </summary>
    public async ValueTask<ProjectPages?> GetProjectAsync(string project, ReadAccess access, CancellationToken cancellationToken)
    {
        if (access.IsEverything)
        {
            return await GetProjectAsync(project, cancellationToken);
        }

        if (!access.Any)
        {
            return null;
        }

        ProjectPages? cached = null;
        var hit = _filteredProjects.TryGetValue(project, out var views) && views.TryGetValue(access.Key, out cached);
        _metrics.CountCacheLookup(IIndexMetrics.PageCache, hit);
        if (hit)
        {
            return cached;
        }

        var generation = Volatile.Read(ref _generation);
        var files = await ReadPublishedAsync(project, cancellationToken);
        var visible = files.Where(f => access.Allows(f.Version)).ToList();
        var pages = visible.Count == 0 ? null : IndexPages.RenderProject(project, visible, PublicBase);
        lock (_gate)
        {
            if (_generation == generation)
            {
                if (_filteredPageCount >= MaxFilteredPages)
                {
                    _filteredProjects.Clear();
                    _filteredPageCount = 0;
                }

                if (_filteredProjects.GetOrAdd(project, _ => new(StringComparer.Ordinal)).TryAdd(access.Key, pages))
                {
                    _filteredPageCount++;
                }
            }
        }

        return pages;
    }

    /// <summary>The project's full pages, or null when no file of it is published. <paramref name="project"/> is normalized.</summary>
    public ValueTask<ProjectPages?> GetProjectAsync(string project, CancellationToken cancellationToken) => GetProjectAsync(project, countLookup: true, cancellationToken);

    /// <summary>Renders the project's pages into the cache unless they are there (start-up warming: not a lookup anyone waits for).</summary>
    public async Task WarmProjectAsync(string project, CancellationToken cancellationToken) => await GetProjectAsync(project, countLookup: false, cancellationToken);

    private async ValueTask<ProjectPages?> GetProjectAsync(string project, bool countLookup, CancellationToken cancellationToken)
    {
        var hit = _projects.TryGetValue(project, out var cached);
        if (countLookup)
        {
            _metrics.CountCacheLookup(IIndexMetrics.PageCache, hit);
        }

        if (hit)
        {
            return cached;
        }

        var generation = Volatile.Read(ref _generation);
        var files = await ReadPublishedAsync(project, cancellationToken);
        var pages = files.Count == 0 ? null : IndexPages.RenderProject(project, files, PublicBase);
        lock (_gate)
        {
            if (_generation == generation && (pages is not null || _negativeEntries < MaxNegativeEntries) && _projects.TryAdd(project, pages) && pages is null)
            {
                _negativeEntries++;
            }
        }

        return pages;
    }

    /// <summary>Whether the project's pages (or its absence) are in memory; for tests of warming.</summary>
    internal bool IsCached(string project) => _projects.ContainsKey(project);

    /// <summary>The project's published, not deleted files, read from the database (the proxy merges them with upstream's).</summary>
    public async Task<List<Core.Builds.PackageFile>> ReadPublishedAsync(string project, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        return await db.Files.AsNoTracking().Where(f => f.Project == project && f.DeletedAt == null).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// The tombstone of a deleted file of <paramref name="project"/> (<paramref name="filename"/> a distribution's name), or
    /// null: for the answer to a request for it, which says it was deleted rather than that it never existed.
    /// </summary>
    public async Task<Core.Builds.PackageFile?> FindDeletedAsync(string project, string filename, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        return await db.Files.AsNoTracking().SingleOrDefaultAsync(f => f.Filename == filename && f.Project == project && f.DeletedAt != null, cancellationToken);
    }

    /// <summary>
    /// Every published project and its releases, as of this call: for listings filtered by rights (the project list
    /// above, the catalog's listings). Read from the database once, then after a change only the changed projects' rows
    /// are read again; no reader waits for anything else. A change made before the call is in the answer.
    /// </summary>
    public async ValueTask<PublishedIndex> GetPublishedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _published) is { } fresh)
        {
            return fresh;
        }

        PublishedIndex? stale;
        string[] changed;
        long generation;
        lock (_gate)
        {
            if (_published is { } current)
            {
                return current;
            }

            stale = _publishedBase;
            changed = [.. _stalePublished];
            generation = _generation;
        }

        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var files = db.Files.AsNoTracking().Where(f => f.DeletedAt == null);
        if (stale is not null)
        {
            files = files.Where(f => changed.Contains(f.Project));
        }

        var rows = await files.Select(f => new PublishedFileRow(f.Project, f.Version, f.UploadedAt, f.Yanked)).ToListAsync(cancellationToken);
        var published = stale is null ? PublishedIndex.From(rows) : stale.With(changed, rows);
        lock (_gate)
        {
            // A change since the read began (the generation moved) may be missing from it: answer it, keep it not.
            if (_generation == generation)
            {
                _published = _publishedBase = published;
                _stalePublished.Clear();
            }
        }

        return published;
    }

    private void OnChanged(string topic, string key)
    {
        if (topic == ChangeTopics.Index)
        {
            Invalidate(key);
        }
        else if (topic == ChangeFeed.Everything)
        {
            Invalidate(ChangeFeed.Everything);
        }
    }

    private void Invalidate(string project)
    {
        lock (_gate)
        {
            _generation++;
            _root = null;
            _published = null;
            _filteredRoots.Clear();
            if (project == ChangeFeed.Everything)
            {
                _publishedBase = null;
                _stalePublished.Clear();
                _projects.Clear();
                _filteredProjects.Clear();
                _negativeEntries = 0;
                _filteredPageCount = 0;
                return;
            }

            if (_publishedBase is not null)
            {
                _stalePublished.Add(project);
            }

            if (_projects.TryRemove(project, out var removed) && removed is null)
            {
                _negativeEntries--;
            }

            if (_filteredProjects.TryRemove(project, out var views))
            {
                _filteredPageCount -= views.Count;
            }
        }
    }

    public void Dispose() => _feed.Changed -= OnChanged;
}
