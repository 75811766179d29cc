using Builder.Web.Catalog;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;

namespace Builder.Web.Pages;

/// <summary>
/// The packages the viewer may read (<see cref="ProjectCatalog"/>, as <c>GET /api/projects</c>): search as you type
/// (app.js asks for <c>?partial=true</c>, the results fragment alone), latest version, last release, last build, paged.
/// </summary>
public sealed class IndexModel(ProjectCatalog catalog) : UiPage
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    /// <summary><c>?partial=true</c>: the results fragment alone (search as you type).</summary>
    [BindProperty(SupportsGet = true, Name = "partial")]
    public bool Fragment { get; set; }

    public ProjectListPage? Projects { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (Viewer.IsAnonymous && !Viewer.Rights.Grants.Any())
        {
            return SignInFirst();
        }

        Title = "Packages";
        Projects = await catalog.ListAsync(Viewer, Q, Math.Max(1, PageNumber), PageSize, HttpContext.RequestAborted);
        return Fragment ? Partial("_PackageResults", this) : Page();
    }

    public string PageUrl(int page) =>
        "/?" + string.Join('&', new[] { Q is { Length: > 0 } q ? "q=" + Uri.EscapeDataString(q) : null, "page=" + page.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Where(p => p is not null));
}
