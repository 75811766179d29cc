using Builder.Core.Access;
using Builder.Data;
using Builder.Web.Access;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;

namespace Builder.Web.Pages;

/// <summary>The audit log (admins), newest first, with the filters of <c>GET /api/audit</c> (<see cref="AuditQuery"/>).</summary>
public sealed class AuditModel(BuilderDbContext db) : UiPage
{
    private const int PageSize = 100;

    [BindProperty(SupportsGet = true)]
    public string? Principal { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Project { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Action { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateTimeOffset? Since { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateTimeOffset? Until { get; set; }

    [BindProperty(SupportsGet = true)]
    public long? Before { get; set; }

    public IReadOnlyList<AuditEvent> Events { get; private set; } = [];

    public string? OlderUrl { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (RequireAdmin() is { } refusal)
        {
            return refusal;
        }

        Title = "Audit log";
        var (events, next) = await AuditQuery.ReadAsync(db, new AuditFilter(Principal, Project, Action, Since, Until, Before), PageSize, HttpContext.RequestAborted);
        Events = events;
        if (next is { } older)
        {
            var query = System.Web.HttpUtility.ParseQueryString(Request.QueryString.Value ?? string.Empty);
            query["before"] = older.ToString(System.Globalization.CultureInfo.InvariantCulture);
            OlderUrl = "/audit?" + query;
        }

        return Page();
    }
}
