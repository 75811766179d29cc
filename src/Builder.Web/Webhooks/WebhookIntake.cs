using Builder.Access;
using Builder.Core;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Builder.Core.Webhooks;
using Builder.Data;
using Builder.Pipeline;
using Builder.Web.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Webhooks;

/// <summary>
/// What Builder does with a parsed delivery, for every forge: find and verify the repository, then build, cancel,
/// answer a ping or ignore — and record the delivery with what it did. Until its signature is checked a payload is
/// anyone's: a refused delivery is recorded with its repository name cut short and nothing of what it asks to build,
/// and every field a payload gives is cut to a bounded size wherever it goes (<see cref="RecordAsync"/>, the audit log,
/// the server log).
/// </summary>
internal sealed partial class WebhookIntake(
    BuilderDbContext db,
    IRepositorySecrets secrets,
    AuditLog audit,
    FailedAuthLimiter limiter,
    ReleaseLifecycle lifecycle,
    TagBuilds tagBuilds,
    TimeProvider time,
    ILogger<WebhookIntake> logger)
{
    /// <summary>
    /// The longest tag built. Git has no limit of its own, but a ref is a file (each part of it at most 255 bytes on
    /// common file systems), and a version tag is a few dozen characters.
    /// </summary>
    public const int MaxTagLength = 255;

    private const int MaxEvent = 64;
    private const int MaxDeliveryId = 200;
    private const int MaxRepositoryName = 512;
    private const int MaxShownName = 200;
    private const int MaxDetail = 2000;

    private static readonly string UnknownRepositorySecret = WebhookSignature.NewSecret();
    private static readonly int[] CommitShaLengths = [40, 64];

    /// <summary>Whether the request's address is past the failed-authentication limit (then nothing of it is read).</summary>
    public bool IsBlocked(HttpRequest request, out TimeSpan retryAfter) => limiter.IsBlocked(request.HttpContext.Connection.RemoteIpAddress, out retryAfter);

    /// <summary>
    /// Refuses a delivery before anything of its payload is known (too large to check): the audit log records the
    /// request's own facts (address, forge, size) and the refusal counts against the address.
    /// </summary>
    public async Task<IResult> RefuseAsync(HttpRequest request, string provider, IResult answer, string reason, CancellationToken cancellationToken)
    {
        LogRefused(logger, provider, reason);
        var size = request.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no Content-Length";
        await RefusedAsync(request, target: null, $"{reason} ({provider}, {size})", cancellationToken);
        return answer;
    }

    public async Task<IResult> ReceiveAsync(HttpRequest request, ForgeDelivery delivery, string refusal, CancellationToken cancellationToken)
    {
        var repositoryName = StoredText.Line(delivery.RepositoryName, MaxShownName)!;
        var record = new WebhookDelivery
        {
            Provider = delivery.Provider,
            Event = delivery.Event,
            DeliveryId = delivery.DeliveryId,
            IdempotencyKey = delivery.IdempotencyKey,
            RepositoryName = delivery.RepositoryName,
            Outcome = WebhookOutcomes.Refused,
            ReceivedAt = time.GetUtcNow(),
        };

        var repository = await FindSignedAsync(delivery, cancellationToken);
        if (repository.Verified is not { } verified)
        {
            var known = repository.Named;
            var reason = known is null
                ? $"repository '{repositoryName}' is not registered with Builder for {delivery.Provider}"
                : $"the signature does not match the webhook secret of '{known.Name}'";
            LogRefused(logger, delivery.Provider, reason);
            record.RepositoryId = known?.Id;
            record.Detail = reason;
            await RecordAsync(record, cancellationToken);
            await RefusedAsync(request, "repository:" + repositoryName,
                reason + $" ({delivery.Provider} event {StoredText.Line(delivery.Event, MaxEvent)}, delivery {StoredText.Line(delivery.DeliveryId, MaxDeliveryId)}, {delivery.Size} bytes)",
                cancellationToken);
            return Problems.Of(StatusCodes.Status401Unauthorized, refusal);
        }

        record.RepositoryId = verified.Id;
        record.Tag = delivery.Tag;
        record.CommitSha = delivery.CommitSha;
        if (PayloadProblem(delivery) is { } problem)
        {
            // Signed, so the forge (or whoever has the secret) sent it: recorded, cut short, and nothing built.
            LogRefused(logger, delivery.Provider, $"{problem} (repository '{verified.Name}')");
            record.Detail = problem;
            await RecordAsync(record, cancellationToken);
            return Problems.Of(StatusCodes.Status400BadRequest, problem);
        }

        if (delivery.InstallationId is { } installation && installation != verified.GitHubInstallationId)
        {
            // A GitHub App's deliveries name its installation: the App's clone and status tokens are minted for it.
            await db.Repositories.Where(r => r.Id == verified.Id).ExecuteUpdateAsync(u => u.SetProperty(r => r.GitHubInstallationId, installation), cancellationToken);
        }

        switch (delivery.Action)
        {
            case DeliveryAction.Ping:
                record.Outcome = WebhookOutcomes.Pong;
                await RecordAsync(record, cancellationToken);
                return TypedResults.Ok(new { message = "pong: the webhook secret matches" });
            case DeliveryAction.Ignore:
                return await IgnoreAsync(record, delivery.IgnoreReason ?? "nothing to do", cancellationToken);
            case DeliveryAction.Delete:
                // A tag deletion: its unfinished builds are cancelled; nothing already published is removed.
                var cancelled = await lifecycle.CancelTagAsync(verified.Id, delivery.Tag!, cancellationToken);
                record.Outcome = WebhookOutcomes.Cancelled;
                record.Detail = cancelled.Count == 0
                    ? $"tag {delivery.Tag} deleted; no unfinished build to cancel"
                    : $"tag {delivery.Tag} deleted; cancelled build{(cancelled.Count == 1 ? string.Empty : "s")} {string.Join(", ", cancelled)}";
                await RecordAsync(record, cancellationToken);
                return cancelled.Count == 0 ? TypedResults.NoContent() : TypedResults.Accepted((string?)null, new BuildsCancelled(cancelled));
        }

        if (delivery.Trigger != verified.Trigger)
        {
            return await IgnoreAsync(record, verified.Trigger == RepositoryTriggers.Release
                ? $"'{verified.Name}' builds when a GitHub release is published (trigger 'release'), not on {delivery.Event} events"
                : $"'{verified.Name}' builds on tag pushes (trigger 'tag'), not on published releases", cancellationToken);
        }

        var commit = delivery.CommitSha;
        if (commit is null)
        {
            // A create or release event names the tag only: the commit is what the tag points to on the repository now.
            ResolvedTag? resolved;
            try
            {
                resolved = await tagBuilds.ResolveAsync(verified, delivery.Tag!, cancellationToken);
            }
            catch (BuildStepException ex)
            {
                record.Outcome = WebhookOutcomes.Ignored;
                record.Detail = $"tag {delivery.Tag} could not be resolved on the repository: {ex.Message}";
                await RecordAsync(record, cancellationToken);
                return Problems.Of(StatusCodes.Status502BadGateway, record.Detail);
            }

            if (resolved is null)
            {
                return await IgnoreAsync(record, $"tag {delivery.Tag} does not exist on the repository (deleted again?)", cancellationToken);
            }

            commit = resolved.CommitSha;
            record.CommitSha = commit;
        }

        var build = await tagBuilds.QueueAsync(verified, delivery.Tag!, commit, delivery.DeliveryId, cancellationToken);
        record.BuildId = build.BuildId;
        record.Outcome = build.Outcome;
        record.Detail = build.Detail;
        await RecordAsync(record, cancellationToken);
        if (build.Created)
        {
            LogQueued(logger, build.BuildId, verified.Name, delivery.Tag!, commit);
        }

        return Accepted(request, build.BuildId);
    }

    /// <summary>
    /// The registered repository the delivery names whose secret signed it: the repositories of that provider and name,
    /// the payload's instance first. An unknown repository still costs one signature check, so both refusals take
    /// about the same time.
    /// </summary>
    private async Task<(SourceRepository? Verified, SourceRepository? Named)> FindSignedAsync(ForgeDelivery delivery, CancellationToken cancellationToken)
    {
        var candidates = await db.Repositories.AsNoTracking()
            .Where(r => r.Provider == delivery.Provider && r.Name == delivery.RepositoryName)
            .ToListAsync(cancellationToken);
        if (candidates.Count == 0)
        {
            _ = delivery.IsSignedWith(UnknownRepositorySecret);
            return (null, null);
        }

        foreach (var candidate in candidates.OrderByDescending(r => r.Instance == delivery.Instance).ThenBy(r => r.Id))
        {
            if (secrets.WebhookSecret(candidate) is { } secret && delivery.IsSignedWith(secret))
            {
                return (candidate, candidate);
            }
        }

        return (null, candidates[0]);
    }

    private async Task<IResult> IgnoreAsync(WebhookDelivery record, string reason, CancellationToken cancellationToken)
    {
        record.Outcome = WebhookOutcomes.Ignored;
        record.Detail = reason;
        await RecordAsync(record, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Stores the delivery with every field a payload or its headers gave cut to a bounded size.</summary>
    private async Task RecordAsync(WebhookDelivery record, CancellationToken cancellationToken)
    {
        record.Event = StoredText.Line(record.Event, MaxEvent) ?? string.Empty;
        record.DeliveryId = StoredText.Line(record.DeliveryId, MaxDeliveryId);
        record.IdempotencyKey = StoredText.Line(record.IdempotencyKey, MaxDeliveryId);
        record.RepositoryName = StoredText.Line(record.RepositoryName, MaxRepositoryName);
        record.Tag = StoredText.Line(record.Tag, MaxTagLength + 1);
        record.CommitSha = StoredText.Line(record.CommitSha, CommitShaLengths[^1] + 1);
        record.Detail = StoredText.Cut(record.Detail, MaxDetail);
        db.WebhookDeliveries.Add(record);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>A refusal of a delivery no secret signed: in the audit log, and counted against its address.</summary>
    private async Task RefusedAsync(HttpRequest request, string? target, string detail, CancellationToken cancellationToken)
    {
        var address = request.HttpContext.Connection.RemoteIpAddress;
        var actor = new AuditActor("webhook", address?.ToString(), request.Headers.UserAgent.ToString());
        await audit.RecordAsync(actor, AuditActions.WebhookRefused, AuditOutcomes.Refused, target: target, detail: detail, cancellationToken: cancellationToken);
        await limiter.RecordFailureAsync(address, actor, cancellationToken);
    }

    /// <summary>What in a signed delivery Builder will not build or store whole: an over-long or garbled tag, a commit that is no SHA.</summary>
    private static string? PayloadProblem(ForgeDelivery delivery)
    {
        if (delivery.Tag is { } tag)
        {
            if (tag.Length > MaxTagLength)
            {
                return $"the tag name is {tag.Length} characters long; Builder builds tags of at most {MaxTagLength}";
            }

            if (tag.Length == 0 || tag.Any(char.IsControl))
            {
                return $"the tag name '{StoredText.Line(tag, MaxTagLength)}' is empty or has control characters";
            }
        }

        if (delivery.CommitSha is { } sha && !(CommitShaLengths.Contains(sha.Length) && sha.All(char.IsAsciiHexDigit)))
        {
            return $"'{StoredText.Line(sha, 80)}' is not a commit SHA (40 or 64 hexadecimal digits)";
        }

        return null;
    }

    private static Accepted<BuildAccepted> Accepted(HttpRequest request, long id)
    {
        var url = $"{request.Scheme}://{request.Host}{request.PathBase}{PublicRoutes.Build(id)}";
        return TypedResults.Accepted(url, new BuildAccepted(id, url));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook from {Provider} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string provider, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued build {BuildId} for {Repository} tag {Tag} at {Sha}")]
    private static partial void LogQueued(ILogger logger, long buildId, string repository, string tag, string sha);
}
