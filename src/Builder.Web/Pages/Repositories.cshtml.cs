using Builder.Access;
using Builder.Core.Forges;
using Builder.Data;
using Builder.Web.Api;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Pages;

/// <summary>
/// Repositories (admins): the registered ones, and registration through the same code as
/// <c>POST /api/repositories</c>; the webhook URL and secret of a new repository are shown once.
/// </summary>
public sealed class RepositoriesModel(BuilderDbContext db, RepositorySecrets secrets) : UiPage
{
    public IReadOnlyList<RepositoryResponse> Repositories { get; private set; } = [];

    public RepositoryResponse? Registered { get; private set; }

    public string? Error { get; private set; }

    [BindProperty]
    public RepositoryForm Form { get; set; } = new();

    public IReadOnlyList<string> Providers => ForgeProviders.All;

    public async Task<IActionResult> OnGetAsync() => RequireAdmin() ?? await ShowAsync();

    public async Task<IActionResult> OnPostRegisterAsync()
    {
        if (RequireAdmin() is { } refusal)
        {
            return refusal;
        }

        var request = new RegisterRepositoryRequest(
            Form.Provider,
            Form.Name?.Trim(),
            Form.CloneUrl?.Trim(),
            WebhookSecret: null,
            Credentials: string.IsNullOrWhiteSpace(Form.Token) ? null : new CredentialsRequest(string.IsNullOrWhiteSpace(Form.Username) ? "x-access-token" : Form.Username.Trim(), Form.Token.Trim()),
            ApiUrl: string.IsNullOrWhiteSpace(Form.ApiUrl) ? null : Form.ApiUrl.Trim(),
            Trigger: Form.Trigger);
        var services = HttpContext.RequestServices;
        var result = await RepositoryEndpoints.RegisterAsync(request, db, secrets, services.GetRequiredService<RepositoryAddresses>(), services.GetRequiredService<AuditLog>(), services.GetRequiredService<TimeProvider>(), HttpContext, HttpContext.RequestAborted);
        switch (result.Result)
        {
            case Created<RepositoryResponse> created:
                Registered = created.Value;
                Form = new RepositoryForm();
                break;
            case ProblemHttpResult problem:
                Error = problem.ProblemDetails.Detail;
                Response.StatusCode = problem.StatusCode;
                break;
        }

        return await ShowAsync();
    }

    private async Task<IActionResult> ShowAsync()
    {
        Title = "Repositories";
        var repositories = await db.Repositories.AsNoTracking().OrderBy(r => r.Name).ToListAsync(HttpContext.RequestAborted);
        Repositories = repositories.Select(r => RepositoryEndpoints.View(r, secrets, HttpContext)).ToList();
        return Page();
    }
}

/// <summary>The registration form's fields (a subset of the API's: the rest are changed with <c>PATCH /api/repositories/{id}</c>).</summary>
public sealed class RepositoryForm
{
    public string? Provider { get; set; } = "github";

    public string? Name { get; set; }

    public string? CloneUrl { get; set; }

    public string? ApiUrl { get; set; }

    public string? Username { get; set; }

    public string? Token { get; set; }

    public string? Trigger { get; set; } = "tag";
}
