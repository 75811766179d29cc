using Builder.Access;
using Builder.Core.Forges;
using Builder.Web.Access;
using Builder.Web.Http;

namespace Builder.Web.Webhooks;

public sealed record BuildAccepted(long Id, string Url);

public sealed record BuildsCancelled(IReadOnlyList<long> Cancelled);

/// <summary>
/// The webhook edge for every forge: read the raw bytes, parse the forge's payload (<see cref="ForgeDelivery"/>),
/// find the repository by (provider, name) — the payload's instance first — and check the delivery's signature with
/// its secret, then build, cancel, answer a ping or ignore; every delivery is recorded with what it did
/// (<see cref="Core.Builds.WebhookDelivery"/>). No build work happens in the request, except resolving a tag that a create or
/// release event names without its commit. A delivery refused for its signature or its size counts against its
/// address like a failed login (<see cref="FailedAuthLimiter"/>); past the limit the address gets 429 before its body
/// is read.
/// </summary>
internal static partial class WebhookEndpoints
{
    public const string GitHub = "/webhooks/github";
    public const string GitLab = "/webhooks/gitlab";
    public const string Gitea = "/webhooks/gitea";

    // GitHub caps webhook payloads at 25 MB.
    private const int MaxPayloadBytes = 25 * 1024 * 1024;

    public static void MapWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost(GitHub, (HttpRequest request, WebhookIntake intake, CancellationToken ct) => ReceiveAsync(request, intake, ForgeProviders.GitHub, GitHubDeliveries.Parse, GitHubRefusal, ct))
            .WithMetadata(Access.AuthenticatedBySignature.Instance);
        app.MapPost(GitLab, (HttpRequest request, WebhookIntake intake, CancellationToken ct) => ReceiveAsync(request, intake, ForgeProviders.GitLab, GitLabDeliveries.Parse, GitLabRefusal, ct))
            .WithMetadata(Access.AuthenticatedBySignature.Instance);
        app.MapPost(Gitea, (HttpRequest request, WebhookIntake intake, CancellationToken ct) => ReceiveAsync(request, intake, ForgeProviders.Gitea, GiteaDeliveries.Parse, GiteaRefusal, ct))
            .WithMetadata(Access.AuthenticatedBySignature.Instance);
    }

    /// <summary>
    /// The one answer for an unknown repository and for a bad signature, so a caller without a secret learns nothing
    /// about which repositories are registered; the server log, the audit log and the delivery record say which it was.
    /// </summary>
    private const string GitHubRefusal = "X-Hub-Signature-256 is missing or does not match the webhook secret of the repository the payload names";
    private const string GitLabRefusal = "X-Gitlab-Token is missing or does not match the secret token of the project the payload names";
    private const string GiteaRefusal = "X-Gitea-Signature is missing or does not match the webhook secret of the repository the payload names";

    private static async Task<IResult> ReceiveAsync(
        HttpRequest request, WebhookIntake intake, string provider, Func<IHeaderDictionary, byte[], ForgeDelivery> parse, string refusal, CancellationToken cancellationToken)
    {
        if (intake.IsBlocked(request, out var retryAfter))
        {
            return AccessMiddleware.TooManyFailures(retryAfter);
        }

        // The signature covers the raw bytes, so read them before any parsing.
        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
        {
            // No forge sends more: only the request's own facts are recorded.
            return await intake.RefuseAsync(request, provider, Problems.Of(StatusCodes.Status413PayloadTooLarge, $"webhook payloads are limited to {MaxPayloadBytes} bytes"),
                $"a payload of more than {MaxPayloadBytes} bytes", cancellationToken);
        }

        ForgeDelivery delivery;
        try
        {
            delivery = parse(request.Headers, body) with { Size = body.Length };
        }
        catch (MalformedDeliveryException ex)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, ex.Message);
        }

        return await intake.ReceiveAsync(request, delivery, refusal, cancellationToken);
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

}

