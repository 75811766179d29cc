using Builder.Core.Packaging;
using Builder.Index;
using Builder.Web.Access;
using Builder.Web.Catalog;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;

namespace Builder.Web.Pages;

/// <summary>
/// A project: install commands with this index's URL, the latest release's description and metadata, the release
/// history (pre-releases and yanked marked) with each release's files, their provenance and SBOMs; admins yank, unyank
/// and delete (<see cref="ReleaseAdmin"/>, as the API). A project the viewer may not read is the same 404 as one that
/// does not exist.
/// </summary>
public sealed class ProjectModel(ProjectCatalog catalog, ReleaseMetadata metadata, FileProvenanceReader provenance, ProjectQuotas quotas, UiAddress address) : UiPage
{
    /// <summary>
    /// The project's storage and quota, for a viewer who may read all of it (its bytes count every version, so a viewer
    /// limited to some versions does not see it).
    /// </summary>
    public ProjectUsage? Usage { get; private set; }

    public ProjectDetail? Project { get; private set; }

    /// <summary>The provenance of every file of every release shown, by file name (files without any are missing).</summary>
    public IReadOnlyDictionary<string, ProvenanceSummary> Provenance { get; private set; } = new Dictionary<string, ProvenanceSummary>();

    /// <summary>The release the description and install command are about: the latest (as the packages page shows it).</summary>
    public ReleaseDetail? Current { get; private set; }

    public ReleaseInfo? Info { get; private set; }

    public string IndexUrl => address.IndexUrl(Request);

    public string? Notice { get; private set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(string name) => await ShowAsync(name);

    public async Task<IActionResult> OnPostYankAsync(string name, string? version, string? filename, string? reason, [FromServices] ReleaseAdmin admin) =>
        await ChangeAsync(name, admin, a => a.SetYankedAsync(name, version, filename, true, reason, HttpContext.Actor(), HttpContext.RequestAborted), "yanked");

    public async Task<IActionResult> OnPostUnyankAsync(string name, string? version, string? filename, [FromServices] ReleaseAdmin admin) =>
        await ChangeAsync(name, admin, a => a.SetYankedAsync(name, version, filename, false, null, HttpContext.Actor(), HttpContext.RequestAborted), "unyanked");

    public async Task<IActionResult> OnPostDeleteAsync(string name, string? version, string? filename, [FromServices] ReleaseAdmin admin) =>
        await ChangeAsync(name, admin, a => a.DeleteAsync(name, version, filename, HttpContext.Actor(), HttpContext.RequestAborted), "deleted");

    private async Task<IActionResult> ChangeAsync(string name, ReleaseAdmin admin, Func<ReleaseAdmin, Task<FilesChangeResult>> change, string done)
    {
        if (RequireAdmin() is { } refusal)
        {
            return refusal;
        }

        var result = await change(admin);
        if (result.Changed is { } changed)
        {
            Notice = $"{string.Join(", ", changed.Files)}: {done}.";
        }
        else
        {
            Response.StatusCode = result.Status;
            Error = result.Problem;
        }

        return await ShowAsync(name);
    }

    private async Task<IActionResult> ShowAsync(string name)
    {
        if (!MayBrowse)
        {
            return SignInFirst();
        }

        var normalized = PackageName.Normalize(name);
        if (normalized != name && HttpMethods.IsGet(Request.Method))
        {
            return RedirectPermanent($"/project/{normalized}/");
        }

        Project = await catalog.GetAsync(Viewer, normalized, HttpContext.RequestAborted);
        if (Project is null || Project.Releases.Count == 0)
        {
            return NotFoundPage($"Project '{normalized}'");
        }

        Title = Project.Name;
        Current = Project.Releases.FirstOrDefault(r => !r.PreRelease && !r.Yanked) ?? Project.Releases[0];
        Info = await metadata.GetAsync(Project.Name, Current, HttpContext.RequestAborted);
        if (Viewer.Rights.Read(Project.Name).IsEverything)
        {
            Usage = await quotas.UsageAsync(Project.Name, HttpContext.RequestAborted);
        }

        Provenance = await provenance.ReadAsync(Project.Releases.SelectMany(r => r.Files).Select(f => f.Filename), HttpContext.RequestAborted);
        return Page();
    }
}
