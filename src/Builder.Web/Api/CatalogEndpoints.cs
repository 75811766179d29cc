using System.Globalization;
using Builder.Web.Access;
using Builder.Web.Catalog;
using Builder.Web.Http;
using Builder.Web.Index;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Builder.Web.Api;

/// <summary><c>GET /api/projects</c>: a page of projects, and the link to the next one (null: this is the last).</summary>
public sealed record ProjectListResponse(IReadOnlyList<ProjectSummary> Projects, int Total, int Page, int PageSize, string? Next);

/// <summary><c>GET /api/builds</c>: a page of builds, newest first, and the link to the next one (null: this is the last).</summary>
public sealed record BuildListResponse(IReadOnlyList<BuildListItem> Builds, string? Next);

/// <summary>
/// The catalog as JSON, for scripts and the web UI's own use: the projects a principal may read (read rights, like the
/// index: 401 without credentials unless anonymous reads are on, 404 for a project they may not read) and the builds
/// they may see (credentials always, like <c>GET /api/builds/{id}</c>). The answers come from <see cref="ProjectCatalog"/>
/// and <see cref="BuildCatalog"/>, which the pages use too.
/// </summary>
internal static class CatalogEndpoints
{
    public const string Projects = "/api/projects";
    public const string Project = "/api/projects/{project}";
    public const string Builds = "/api/builds";

    public static void MapCatalogApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(Projects, ListProjectsAsync);
        app.MapGet(Project, GetProjectAsync);
        app.MapGet(Builds, ListBuildsAsync).AddEndpointFilter<RequireCredentials>();
    }

    /// <summary><c>?q=</c> (a part of the name, any spelling), <c>?page=</c> (from 1), <c>?pageSize=</c> (1 to 200, default 50).</summary>
    private static async Task<IResult> ListProjectsAsync(
        string? q, string? page, string? pageSize, HttpContext context, ProjectCatalog catalog, CancellationToken cancellationToken)
    {
        var principal = context.Principal();
        if (!principal.MayBrowse)
        {
            return RequestPrincipal.Challenge();
        }

        if (!ProjectCatalog.TryParsePaging(page, pageSize, out var number, out var size, out var problem))
        {
            return Problems.BadRequest(problem!);
        }

        var list = await catalog.ListAsync(principal, q, number, size, cancellationToken);
        var next = list.HasNext ? NextLink(context.Request, Projects, "page", (number + 1).ToString(CultureInfo.InvariantCulture)) : null;
        return TypedResults.Ok(new ProjectListResponse(list.Projects, list.Total, list.Page, list.PageSize, next));
    }

    /// <summary>Any spelling of the name finds the project (no redirect: this is not an installer's URL).</summary>
    private static async Task<IResult> GetProjectAsync(string project, HttpContext context, ProjectCatalog catalog, CancellationToken cancellationToken)
    {
        var principal = context.Principal();
        if (!principal.MayBrowse)
        {
            return RequestPrincipal.Challenge();
        }

        var detail = await catalog.GetAsync(principal, project, cancellationToken);
        return detail is null ? IndexEndpoints.NoSuchProject(Builder.Core.Packaging.PackageName.Normalize(project.Trim())) : TypedResults.Ok(detail);
    }

    /// <summary>Filters <c>repository</c> (id), <c>project</c>, <c>state</c>; <c>limit</c> (1 to 200, default 50) and <c>before</c> (keyset paging).</summary>
    private static async Task<Results<Ok<BuildListResponse>, ProblemHttpResult>> ListBuildsAsync(
        string? repository, string? project, string? state, string? limit, string? before, HttpContext context, BuildCatalog catalog, CancellationToken cancellationToken)
    {
        if (!BuildFilter.TryParse(repository, project, state, limit, before, out var filter, out var problem))
        {
            return Problems.BadRequest(problem!);
        }

        var list = await catalog.ListAsync(context.Principal(), filter, cancellationToken);
        var next = list.NextBefore is { } id ? NextLink(context.Request, Builds, "before", id.ToString(CultureInfo.InvariantCulture)) : null;
        return TypedResults.Ok(new BuildListResponse(list.Builds, next));
    }

    /// <summary>The request's own route and query with one parameter set (as the audit log's <c>next</c>).</summary>
    private static string NextLink(HttpRequest request, string route, string name, string value)
    {
        var query = System.Web.HttpUtility.ParseQueryString(request.QueryString.Value ?? string.Empty);
        query[name] = value;
        return $"{route}?{query}";
    }

}
