using Builder.Access;
using Builder.Data;
using Builder.Web.Api;
using Builder.Web.Ui;
using Builder.Web.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Pages;

/// <summary>
/// A repository (admins): its settings without secrets, its webhook URL, the latest deliveries and what each did, and
/// a build of a tag through the same code as <c>POST /api/repositories/{id}/builds</c>.
/// </summary>
public sealed class RepositoryModel(BuilderDbContext db, RepositorySecrets secrets) : UiPage
{
    private const int Deliveries = 50;

    public RepositoryResponse? Repository { get; private set; }

    public IReadOnlyList<DeliveryResponse> RecentDeliveries { get; private set; } = [];

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(long id) => RequireAdmin() ?? await ShowAsync(id);

    public async Task<IActionResult> OnPostBuildAsync(long id, string? tag)
    {
        if (RequireAdmin() is { } refusal)
        {
            return refusal;
        }

        var services = HttpContext.RequestServices;
        var result = await RepositoryEndpoints.TriggerAsync(id, new TriggerBuildRequest(tag), db, services.GetRequiredService<TagBuilds>(),
            services.GetRequiredService<AuditLog>(), services.GetRequiredService<TimeProvider>(), HttpContext, HttpContext.RequestAborted);
        switch (result.Result)
        {
            case Accepted<TriggeredBuild> accepted:
                return LocalRedirect($"/builds/{accepted.Value!.Id}");
            case ProblemHttpResult problem:
                Error = problem.ProblemDetails.Detail;
                Response.StatusCode = problem.StatusCode;
                break;
        }

        return await ShowAsync(id);
    }

    private async Task<IActionResult> ShowAsync(long id)
    {
        var repository = await db.Repositories.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, HttpContext.RequestAborted);
        if (repository is null)
        {
            return NotFoundPage($"Repository {id}");
        }

        Repository = RepositoryEndpoints.View(repository, secrets, HttpContext);
        Title = repository.Name;
        if ((await RepositoryEndpoints.DeliveriesAsync(id, Deliveries, db, HttpContext.RequestAborted)).Result is Ok<List<DeliveryResponse>> deliveries)
        {
            RecentDeliveries = deliveries.Value!;
        }

        return Page();
    }
}
