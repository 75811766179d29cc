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
/// made it, the build's tag, commit and images (by digest), and its files with their provenance and SBOMs
/// (<see cref="FileProvenanceReader"/>). Readable only where the project page is.
/// </summary>
public sealed class ReleaseModel(ProjectCatalog catalog, BuilderDbContext db, FileProvenanceReader provenance, UiAddress address) : UiPage
{
    public ProjectDetail? Project { get; private set; }

    public ReleaseDetail? Release { get; private set; }

    /// <summary>The provenance of the release's files, by file name (files without any are missing).</summary>
    public IReadOnlyDictionary<string, ProvenanceSummary> Provenance { get; private set; } = new Dictionary<string, ProvenanceSummary>();

    public Build? Build { get; private set; }

    /// <summary>The build images the release's parts ran in, each with the digests its parts found (none: built before Builder recorded them).</summary>
    public IReadOnlyList<BuildImage> Images { get; private set; } = [];

    public IReadOnlyList<string> Pythons { get; private set; } = [];

    public IReadOnlyList<string> Platforms { get; private set; } = [];

    public string IndexUrl => address.IndexUrl(Request);

    public async Task<IActionResult> OnGetAsync(string name, string version)
    {
        if (!MayBrowse)
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
        Provenance = await provenance.ReadAsync(Release.Files.Select(f => f.Filename), HttpContext.RequestAborted);
        if (Release.BuildId is { } buildId && Viewer.Rights.CanSeeBuild(Project.Name, Release.Version))
        {
            Build = await db.Builds.AsNoTracking().Include(b => b.Targets).Include(b => b.Parts).AsSplitQuery()
                .SingleOrDefaultAsync(b => b.Id == buildId, HttpContext.RequestAborted);
            Images = Build?.Parts.Where(p => p.Image is not null).GroupBy(p => (p.Architecture, Image: p.Image!))
                .Select(g => new BuildImage(g.Key.Architecture, g.Key.Image, g.Select(p => p.ImageDigest).OfType<string>().Distinct(StringComparer.Ordinal).ToList()))
                .ToList() ?? [];
        }

        return Page();
    }

    public IEnumerable<FileDetail> Cell(string python, string platform) =>
        Release!.Files.Where(f => f.Kind == "wheel" && f.PythonTag == python && f.PlatformTag == platform);

    /// <summary>The build page's log section of the step that made <paramref name="filename"/> (<c>/builds/7#s-x86_64-cp311-cp311-wheel</c>); null when unknown.</summary>
    public string? LogLink(string filename)
    {
        var target = Build?.Targets.FirstOrDefault(t => t.Files.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(filename, StringComparer.Ordinal));
        return target is not null && LogTargetFilter.SectionAnchor(target.Name, target.Architecture) is { } anchor ? $"/builds/{Build!.Id}#{anchor}" : null;
    }
}

/// <summary>A build image of a release's build on one architecture: its name and the content digests (<c>sha256:...</c>) its parts ran.</summary>
public sealed record BuildImage(string Architecture, string Name, IReadOnlyList<string> Digests);
