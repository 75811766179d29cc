using Builder.Data;
using Builder.Web.Catalog;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Pages;

/// <summary>The builds the viewer may see, newest first, filtered by repository, project and state (<see cref="BuildCatalog"/>, as <c>GET /api/builds</c>).</summary>
public sealed class BuildsModel(BuildCatalog catalog, BuilderDbContext db) : UiPage
{
    [BindProperty(SupportsGet = true)]
    public string? Repository { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Project { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Before { get; set; }

    public BuildListPage? Builds { get; private set; }

    public string? Error { get; private set; }

    /// <summary>Admins filter by repository by name; the list of repositories is theirs to see.</summary>
    public IReadOnlyList<(long Id, string Name)> Repositories { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        if (!SignedIn)
        {
            return SignInFirst();
        }

        Title = "Builds";
        if (Viewer.Rights.IsAdmin)
        {
            Repositories = (await db.Repositories.AsNoTracking().OrderBy(r => r.Name).Select(r => new { r.Id, r.Name }).ToListAsync(HttpContext.RequestAborted))
                .Select(r => (r.Id, r.Name)).ToList();
        }

        if (!BuildFilter.TryParse(Empty(Repository), Empty(Project), Empty(State), null, Empty(Before), out var filter, out var problem))
        {
            Error = problem;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            Builds = new BuildListPage([], null);
            return Page();
        }

        Builds = await catalog.ListAsync(Viewer, filter, HttpContext.RequestAborted);
        return Page();
    }

    public string NextUrl(long before)
    {
        var query = System.Web.HttpUtility.ParseQueryString(Request.QueryString.Value ?? string.Empty);
        query["before"] = before.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "/builds?" + query;
    }

    private static string? Empty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
