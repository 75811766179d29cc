using System.Text.Json;
using Builder.Access;
using Builder.Core.Builds;
using Builder.Core.Webhooks;
using Builder.Data;
using Builder.Pipeline;
using Builder.Web.Api;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Webhooks;

public sealed record BuildAccepted(long Id, string Url);

public sealed record BuildsCancelled(IReadOnlyList<long> Cancelled);

/// <summary>
/// The webhook edge: verify, record, enqueue, answer 202 — no build work happens in the request.
/// </summary>
internal static partial class WebhookEndpoints
{
    public const string GitHub = "/webhooks/github";

    // GitHub caps webhook payloads at 25 MB.
    private const int MaxPayloadBytes = 25 * 1024 * 1024;
    private const string TagPrefix = "refs/tags/";

    public static void MapWebhooks(this IEndpointRouteBuilder app) =>
        app.MapPost(GitHub, ReceiveGitHubAsync).WithMetadata(Access.AuthenticatedBySignature.Instance);

    /// <summary>
    /// The one answer for an unknown repository and for a bad signature, so a caller without a secret learns nothing
    /// about which repositories are registered; the server log and the audit log say which it was.
    /// </summary>
    private const string Refusal = "X-Hub-Signature-256 is missing or does not match the webhook secret of the repository the payload names";

    private static async Task<IResult> ReceiveGitHubAsync(
        HttpRequest request, BuilderDbContext db, IRepositorySecrets secrets, AuditLog audit, ReleaseLifecycle lifecycle, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        // The signature covers the raw bytes, so read them before any parsing.
        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"webhook payloads are limited to {MaxPayloadBytes} bytes");
        }

        PushPayload payload;
        try
        {
            payload = PushPayload.Parse(body);
        }
        catch (JsonException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, $"the body is not valid JSON: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, ex.Message);
        }

        var repository = await db.Repositories.AsNoTracking().SingleOrDefaultAsync(r => r.Name == payload.RepositoryFullName, cancellationToken);
        var secret = repository is null ? null : secrets.WebhookSecret(repository);
        // An unknown repository still costs one signature check, so both refusals take the same time.
        if (!WebhookSignature.IsValid(secret ?? UnknownRepositorySecret, body, request.Headers["X-Hub-Signature-256"].FirstOrDefault()) || repository is null || secret is null)
        {
            var reason = repository is null
                ? $"repository '{payload.RepositoryFullName}' is not registered with Builder"
                : $"the signature does not match the webhook secret of '{repository.Name}'";
            LogRefused(loggers.CreateLogger(typeof(WebhookEndpoints)), reason);
            await audit.RecordAsync(new AuditActor("webhook", request.HttpContext.Connection.RemoteIpAddress?.ToString(), request.Headers.UserAgent.ToString()),
                AuditActions.WebhookRefused, AuditOutcomes.Refused, target: "repository:" + payload.RepositoryFullName,
                detail: reason + $" (event {request.Headers["X-GitHub-Event"]}, delivery {request.Headers["X-GitHub-Delivery"]})", cancellationToken: cancellationToken);
            return Problem(StatusCodes.Status401Unauthorized, Refusal);
        }

        var gitHubEvent = request.Headers["X-GitHub-Event"].FirstOrDefault();
        if (gitHubEvent == "ping")
        {
            return TypedResults.Ok(new { message = "pong: the webhook secret matches" });
        }

        if (gitHubEvent != "push" || payload.Ref is null || !payload.Ref.StartsWith(TagPrefix, StringComparison.Ordinal))
        {
            return TypedResults.NoContent(); // not a tag push: nothing to build
        }

        var tag = payload.Ref[TagPrefix.Length..];
        if (payload.Deleted || payload.After is null || payload.After.All(c => c == '0'))
        {
            // A tag deletion: its unfinished builds are cancelled; nothing already published is removed.
            var cancelled = await lifecycle.CancelTagAsync(repository.Id, tag, cancellationToken);
            return cancelled.Count == 0 ? TypedResults.NoContent() : TypedResults.Accepted((string?)null, new BuildsCancelled(cancelled));
        }

        var existing = await FindAsync(db, repository.Id, tag, payload.After, cancellationToken);
        if (existing is not null)
        {
            return Accepted(request, existing.Id);
        }

        Build build;
        try
        {
            build = await lifecycle.QueueAsync(new Build
            {
                RepositoryId = repository.Id,
                Tag = tag,
                CommitSha = payload.After,
                DeliveryId = request.Headers["X-GitHub-Delivery"].FirstOrDefault(),
            }, cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The same delivery arrived twice at once: the unique index let one insert through; answer with that build.
            var raced = await FindAsync(db, repository.Id, tag, payload.After, CancellationToken.None);
            if (raced is null)
            {
                throw;
            }

            return Accepted(request, raced.Id);
        }

        var logger = loggers.CreateLogger(typeof(WebhookEndpoints));
        LogQueued(logger, build.Id, repository.Name, tag, payload.After);
        return Accepted(request, build.Id);
    }

    /// <summary>The newest build of a tag and commit (a redelivery after "build again" answers with the newest generation).</summary>
    private static Task<Build?> FindAsync(BuilderDbContext db, long repositoryId, string tag, string sha, CancellationToken cancellationToken) =>
        db.Builds.AsNoTracking().Where(b => b.RepositoryId == repositoryId && b.Tag == tag && b.CommitSha == sha)
            .OrderByDescending(b => b.Generation).FirstOrDefaultAsync(cancellationToken);

    private static Accepted<BuildAccepted> Accepted(HttpRequest request, long id)
    {
        var url = $"{request.Scheme}://{request.Host}{request.PathBase}{BuildEndpoints.BuildRoute(id)}";
        return TypedResults.Accepted(url, new BuildAccepted(id, url));
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxPayloadBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxPayloadBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static readonly string UnknownRepositorySecret = WebhookSignature.NewSecret();

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(statusCode: status, detail: detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued build {BuildId} for {Repository} tag {Tag} at {Sha}")]
    private static partial void LogQueued(ILogger logger, long buildId, string repository, string tag, string sha);
}

/// <summary>The fields of GitHub's push event payload that Builder reads.</summary>
internal sealed record PushPayload(string RepositoryFullName, string? Ref, string? After, bool Deleted)
{
    public static PushPayload Parse(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException("the payload must be a JSON object");
        }

        if (!root.TryGetProperty("repository", out var repository) || repository.ValueKind != JsonValueKind.Object
            || !repository.TryGetProperty("full_name", out var fullName) || fullName.ValueKind != JsonValueKind.String
            || string.IsNullOrEmpty(fullName.GetString()))
        {
            throw new InvalidOperationException("the payload has no repository.full_name");
        }

        return new PushPayload(
            fullName.GetString()!,
            StringOrNull(root, "ref"),
            StringOrNull(root, "after"),
            root.TryGetProperty("deleted", out var deleted) && deleted.ValueKind == JsonValueKind.True);
    }

    private static string? StringOrNull(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
