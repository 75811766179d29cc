using Builder.Core.Builds;
using Builder.Core.Webhooks;
using Builder.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Api;

public sealed record RegisterRepositoryRequest(string? Provider, string? Name, string? CloneUrl, string? WebhookSecret);

public sealed record RepositoryResponse(long Id, string Provider, string Name, string CloneUrl, string WebhookUrl, DateTimeOffset CreatedAt);

public sealed record RegisteredRepositoryResponse(long Id, string Provider, string Name, string CloneUrl, string WebhookUrl, string WebhookSecret);

internal static class RepositoryEndpoints
{
    public const string Repositories = "/api/repositories";

    private static readonly string[] Providers = ["github", "gitlab"];
    private static readonly string[] CloneSchemes = ["https", "http", "file"];

    public static void MapRepositoryApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Repositories).AddEndpointFilter<AdminAuthorization>();
        group.MapPost("/", RegisterAsync);
        group.MapGet("/", ListAsync);
    }

    private static async Task<Results<Created<RegisteredRepositoryResponse>, ProblemHttpResult>> RegisterAsync(
        RegisterRepositoryRequest? body, BuilderDbContext db, TimeProvider time, HttpContext http, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "the body must be JSON: {\"provider\":\"github\",\"name\":\"owner/repo\",\"cloneUrl\":\"https://...\"}");
        }

        var provider = body.Provider?.Trim().ToLowerInvariant();
        if (provider is null || !Providers.Contains(provider))
        {
            return Problem(StatusCodes.Status400BadRequest, $"'provider' must be one of: {string.Join(", ", Providers)}");
        }

        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name) || !name.Contains('/', StringComparison.Ordinal) || name.StartsWith('/') || name.EndsWith('/') || name.Any(char.IsWhiteSpace))
        {
            return Problem(StatusCodes.Status400BadRequest, "'name' must be the repository's full name on its host, like 'acme/billing'");
        }

        if (!Uri.TryCreate(body.CloneUrl?.Trim(), UriKind.Absolute, out var cloneUrl) || !CloneSchemes.Contains(cloneUrl.Scheme))
        {
            return Problem(StatusCodes.Status400BadRequest, "'cloneUrl' must be an absolute https://, http:// or file:// URL (SSH is not supported: use HTTPS with a token)");
        }

        if (body.WebhookSecret is { } given && given.Length < 16)
        {
            return Problem(StatusCodes.Status400BadRequest, "'webhookSecret' must be at least 16 characters long (or leave it out to have one generated)");
        }

        if (await db.Repositories.AnyAsync(r => r.Name == name, cancellationToken))
        {
            return Problem(StatusCodes.Status409Conflict, $"repository '{name}' is already registered");
        }

        var repository = new SourceRepository
        {
            Provider = provider,
            Name = name,
            CloneUrl = body.CloneUrl!.Trim(),
            WebhookSecret = body.WebhookSecret ?? WebhookSignature.NewSecret(),
            CreatedAt = time.GetUtcNow(),
        };
        db.Repositories.Add(repository);
        await db.SaveChangesAsync(cancellationToken);

        var response = new RegisteredRepositoryResponse(repository.Id, repository.Provider, repository.Name, repository.CloneUrl,
            WebhookUrl(http, provider), repository.WebhookSecret);
        return TypedResults.Created($"{Repositories}/{repository.Id}", response);
    }

    private static async Task<Ok<List<RepositoryResponse>>> ListAsync(BuilderDbContext db, HttpContext http, CancellationToken cancellationToken)
    {
        var repositories = await db.Repositories.OrderBy(r => r.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(repositories
            .Select(r => new RepositoryResponse(r.Id, r.Provider, r.Name, r.CloneUrl, WebhookUrl(http, r.Provider), r.CreatedAt))
            .ToList());
    }

    private static string WebhookUrl(HttpContext http, string provider) =>
        $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/webhooks/{provider}";

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(statusCode: status, detail: detail);
}
