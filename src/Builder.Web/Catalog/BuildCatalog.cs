using System.Globalization;
using Builder.Core.Access;
using Builder.Core.Builds;
using Builder.Core.Packaging;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Catalog;

/// <summary>A build as listings of projects show it (a project's last build).</summary>
/// <param name="State">A <see cref="BuildStates"/> name: <c>queued</c>, <c>running</c>, <c>succeeded</c>, <c>failed</c>, <c>cancelled</c>.</param>
public sealed record BuildSummary(long Id, string State, string Tag, string? Version, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

/// <summary>One row of the build list (<c>GET /api/builds</c>); <see cref="Url"/> is its status route, <c>GET /api/builds/{id}</c>.</summary>
/// <param name="Repository">The repository's name on its forge ("acme/billing").</param>
/// <param name="Commit">The SHA the webhook (or trigger) delivered.</param>
/// <param name="Project">Null until the build is published (admins only see such builds).</param>
public sealed record BuildListItem(
    long Id,
    string State,
    string Repository,
    long RepositoryId,
    string Tag,
    string Commit,
    string? Project,
    string? Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string Url);

/// <summary>A page of builds, newest first; <see cref="NextBefore"/> is the <see cref="BuildFilter.Before"/> of the next page (null: this is the last).</summary>
public sealed record BuildListPage(IReadOnlyList<BuildListItem> Builds, long? NextBefore);

/// <summary>
/// Which builds to list: of a repository (its id), of a project (normalized name), in a state; <see cref="Limit"/> of
/// them, older than the build <see cref="Before"/> (keyset paging: the id of the last build of the previous page).
/// </summary>
public sealed record BuildFilter(long? RepositoryId = null, string? Project = null, BuildState? State = null, int Limit = BuildFilter.DefaultLimit, long? Before = null)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>
    /// Reads the query parameters <c>repository</c>, <c>project</c>, <c>state</c>, <c>limit</c> and <c>before</c> (each
    /// optional); false with a problem naming the parameter and what it accepts.
    /// </summary>
    public static bool TryParse(string? repository, string? project, string? state, string? limit, string? before, out BuildFilter filter, out string? problem)
    {
        filter = new BuildFilter();
        problem = null;
        long? repositoryId = null;
        if (repository is not null)
        {
            if (!long.TryParse(repository, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                problem = $"'repository' must be a repository id (a number), not '{repository}'";
                return false;
            }

            repositoryId = id;
        }

        string? normalized = null;
        if (project is not null)
        {
            if (!PackageName.IsValid(project.Trim()))
            {
                problem = $"'project' must be a project name, not '{project}'";
                return false;
            }

            normalized = PackageName.Normalize(project.Trim());
        }

        BuildState? parsedState = null;
        if (state is not null)
        {
            if (!BuildStates.TryParse(state, out var s))
            {
                problem = $"'state' must be one of {string.Join(", ", BuildStates.Names)}, not '{state}'";
                return false;
            }

            parsedState = s;
        }

        var size = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxLimit))
        {
            problem = $"'limit' must be a number from 1 to {MaxLimit}, not '{limit}'";
            return false;
        }

        long? beforeId = null;
        if (before is not null)
        {
            if (!long.TryParse(before, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                problem = $"'before' must be a build id (a number), not '{before}'";
                return false;
            }

            beforeId = id;
        }

        filter = new BuildFilter(repositoryId, normalized, parsedState, size, beforeId);
        return true;
    }
}

/// <summary>
/// The builds a principal may see (<see cref="AccessRights.CanSeeBuild"/>: admins every build, others the builds of the
/// releases they may read), for the build list and for each project's last build. One owner for the JSON API and the
/// web UI.
/// </summary>
public sealed class BuildCatalog(IServiceScopeFactory scopes)
{
    // Rows read per round trip when rows may be filtered out after reading (a principal limited to some versions).
    private const int FilteredBatch = 200;

    /// <summary>
    /// The builds <paramref name="filter"/> selects that <paramref name="viewer"/> may see, newest first (by id), up to
    /// <see cref="BuildFilter.Limit"/>. Admins' pages are one query; for others the database is narrowed to the
    /// projects they may read, and versions they may not are skipped while reading on, so a page is still full.
    /// </summary>
    public async Task<BuildListPage> ListAsync(Principal viewer, BuildFilter filter, CancellationToken cancellationToken)
    {
        var rights = viewer.Rights;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var query = db.Builds.AsNoTracking();
        if (filter.RepositoryId is { } repositoryId)
        {
            query = query.Where(b => b.RepositoryId == repositoryId);
        }

        if (filter.Project is { } project)
        {
            query = query.Where(b => b.Project == project);
        }

        if (filter.State is { } state)
        {
            query = query.Where(b => b.State == state);
        }

        // Whether every row the query returns is visible (no row is skipped after reading).
        var exact = true;
        if (!rights.IsAdmin)
        {
            // Only builds naming a release can be visible to a non-admin (CanSeeBuild).
            query = query.Where(b => b.Project != null && b.Version != null);
            if (!rights.ReadsEverything)
            {
                var candidates = filter.Project is { } named
                    ? [named]
                    : await db.Builds.AsNoTracking().Where(b => b.Project != null).Select(b => b.Project!).Distinct().ToListAsync(cancellationToken);
                var readable = candidates.Where(p => rights.Read(p).Any).ToList();
                if (readable.Count == 0)
                {
                    return new BuildListPage([], null);
                }

                if (readable.Count < candidates.Count)
                {
                    // One parameter however many names (EF's default would send one per name: thousands, slowly).
                    query = query.Where(b => EF.Parameter(readable).Contains(b.Project!));
                }

                exact = readable.All(p => rights.Read(p).IsEverything);
            }
        }

        var limit = filter.Limit;
        var batch = exact ? limit + 1 : Math.Max(limit + 1, FilteredBatch);
        var builds = new List<BuildListItem>(limit + 1);
        var cursor = filter.Before;
        while (builds.Count <= limit)
        {
            var page = cursor is { } before ? query.Where(b => b.Id < before) : query;
            var rows = await page.OrderByDescending(b => b.Id).Take(batch)
                .Select(b => new BuildListItem(
                    b.Id, BuildStates.Name(b.State), b.Repository!.Name, b.RepositoryId, b.Tag, b.CommitSha, b.Project, b.Version,
                    b.CreatedAt, b.StartedAt, b.FinishedAt, PublicRoutes.Build(b.Id)))
                .ToListAsync(cancellationToken);
            builds.AddRange(rows.Where(b => rights.CanSeeBuild(b.Project, b.Version)));
            if (rows.Count < batch)
            {
                break;
            }

            cursor = rows[^1].Id;
        }

        if (builds.Count <= limit)
        {
            return new BuildListPage(builds, null);
        }

        builds.RemoveRange(limit, builds.Count - limit);
        return new BuildListPage(builds, builds[^1].Id);
    }

    /// <summary>
    /// The newest build <paramref name="viewer"/> may see of each of <paramref name="projects"/> (normalized names), in
    /// one query; projects without one are missing from the answer.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, BuildSummary>> LastBuildsAsync(Principal viewer, IReadOnlyCollection<string> projects, CancellationToken cancellationToken)
    {
        var rights = viewer.Rights;
        var readable = projects.Where(p => rights.Read(p).Any).Distinct(StringComparer.Ordinal).ToList();
        if (readable.Count == 0)
        {
            return new Dictionary<string, BuildSummary>(StringComparer.Ordinal);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var builds = db.Builds.AsNoTracking().Where(b => b.Project != null && readable.Contains(b.Project));
        // Everything of each project visible: its newest build. Some versions hidden: the newest of each version, the
        // newest visible one chosen below (a project has a few dozen versions; a page a few dozen projects).
        var newest = readable.All(p => rights.Read(p).IsEverything)
            ? builds.GroupBy(b => b.Project).Select(g => g.Max(b => b.Id))
            : builds.GroupBy(b => new { b.Project, b.Version }).Select(g => g.Max(b => b.Id));
        var rows = await db.Builds.AsNoTracking().Where(b => newest.Contains(b.Id))
            .Select(b => new { b.Project, b.Version, Summary = new BuildSummary(b.Id, BuildStates.Name(b.State), b.Tag, b.Version, b.CreatedAt, b.FinishedAt) })
            .ToListAsync(cancellationToken);
        return rows.Where(r => rights.CanSeeBuild(r.Project, r.Version))
            .GroupBy(r => r.Project!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(r => r.Summary.Id)!.Summary, StringComparer.Ordinal);
    }
}
