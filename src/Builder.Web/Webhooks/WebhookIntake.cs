using Builder.Access;
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
/// answer a ping or ignore — and record the delivery with what it did.
/// </summary>
internal sealed partial class WebhookIntake(
    BuilderDbContext db, IRepositorySecrets secrets, AuditLog audit, ReleaseLifecycle lifecycle, TagBuilds tagBuilds, TimeProvider time, ILogger<WebhookIntake> logger)
{
    private static readonly string UnknownRepositorySecret = WebhookSignature.NewSecret();

    public async Task<IResult> ReceiveAsync(HttpRequest request, ForgeDelivery delivery, string refusal, CancellationToken cancellationToken)
    {
        var record = new WebhookDelivery
        {
            Provider = delivery.Provider,
            Event = Truncate(delivery.Event, 64) ?? string.Empty,
            DeliveryId = Truncate(delivery.DeliveryId, 200),
            IdempotencyKey = Truncate(delivery.IdempotencyKey, 200),
            RepositoryName = Truncate(delivery.RepositoryName, 512),
            Tag = delivery.Tag,
            CommitSha = delivery.CommitSha,
            Outcome = WebhookOutcomes.Refused,
            ReceivedAt = time.GetUtcNow(),
        };

        var repository = await FindSignedAsync(delivery, cancellationToken);
        if (repository.Verified is not { } verified)
        {
            var known = repository.Named;
            var reason = known is null
                ? $"repository '{delivery.RepositoryName}' is not registered with Builder for {delivery.Provider}"
                : $"the signature does not match the webhook secret of '{known.Name}'";
            LogRefused(logger, delivery.Provider, reason);
            record.RepositoryId = known?.Id;
            record.Detail = reason;
            await RecordAsync(record, cancellationToken);
            await audit.RecordAsync(new AuditActor("webhook", request.HttpContext.Connection.RemoteIpAddress?.ToString(), request.Headers.UserAgent.ToString()),
                AuditActions.WebhookRefused, AuditOutcomes.Refused, target: "repository:" + delivery.RepositoryName,
                detail: reason + $" ({delivery.Provider} event {delivery.Event}, delivery {delivery.DeliveryId})", cancellationToken: cancellationToken);
            return Problems.Of(StatusCodes.Status401Unauthorized, refusal);
        }

        record.RepositoryId = verified.Id;
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

    private async Task RecordAsync(WebhookDelivery record, CancellationToken cancellationToken)
    {
        db.WebhookDeliveries.Add(record);
        await db.SaveChangesAsync(cancellationToken);
    }

    private static Accepted<BuildAccepted> Accepted(HttpRequest request, long id)
    {
        var url = $"{request.Scheme}://{request.Host}{request.PathBase}{PublicRoutes.Build(id)}";
        return TypedResults.Accepted(url, new BuildAccepted(id, url));
    }

    private static string? Truncate(string? value, int length) => value is null || value.Length <= length ? value : value[..length];


    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook from {Provider} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string provider, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued build {BuildId} for {Repository} tag {Tag} at {Sha}")]
    private static partial void LogQueued(ILogger logger, long buildId, string repository, string tag, string sha);
}
