using System.Collections.Concurrent;
using Builder.Data;
using Builder.Pipeline;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Index;

/// <summary>
/// Index pages rendered once per change and served from memory. A publish, yank or delete invalidates only the
/// project it touched (and the root list); the next request renders from the database, so it sees the change.
/// Reads take no lock. A fill checks a generation counter under the lock, so a page rendered from data read
/// before an invalidation is never cached after it.
/// </summary>
public sealed class IndexCache : IDisposable
{
    // Unknown names are cached too (pip asks for public dependencies we do not have), up to this many.
    private const int MaxNegativeEntries = 10_000;

    private readonly ConcurrentDictionary<string, ProjectPages?> _projects = new(StringComparer.Ordinal);
    private readonly IServiceScopeFactory _scopes;
    private readonly IndexChangeFeed _feed;
    private readonly Lock _gate = new();
    private long _generation;
    private int _negativeEntries;
    private RootPages? _root;

    public IndexCache(IServiceScopeFactory scopes, IndexChangeFeed feed)
    {
        _scopes = scopes;
        _feed = feed;
        _feed.ProjectChanged += Invalidate;
    }

    public sealed record RootPages(RenderedPage Html, RenderedPage Json);

    public async ValueTask<RootPages> GetRootAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _root) is { } cached)
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

    /// <summary>The project's pages, or null when no file of it is published. <paramref name="project"/> is normalized.</summary>
    public async ValueTask<ProjectPages?> GetProjectAsync(string project, CancellationToken cancellationToken)
    {
        if (_projects.TryGetValue(project, out var cached))
        {
            return cached;
        }

        var generation = Volatile.Read(ref _generation);
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var files = await db.Files.AsNoTracking().Where(f => f.Project == project && f.DeletedAt == null).ToListAsync(cancellationToken);
        var pages = files.Count == 0 ? null : IndexPages.RenderProject(project, files);
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

    private void Invalidate(string project)
    {
        lock (_gate)
        {
            _generation++;
            _root = null;
            if (project == IndexChangeFeed.Everything)
            {
                _projects.Clear();
                _negativeEntries = 0;
            }
            else if (_projects.TryRemove(project, out var removed) && removed is null)
            {
                _negativeEntries--;
            }
        }
    }

    public void Dispose() => _feed.ProjectChanged -= Invalidate;
}
