using Builder.Core.Builds;
using Builder.Core.Packaging;
using Builder.Data;
using Builder.Web.Api;
using Builder.Web.Catalog;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Pages;

/// <summary>
/// A release: its files as a grid (Python × platform), each wheel linked to the log section of the build step that
/// made it, and the build's tag, commit and images. Readable only where the project page is.
/// </summary>
public sealed class ReleaseModel(ProjectCatalog catalog, BuilderDbContext db, UiAddress address) : UiPage
{
    public ProjectDetail? Project { get; private set; }

    public ReleaseDetail? Release { get; private set; }

    public Build? Build { get; private set; }

    public IReadOnlyList<string> Pythons { get; private set; } = [];

    public IReadOnlyList<string> Platforms { get; private set; } = [];

    public string IndexUrl => address.IndexUrl(Request);

    public async Task<IActionResult> OnGetAsync(string name, string version)
    {
        if (Viewer.IsAnonymous && !Viewer.Rights.Grants.Any())
        {
            return SignInFirst();
        }

        var normalized = PackageName.Normalize(name);
        Project = await catalog.GetAsync(Viewer, normalized, HttpContext.RequestAborted);
        Release = Project?.Releases.FirstOrDefault(r => Pep440Comparer.Instance.Compare(r.Version, version) == 0);
        if (Project is null || Release is null)
        {
            return NotFoundPage($"Release {normalized} {version}");
        }

        if (normalized != name || Release.Version != version)
        {
            return RedirectPermanent($"/project/{normalized}/{Release.Version}/");
        }

        Title = $"{Project.Name} {Release.Version}";
        var wheels = Release.Files.Where(f => f.Kind == "wheel").ToList();
        Pythons = wheels.Select(f => f.PythonTag!).Distinct().OrderBy(t => t, StringComparer.Ordinal).ToList();
        Platforms = wheels.Select(f => f.PlatformTag!).Distinct().OrderBy(t => t, StringComparer.Ordinal).ToList();
        if (Release.BuildId is { } buildId && Viewer.Rights.CanSeeBuild(Project.Name, Release.Version))
        {
            Build = await db.Builds.AsNoTracking().Include(b => b.Targets).Include(b => b.Parts).AsSplitQuery()
                .SingleOrDefaultAsync(b => b.Id == buildId, HttpContext.RequestAborted);
        }

        return Page();
    }

    public IEnumerable<FileDetail> Cell(string python, string platform) =>
        Release!.Files.Where(f => f.Kind == "wheel" && f.PythonTag == python && f.PlatformTag == platform);

    /// <summary>The build page's log section of the step that made <paramref name="filename"/> (<c>/builds/7#s-x86_64-cp311-cp311-wheel</c>); null when unknown.</summary>
    public string? LogLink(string filename)
    {
        var target = Build?.Targets.FirstOrDefault(t => t.Files.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(filename, StringComparer.Ordinal));
        if (target is null || !LogTargetFilter.TryParse(target.Name, out var filter) || filter.SectionKey(target.Architecture) is not { } key)
        {
            return null;
        }

        return $"/builds/{Build!.Id}#{LogLinePrefix.Slug(key)}";
    }
}
