using Builder.Core.Builds;
using Builder.Data;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Pages;

/// <summary>
/// A build: its parts and targets with state and duration, and its log as one folding section per step
/// (<see cref="BuildLogView"/>: failed and running steps open, succeeded ones folded; ANSI colours; <c>#L123</c>
/// permalinks). While the build runs, Ui/Assets/js/log.js follows it over the log's server-sent events from the last
/// chunk this page rendered, resuming with Last-Event-ID after a dropped connection.
/// </summary>
public sealed class BuildModel(BuilderDbContext db) : UiPage
{
    public Build? Build { get; private set; }

    public BuildLogView? Log { get; private set; }

    public IReadOnlyList<PackageFile> Files { get; private set; } = [];

    /// <summary>Logs longer than this render folded steps cut to their last <see cref="FoldedLines"/> lines, unless <c>?full=1</c>.</summary>
    public const int LargeLog = 10_000;

    public const int FoldedLines = 200;

    public bool Running => Build is { IsFinished: false };

    [BindProperty(SupportsGet = true)]
    public bool Full { get; set; }

    /// <summary>The line limit of folded steps on this page: none for ordinary logs and with <c>?full=1</c>.</summary>
    public int? FoldedLineLimit => !Full && Log!.LineCount > LargeLog ? FoldedLines : null;

    public string StateName => Build!.State.ToString().ToLowerInvariant();

    public async Task<IActionResult> OnGetAsync(long id)
    {
        if (!SignedIn)
        {
            return SignInFirst();
        }

        var build = await db.Builds.AsNoTracking().Include(b => b.Repository).Include(b => b.Targets).Include(b => b.Parts).AsSplitQuery()
            .SingleOrDefaultAsync(b => b.Id == id, HttpContext.RequestAborted);
        if (build is null || !Viewer.Rights.CanSeeBuild(build.Project, build.Version))
        {
            return NotFoundPage($"Build {id}");
        }

        Build = build;
        Title = $"Build #{id} · {build.Repository!.Name} {build.Tag}";
        var chunks = await db.BuildLogChunks.AsNoTracking().Where(c => c.BuildId == id).ToListAsync(HttpContext.RequestAborted);
        Log = BuildLogView.Create(chunks, build);
        Files = await db.Files.AsNoTracking().Where(f => f.BuildId == id && f.DeletedAt == null).OrderBy(f => f.Filename).ToListAsync(HttpContext.RequestAborted);
        return Page();
    }
}
