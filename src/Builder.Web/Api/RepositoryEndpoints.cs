using System.Text.Json;
using System.Text.Json.Nodes;
using Builder.Access;
using Builder.Core.Access;
using Builder.Core.Builds;
using Builder.Core.Webhooks;
using Builder.Data;
using Builder.Web.Access;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Api;

public sealed record CredentialsRequest(string? Username, string? Token);

public sealed record RegisterRepositoryRequest(
    string? Provider,
    string? Name,
    string? CloneUrl,
    string? WebhookSecret,
    CredentialsRequest? Credentials = null,
    IReadOnlyList<string>? RelayProjects = null);

/// <summary>A repository as the API shows it: no secret, only whether clone credentials are set.</summary>
public sealed record RepositoryResponse(
    long Id,
    string Provider,
    string Name,
    string CloneUrl,
    bool HasCredentials,
    IReadOnlyList<string>? RelayProjects,
    string WebhookUrl,
    DateTimeOffset CreatedAt,
    DateTimeOffset? UpdatedAt,
    string? WebhookSecret = null);

/// <summary>
/// Registering and changing repositories (admin). Secrets are write-only: the webhook secret is shown once, when it
/// is made (registration, rotation); clone credentials never. A clone URL given with user info has it moved into the
/// encrypted credentials, so no URL that is stored, shown or logged carries a secret.
/// </summary>
internal static class RepositoryEndpoints
{
    public const string Repositories = "/api/repositories";

    private static readonly string[] Providers = ["github", "gitlab"];
    private static readonly string[] CloneSchemes = ["https", "http", "file"];

    public static void MapRepositoryApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Repositories).AddEndpointFilter<RequireAdmin>();
        group.MapPost("/", RegisterAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:long}", GetAsync);
        group.MapMethods("/{id:long}", ["PATCH"], ChangeAsync);
    }

    private static async Task<Results<Created<RepositoryResponse>, ProblemHttpResult>> RegisterAsync(
        RegisterRepositoryRequest? body, BuilderDbContext db, RepositorySecrets secrets, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken cancellationToken)
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

        if (CloneUrlProblem(body.CloneUrl) is { } urlProblem)
        {
            return Problem(StatusCodes.Status400BadRequest, urlProblem);
        }

        if (body.WebhookSecret is { } given && given.Length < 16)
        {
            return Problem(StatusCodes.Status400BadRequest, "'webhookSecret' must be at least 16 characters long (or leave it out to have one generated)");
        }

        if (CredentialsProblem(body.Credentials) is { } credentialsProblem)
        {
            return Problem(StatusCodes.Status400BadRequest, credentialsProblem);
        }

        if (!ProjectGlobs.TryParse(body.RelayProjects, out var relayProjects, out var globProblem))
        {
            return Problem(StatusCodes.Status400BadRequest, "'relayProjects': " + globProblem);
        }

        if (await db.Repositories.AnyAsync(r => r.Name == name, cancellationToken))
        {
            return Problem(StatusCodes.Status409Conflict, $"repository '{name}' is already registered");
        }

        var (cloneUrl, urlCredentials) = RepositorySecrets.SplitCloneUrl(body.CloneUrl!.Trim());
        var credentials = body.Credentials is { } c ? new CloneCredentials(c.Username!, c.Token!) : urlCredentials;
        var secret = body.WebhookSecret ?? WebhookSignature.NewSecret();
        var repository = new SourceRepository
        {
            Provider = provider,
            Name = name,
            CloneUrl = cloneUrl,
            RelayProjects = relayProjects.ToStored(),
            CreatedAt = time.GetUtcNow(),
        };
        secrets.SetWebhookSecret(repository, secret);
        secrets.SetCredentials(repository, credentials);
        db.Repositories.Add(repository);
        audit.Add(db, http.Actor(), AuditActions.RepositoryRegistered, AuditOutcomes.Ok, target: "repository:" + name,
            detail: $"{provider} {name} from {cloneUrl}{(credentials is null ? string.Empty : " with clone credentials")}; relay reads {relayProjects}");
        await db.SaveChangesAsync(cancellationToken);

        return TypedResults.Created($"{Repositories}/{repository.Id}", View(repository, http) with { WebhookSecret = secret });
    }

    private static async Task<Ok<List<RepositoryResponse>>> ListAsync(BuilderDbContext db, HttpContext http, CancellationToken cancellationToken)
    {
        var repositories = await db.Repositories.AsNoTracking().OrderBy(r => r.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(repositories.Select(r => View(r, http)).ToList());
    }

    private static async Task<Results<Ok<RepositoryResponse>, ProblemHttpResult>> GetAsync(long id, BuilderDbContext db, HttpContext http, CancellationToken cancellationToken)
    {
        var repository = await db.Repositories.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        return repository is null ? Problem(StatusCodes.Status404NotFound, $"no repository {id}") : TypedResults.Ok(View(repository, http));
    }

    /// <summary>
    /// Changes what the body names: <c>cloneUrl</c>, <c>credentials</c> (an object, or null to remove them),
    /// <c>relayProjects</c> (globs, or null for every project), <c>webhookSecret</c> (a new one) or
    /// <c>rotateWebhookSecret: true</c> (a generated one, shown in the answer once).
    /// </summary>
    private static async Task<Results<Ok<RepositoryResponse>, ProblemHttpResult>> ChangeAsync(
        long id, HttpRequest request, BuilderDbContext db, RepositorySecrets secrets, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject;
        }
        catch (JsonException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, $"the body is not valid JSON: {ex.Message}");
        }

        if (body is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "the body must be a JSON object naming what to change: cloneUrl, credentials, relayProjects, webhookSecret, rotateWebhookSecret");
        }

        var repository = await db.Repositories.SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (repository is null)
        {
            return Problem(StatusCodes.Status404NotFound, $"no repository {id}");
        }

        var changed = new List<string>();
        string? newSecret = null;
        try
        {
            foreach (var (key, value) in body)
            {
                switch (key)
                {
                    case "cloneUrl":
                        var url = value?.GetValue<string>();
                        if (CloneUrlProblem(url) is { } urlProblem)
                        {
                            return Problem(StatusCodes.Status400BadRequest, urlProblem);
                        }

                        var (bare, urlCredentials) = RepositorySecrets.SplitCloneUrl(url!.Trim());
                        repository.CloneUrl = bare;
                        changed.Add("clone URL " + bare);
                        if (urlCredentials is not null)
                        {
                            secrets.SetCredentials(repository, urlCredentials);
                            changed.Add("clone credentials");
                        }

                        break;
                    case "credentials":
                        var credentials = value?.Deserialize<CredentialsRequest>(JsonSerializerOptions.Web);
                        if (credentials is not null && CredentialsProblem(credentials) is { } credentialsProblem)
                        {
                            return Problem(StatusCodes.Status400BadRequest, credentialsProblem);
                        }

                        secrets.SetCredentials(repository, credentials is null ? null : new CloneCredentials(credentials.Username!, credentials.Token!));
                        changed.Add(credentials is null ? "clone credentials removed" : "clone credentials");
                        break;
                    case "relayProjects":
                        var globs = value?.Deserialize<List<string>>();
                        if (!ProjectGlobs.TryParse(globs, out var relayProjects, out var globProblem))
                        {
                            return Problem(StatusCodes.Status400BadRequest, "'relayProjects': " + globProblem);
                        }

                        repository.RelayProjects = relayProjects.ToStored();
                        changed.Add("relay reads " + relayProjects);
                        break;
                    case "webhookSecret":
                        var secret = value?.GetValue<string>();
                        if (secret is not { Length: >= 16 })
                        {
                            return Problem(StatusCodes.Status400BadRequest, "'webhookSecret' must be at least 16 characters long");
                        }

                        secrets.SetWebhookSecret(repository, secret);
                        changed.Add("webhook secret");
                        break;
                    case "rotateWebhookSecret":
                        if (value?.GetValue<bool>() == true)
                        {
                            newSecret = WebhookSignature.NewSecret();
                            secrets.SetWebhookSecret(repository, newSecret);
                            changed.Add("webhook secret rotated");
                        }

                        break;
                    default:
                        return Problem(StatusCodes.Status400BadRequest, $"'{key}' cannot be changed; a repository's changeable fields are cloneUrl, credentials, relayProjects, webhookSecret and rotateWebhookSecret");
                }
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or JsonException)
        {
            return Problem(StatusCodes.Status400BadRequest, $"a field has the wrong type: {ex.Message}");
        }

        if (changed.Count > 0)
        {
            repository.UpdatedAt = time.GetUtcNow();
            audit.Add(db, request.HttpContext.Actor(), AuditActions.RepositoryChanged, AuditOutcomes.Ok, target: "repository:" + repository.Name, detail: string.Join(", ", changed));
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Ok(View(repository, request.HttpContext) with { WebhookSecret = newSecret });
    }

    private static RepositoryResponse View(SourceRepository r, HttpContext http) => new(
        r.Id,
        r.Provider,
        r.Name,
        r.CloneUrl,
        r.ProtectedCredentials is not null,
        ProjectGlobs.FromStored(r.RelayProjects) is { IsAll: false } globs ? globs.Patterns : null,
        WebhookUrl(http, r.Provider),
        r.CreatedAt,
        r.UpdatedAt);

    private static string? CloneUrlProblem(string? url) =>
        Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var cloneUrl) && CloneSchemes.Contains(cloneUrl.Scheme)
            ? null
            : "'cloneUrl' must be an absolute https://, http:// or file:// URL (SSH is not supported: use HTTPS with 'credentials')";

    private static string? CredentialsProblem(CredentialsRequest? credentials) =>
        credentials is null || (!string.IsNullOrWhiteSpace(credentials.Username) && !string.IsNullOrEmpty(credentials.Token))
            ? null
            : "'credentials' needs 'username' and 'token' (for GitHub: username 'x-access-token' and a token that can read the repository)";

    private static string WebhookUrl(HttpContext http, string provider) =>
        $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/webhooks/{provider}";

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(statusCode: status, detail: detail);
}
