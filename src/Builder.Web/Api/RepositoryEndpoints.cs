using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Builder.Access;
using Builder.Core;
using Builder.Core.Access;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Builder.Core.Packaging;
using Builder.Core.Webhooks;
using Builder.Data;
using Builder.Forges;
using Builder.Web.Access;
using Builder.Web.Http;
using Builder.Web.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Api;

/// <summary>A GitHub App's credentials: the installation is optional (the webhook deliveries of the App name it).</summary>
public sealed record GitHubAppRequest(long? AppId, long? InstallationId, string? PrivateKey);

/// <summary>Either <c>username</c> and <c>token</c>, or <c>githubApp</c>.</summary>
public sealed record CredentialsRequest(string? Username, string? Token, GitHubAppRequest? GitHubApp = null);

public sealed record RegisterRepositoryRequest(
    string? Provider,
    string? Name,
    string? CloneUrl,
    string? WebhookSecret,
    CredentialsRequest? Credentials = null,
    IReadOnlyList<string>? RelayProjects = null,
    string? ApiUrl = null,
    bool? ReportStatus = null,
    bool? ReleaseAssets = null,
    string? Trigger = null);

/// <summary>A repository as the API shows it: no secret, only whether clone credentials are set.</summary>
/// <param name="CredentialsKind">What kind of credentials are set (<c>token</c>, <c>githubApp</c>), never their values; null: none.</param>
/// <param name="Deliveries">
/// Its latest deliveries, newest first (<c>GET /api/repositories/{id}</c> only: the other routes leave the field out).
/// </param>
public sealed record RepositoryResponse(
    long Id,
    string Provider,
    string Instance,
    string Name,
    string CloneUrl,
    string ApiUrl,
    bool HasCredentials,
    string? CredentialsKind,
    bool ReportStatus,
    bool ReleaseAssets,
    string Trigger,
    long? InstallationId,
    IReadOnlyList<string>? RelayProjects,
    string WebhookUrl,
    DateTimeOffset CreatedAt,
    DateTimeOffset? UpdatedAt,
    string? WebhookSecret = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<DeliveryResponse>? Deliveries = null);

public sealed record TriggerBuildRequest(string? Tag);

/// <param name="Created">false: the tag's commit already has a build (this is it).</param>
public sealed record TriggeredBuild(long Id, string Url, bool Created, string Commit);

public sealed record DeliveryResponse(
    long Id, string Provider, string Event, string? DeliveryId, string? IdempotencyKey, string? Tag, string? Commit,
    string Outcome, long? BuildId, string? Detail, DateTimeOffset ReceivedAt)
{
    public static DeliveryResponse From(WebhookDelivery d) =>
        new(d.Id, d.Provider, d.Event, d.DeliveryId, d.IdempotencyKey, d.Tag, d.CommitSha, d.Outcome, d.BuildId, d.Detail, d.ReceivedAt);
}

/// <summary>
/// Registering and changing repositories (admin). Secrets are write-only: the webhook secret is shown once, when it
/// is made (registration, rotation); clone credentials never. A clone URL given with user info has it moved into the
/// encrypted credentials, so no URL that is stored, shown or logged carries a secret.
/// </summary>
internal static class RepositoryEndpoints
{
    public const string Repositories = "/api/repositories";

    /// <summary>How many of its latest deliveries <c>GET /api/repositories/{id}</c> shows.</summary>
    public const int RecentDeliveries = 20;

    private static readonly string[] CloneSchemes = ["https", "http", "file"];

    // What a client may send (the name's limit is its column's; the others are far above any real value).
    private const int MaxName = 512;
    private const int MaxWebhookSecret = 1024;
    private const int MaxUserName = 256;
    private const int MaxToken = 4096;
    private const int MaxPrivateKey = 16384;

    public static void MapRepositoryApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Repositories).AddEndpointFilter<RequireAdmin>();
        group.MapPost("/", RegisterAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:long}", GetAsync);
        group.MapMethods("/{id:long}", ["PATCH"], ChangeAsync);
        group.MapPost("/{id:long}/builds", TriggerAsync);
        group.MapGet("/{id:long}/deliveries", DeliveriesAsync);
    }

    /// <summary>
    /// Builds a tag without a webhook (a forge sends none when more than three tags are pushed at once): the tag is
    /// resolved on the repository with its credentials, and its commit builds once, as a push of it would.
    /// </summary>
    internal static async Task<Results<Accepted<TriggeredBuild>, ProblemHttpResult>> TriggerAsync(
        long id, TriggerBuildRequest? body, BuilderDbContext db, TagBuilds tagBuilds, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken cancellationToken)
    {
        var tag = body?.Tag?.Trim();
        if (string.IsNullOrEmpty(tag) || tag.StartsWith("refs/", StringComparison.Ordinal) || tag.Any(char.IsWhiteSpace))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "the body must be JSON naming the tag to build: {\"tag\": \"v1.4.0\"} (the tag's name, not refs/tags/...)");
        }

        if (TagVersion.Refusal(tag, out _) is { } refusal)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, refusal);
        }

        var repository = await db.Repositories.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (repository is null)
        {
            return Problems.Of(StatusCodes.Status404NotFound, $"no repository {id}");
        }

        ResolvedTag? resolved;
        try
        {
            resolved = await tagBuilds.ResolveAsync(repository, tag, cancellationToken);
        }
        catch (BuildStepException ex)
        {
            return Problems.Of(StatusCodes.Status502BadGateway, $"the tags of '{repository.Name}' could not be read: {ex.Message}");
        }

        if (resolved is null)
        {
            return Problems.Of(StatusCodes.Status404NotFound, $"'{repository.Name}' has no tag '{tag}' (push it first)");
        }

        var build = await tagBuilds.QueueAsync(repository, tag, resolved.CommitSha, deliveryId: null, cancellationToken);
        db.WebhookDeliveries.Add(new WebhookDelivery
        {
            RepositoryId = repository.Id,
            Provider = "manual",
            Event = "build",
            RepositoryName = repository.Name,
            Tag = tag,
            CommitSha = resolved.CommitSha,
            BuildId = build.BuildId,
            Outcome = build.Outcome,
            Detail = build.Detail + $" (asked by {http.Actor().Principal})",
            ReceivedAt = time.GetUtcNow(),
        });
        audit.Add(db, http.Actor(), AuditActions.BuildTriggered, AuditOutcomes.Ok, target: "repository:" + repository.Name,
            detail: $"tag {tag} at {resolved.CommitSha}: {(build.Created ? "queued" : "already built by")} build {build.BuildId}");
        await db.SaveChangesAsync(cancellationToken);

        var url = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{PublicRoutes.Build(build.BuildId)}";
        return TypedResults.Accepted(url, new TriggeredBuild(build.BuildId, url, build.Created, resolved.CommitSha));
    }

    /// <summary>The repository's latest webhook deliveries (and manual triggers), newest first, with what each did.</summary>
    internal static async Task<Results<Ok<List<DeliveryResponse>>, ProblemHttpResult>> DeliveriesAsync(
        long id, int? limit, BuilderDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Repositories.AnyAsync(r => r.Id == id, cancellationToken))
        {
            return Problems.Of(StatusCodes.Status404NotFound, $"no repository {id}");
        }

        return TypedResults.Ok(await ReadDeliveriesAsync(id, Math.Clamp(limit ?? 50, 1, 500), db, cancellationToken));
    }

    /// <summary>The repository's <paramref name="limit"/> latest deliveries, newest first.</summary>
    private static async Task<List<DeliveryResponse>> ReadDeliveriesAsync(long id, int limit, BuilderDbContext db, CancellationToken cancellationToken)
    {
        var deliveries = await db.WebhookDeliveries.AsNoTracking().Where(d => d.RepositoryId == id).OrderByDescending(d => d.Id)
            .Take(limit).ToListAsync(cancellationToken);
        return deliveries.Select(DeliveryResponse.From).ToList();
    }

    internal static async Task<Results<Created<RepositoryResponse>, ProblemHttpResult>> RegisterAsync(
        RegisterRepositoryRequest? body,
        BuilderDbContext db,
        RepositorySecrets secrets,
        RepositoryAddresses addresses,
        AuditLog audit,
        TimeProvider time,
        HttpContext http,
        CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "the body must be JSON: {\"provider\":\"github\",\"name\":\"owner/repo\",\"cloneUrl\":\"https://...\"}");
        }

        var provider = body.Provider?.Trim().ToLowerInvariant();
        if (provider is null || !ForgeProviders.IsKnown(provider))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, $"'provider' must be one of: {string.Join(", ", ForgeProviders.All)}");
        }

        var name = body.Name?.Trim();
        if (StoredText.Problem("name", name, MaxName) is { } nameProblem)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, nameProblem);
        }

        if (string.IsNullOrEmpty(name) || !name.Contains('/', StringComparison.Ordinal) || name.StartsWith('/') || name.EndsWith('/') || name.Any(char.IsWhiteSpace))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "'name' must be the repository's full name on its host, like 'acme/billing'");
        }

        if (await CloneUrlProblemAsync(body.CloneUrl, addresses, cancellationToken) is { } urlProblem)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, urlProblem);
        }

        if (body.WebhookSecret is { } givenSecret && WebhookSecretProblem(givenSecret) is { } secretProblem)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, secretProblem + " (or leave it out to have one generated)");
        }

        if (ReadCredentials(body.Credentials, provider, out var given) is { } credentialsProblem)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, credentialsProblem);
        }

        if (!ProjectGlobs.TryParse(body.RelayProjects, out var relayProjects, out var globProblem))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "'relayProjects': " + globProblem);
        }

        if ((await ApiUrlProblemAsync(body.ApiUrl, addresses, cancellationToken) ?? TriggerProblem(body.Trigger, provider)) is { } settingProblem)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, settingProblem);
        }

        var (cloneUrl, urlCredentials) = RepositorySecrets.SplitCloneUrl(body.CloneUrl!.Trim());
        var apiUrl = string.IsNullOrWhiteSpace(body.ApiUrl) ? null : body.ApiUrl.Trim();
        if (provider == ForgeProviders.Gitea && apiUrl is null && !cloneUrl.StartsWith("http", StringComparison.Ordinal))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "a Gitea repository needs an 'apiUrl' (https://gitea.example/api/v1) when its 'cloneUrl' is not http(s)");
        }

        var instance = ForgeAddress.Instance(provider, cloneUrl, apiUrl);
        if (await db.Repositories.AnyAsync(r => r.Provider == provider && r.Instance == instance && r.Name == name, cancellationToken))
        {
            return Problems.Of(StatusCodes.Status409Conflict, $"repository '{name}' on {provider} at {instance} is already registered");
        }

        var credentials = given ?? urlCredentials;
        var secret = body.WebhookSecret ?? WebhookSignature.NewSecret();
        var repository = new SourceRepository
        {
            Provider = provider,
            Instance = instance,
            Name = name,
            CloneUrl = cloneUrl,
            ApiUrl = apiUrl,
            ReportStatus = body.ReportStatus ?? credentials is not null,
            ReleaseAssets = body.ReleaseAssets ?? false,
            Trigger = body.Trigger?.Trim().ToLowerInvariant() ?? RepositoryTriggers.Tag,
            RelayProjects = relayProjects.ToStored(),
            CreatedAt = time.GetUtcNow(),
        };
        secrets.SetWebhookSecret(repository, secret);
        secrets.SetCredentials(repository, credentials);
        db.Repositories.Add(repository);
        audit.Add(db, http.Actor(), AuditActions.RepositoryRegistered, AuditOutcomes.Ok, target: "repository:" + name,
            detail: $"{provider} {name} at {instance} from {cloneUrl}{(credentials is null ? string.Empty : " with " + CredentialsKind(credentials))}; relay reads {relayProjects}; "
                + $"trigger {repository.Trigger}, statuses {(repository.ReportStatus ? "on" : "off")}, release assets {(repository.ReleaseAssets ? "on" : "off")}");
        await db.SaveChangesAsync(cancellationToken);

        return TypedResults.Created($"{Repositories}/{repository.Id}", View(repository, secrets, http) with { WebhookSecret = secret });
    }

    private static async Task<Ok<List<RepositoryResponse>>> ListAsync(BuilderDbContext db, IRepositorySecrets secrets, HttpContext http, CancellationToken cancellationToken)
    {
        var repositories = await db.Repositories.AsNoTracking().OrderBy(r => r.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(repositories.Select(r => View(r, secrets, http)).ToList());
    }

    /// <summary>The repository, with its <see cref="RecentDeliveries"/> latest deliveries (as <c>.../deliveries</c> lists them).</summary>
    private static async Task<Results<Ok<RepositoryResponse>, ProblemHttpResult>> GetAsync(long id, BuilderDbContext db, IRepositorySecrets secrets, HttpContext http, CancellationToken cancellationToken)
    {
        var repository = await db.Repositories.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (repository is null)
        {
            return Problems.Of(StatusCodes.Status404NotFound, $"no repository {id}");
        }

        return TypedResults.Ok(View(repository, secrets, http) with { Deliveries = await ReadDeliveriesAsync(id, RecentDeliveries, db, cancellationToken) });
    }

    /// <summary>
    /// Changes what the body names: <c>cloneUrl</c>, <c>credentials</c> (an object, or null to remove them),
    /// <c>relayProjects</c> (globs, or null for every project), <c>webhookSecret</c> (a new one) or
    /// <c>rotateWebhookSecret: true</c> (a generated one, shown in the answer once).
    /// </summary>
    private static async Task<Results<Ok<RepositoryResponse>, ProblemHttpResult>> ChangeAsync(
        long id, HttpRequest request, BuilderDbContext db, RepositorySecrets secrets, RepositoryAddresses addresses, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }, cancellationToken: cancellationToken) as JsonObject;
        }
        catch (JsonException ex)
        {
            return Problems.BadRequest(BadRequestHandler.Describe(ex, type: null));
        }

        if (body is null)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, $"the body must be a JSON object naming what to change: {ChangeableFields}");
        }

        var repository = await db.Repositories.SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (repository is null)
        {
            return Problems.Of(StatusCodes.Status404NotFound, $"no repository {id}");
        }

        var changed = new List<string>();
        string? newSecret = null;
        var key = string.Empty;
        try
        {
            foreach (var (field, value) in body)
            {
                key = field;
                switch (key)
                {
                    case "cloneUrl":
                        var url = value?.GetValue<string>();
                        if (await CloneUrlProblemAsync(url, addresses, cancellationToken) is { } urlProblem)
                        {
                            return Problems.Of(StatusCodes.Status400BadRequest, urlProblem);
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
                        var given = value?.Deserialize<CredentialsRequest>(JsonSerializerOptions.Web);
                        if (ReadCredentials(given, repository.Provider, out var credentials) is { } credentialsProblem)
                        {
                            return Problems.Of(StatusCodes.Status400BadRequest, credentialsProblem);
                        }

                        secrets.SetCredentials(repository, credentials);
                        changed.Add(credentials is null ? "clone credentials removed" : CredentialsKind(credentials));
                        break;
                    case "apiUrl":
                        var api = value?.GetValue<string>();
                        if (await ApiUrlProblemAsync(api, addresses, cancellationToken) is { } apiProblem)
                        {
                            return Problems.Of(StatusCodes.Status400BadRequest, apiProblem);
                        }

                        repository.ApiUrl = string.IsNullOrWhiteSpace(api) ? null : api.Trim();
                        changed.Add("API URL " + (repository.ApiUrl ?? "default"));
                        break;
                    case "reportStatus":
                        repository.ReportStatus = value?.GetValue<bool>() ?? throw new FormatException("'reportStatus' must be true or false");
                        changed.Add("statuses " + (repository.ReportStatus ? "on" : "off"));
                        break;
                    case "releaseAssets":
                        repository.ReleaseAssets = value?.GetValue<bool>() ?? throw new FormatException("'releaseAssets' must be true or false");
                        changed.Add("release assets " + (repository.ReleaseAssets ? "on" : "off"));
                        break;
                    case "trigger":
                        // Null is no trigger (registration's "the default" does not apply to a change).
                        var trigger = value?.GetValue<string>() ?? string.Empty;
                        if (TriggerProblem(trigger, repository.Provider) is { } triggerProblem)
                        {
                            return Problems.Of(StatusCodes.Status400BadRequest, triggerProblem);
                        }

                        repository.Trigger = trigger.Trim().ToLowerInvariant();
                        changed.Add("trigger " + repository.Trigger);
                        break;
                    case "relayProjects":
                        var globs = value?.Deserialize<List<string>>();
                        if (!ProjectGlobs.TryParse(globs, out var relayProjects, out var globProblem))
                        {
                            return Problems.Of(StatusCodes.Status400BadRequest, "'relayProjects': " + globProblem);
                        }

                        repository.RelayProjects = relayProjects.ToStored();
                        changed.Add("relay reads " + relayProjects);
                        break;
                    case "webhookSecret":
                        var secret = value?.GetValue<string>();
                        if (WebhookSecretProblem(secret) is { } secretProblem)
                        {
                            return Problems.Of(StatusCodes.Status400BadRequest, secretProblem);
                        }

                        secrets.SetWebhookSecret(repository, secret!);
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
                        return Problems.Of(StatusCodes.Status400BadRequest, $"'{key}' cannot be changed; a repository's changeable fields are {ChangeableFields}");
                }
            }
        }
        catch (JsonException ex)
        {
            // Deserialize: 'credentials' and 'relayProjects' are read as these.
            return Problems.BadRequest(BadRequestHandler.Describe(ex, key == "credentials" ? typeof(CredentialsRequest) : typeof(List<string>), within: key));
        }
        catch (FormatException ex)
        {
            return Problems.BadRequest(ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            // JsonNode.GetValue<T> on a value of another JSON type.
            return Problems.BadRequest($"'{key}' has the wrong type: {ex.Message}");
        }

        var instance = ForgeAddress.Instance(repository.Provider, repository.CloneUrl, repository.ApiUrl);
        if (instance != repository.Instance)
        {
            if (await db.Repositories.AnyAsync(r => r.Id != repository.Id && r.Provider == repository.Provider && r.Instance == instance && r.Name == repository.Name, cancellationToken))
            {
                return Problems.Of(StatusCodes.Status409Conflict, $"repository '{repository.Name}' on {repository.Provider} at {instance} is already registered");
            }

            repository.Instance = instance;
        }

        if (changed.Count > 0)
        {
            repository.UpdatedAt = time.GetUtcNow();
            audit.Add(db, request.HttpContext.Actor(), AuditActions.RepositoryChanged, AuditOutcomes.Ok, target: "repository:" + repository.Name, detail: string.Join(", ", changed));
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Ok(View(repository, secrets, request.HttpContext) with { WebhookSecret = newSecret });
    }

    private const string ChangeableFields = "cloneUrl, apiUrl, credentials, reportStatus, releaseAssets, trigger, relayProjects, webhookSecret and rotateWebhookSecret";

    internal static RepositoryResponse View(SourceRepository r, IRepositorySecrets secrets, HttpContext http) => new(
        r.Id,
        r.Provider,
        r.Instance,
        r.Name,
        r.CloneUrl,
        ForgeAddress.ApiUrl(r.Provider, r.CloneUrl, r.ApiUrl).AbsoluteUri,
        r.ProtectedCredentials is not null,
        r.ProtectedCredentials is null ? null : CredentialsKindOrUnreadable(r, secrets),
        r.ReportStatus,
        r.ReleaseAssets,
        r.Trigger,
        r.GitHubInstallationId,
        ProjectGlobs.FromStored(r.RelayProjects) is { IsAll: false } globs ? globs.Patterns : null,
        WebhookUrl(http, r.Provider),
        r.CreatedAt,
        r.UpdatedAt);

    private static string CredentialsKindOrUnreadable(SourceRepository repository, IRepositorySecrets secrets)
    {
        try
        {
            return secrets.Credentials(repository) is { } credentials ? CredentialsKind(credentials) : "none";
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return "unreadable";
        }
    }

    private static string CredentialsKind(RepositoryCredentials credentials) => credentials is GitHubAppCredentials ? "githubApp" : "token";

    /// <summary>
    /// The credentials a body gives: null (none), a user name and token, or a GitHub App (provider github only).
    /// Returns the problem with them, or null.
    /// </summary>
    private static string? ReadCredentials(CredentialsRequest? request, string provider, out RepositoryCredentials? credentials)
    {
        credentials = null;
        if (request is null)
        {
            return null;
        }

        if (request.GitHubApp is { } app)
        {
            if (provider != ForgeProviders.GitHub)
            {
                return "'credentials.githubApp' is for GitHub repositories; a GitLab or Gitea repository takes {\"username\", \"token\"}";
            }

            if (request.Username is not null || request.Token is not null)
            {
                return "'credentials' takes either 'username' and 'token' or 'githubApp', not both";
            }

            if (app.AppId is not > 0 || string.IsNullOrWhiteSpace(app.PrivateKey) || app.InstallationId is <= 0)
            {
                return "'credentials.githubApp' needs 'appId' (a number), 'privateKey' (the App's PEM private key) and optionally 'installationId' (a number)";
            }

            if (StoredText.Problem("credentials.githubApp.privateKey", app.PrivateKey, MaxPrivateKey, lines: true) is { } privateKeyProblem)
            {
                return privateKeyProblem;
            }

            using var key = GitHubAppTokens.ImportPrivateKey(app.PrivateKey, out var keyProblem);
            if (key is null)
            {
                return "'credentials.githubApp.privateKey' " + keyProblem;
            }

            credentials = new GitHubAppCredentials(app.AppId.Value, app.InstallationId, app.PrivateKey);
            return null;
        }

        if (string.IsNullOrWhiteSpace(request.Username) || string.IsNullOrEmpty(request.Token))
        {
            return "'credentials' needs 'username' and 'token' (GitHub: 'x-access-token' and a fine-grained token; GitLab: the deploy or project token's user name and the token), or 'githubApp'";
        }

        if ((StoredText.Problem("credentials.username", request.Username, MaxUserName) ?? StoredText.Problem("credentials.token", request.Token, MaxToken)) is { } textProblem)
        {
            return textProblem;
        }

        credentials = new CloneCredentials(request.Username, request.Token);
        return null;
    }

    private static string? WebhookSecretProblem(string? secret) =>
        secret is { Length: >= 16 } && StoredText.Problem("webhookSecret", secret, MaxWebhookSecret) is null
            ? null
            : $"'webhookSecret' must be 16 to {MaxWebhookSecret} characters long, without control characters";

    /// <summary>The clone URL's shape, then its address (<see cref="RepositoryAddresses"/>: refused hosts, the allowed list, what its name resolves to now).</summary>
    private static async Task<string?> CloneUrlProblemAsync(string? url, RepositoryAddresses addresses, CancellationToken cancellationToken) =>
        (url is null ? null : addresses.Problem("cloneUrl", url.Trim())) ?? CloneUrlProblem(url) ?? await addresses.RefusalAsync("cloneUrl", url!.Trim(), cancellationToken);

    private static async Task<string?> ApiUrlProblemAsync(string? apiUrl, RepositoryAddresses addresses, CancellationToken cancellationToken) =>
        string.IsNullOrWhiteSpace(apiUrl)
            ? null
            : addresses.Problem("apiUrl", apiUrl.Trim()) ?? ApiUrlProblem(apiUrl) ?? await addresses.RefusalAsync("apiUrl", apiUrl.Trim(), cancellationToken);

    private static string? ApiUrlProblem(string apiUrl) =>
        Uri.TryCreate(apiUrl.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && string.IsNullOrEmpty(uri.UserInfo)
            ? null
            : "'apiUrl' must be the forge's API base as an absolute http(s) URL without credentials (https://ghe.example/api/v3, https://gitlab.example/api/v4)";

    private static string? TriggerProblem(string? trigger, string provider) =>
        (trigger?.Trim().ToLowerInvariant()) switch
        {
            null or RepositoryTriggers.Tag => null,
            RepositoryTriggers.Release when provider == ForgeProviders.GitHub => null,
            RepositoryTriggers.Release => "'trigger': 'release' is for GitHub repositories (a published GitHub release); others build on tag pushes",
            _ => "'trigger' must be 'tag' (a tag push builds, the default) or 'release' (a published GitHub release builds)",
        };

    private static string? CloneUrlProblem(string? url) =>
        Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var cloneUrl) && CloneSchemes.Contains(cloneUrl.Scheme)
            ? null
            : "'cloneUrl' must be an absolute https://, http:// or file:// URL (SSH is not supported: use HTTPS with 'credentials')";

    private static string WebhookUrl(HttpContext http, string provider) =>
        $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/webhooks/{provider}";

}
