using System.Globalization;
using Builder.Access.Oidc;
using Builder.Web.Http;

namespace Builder.Web.Access;

/// <summary>
/// Trusted publishing and reading: trusted publishers (<c>/api/trusted-publishers</c>, admin) and the exchange of a CI
/// job's OpenID Connect ID token for a short-lived Builder token (<c>POST /api/oidc/mint-token</c>, anyone: the ID token
/// is the credential). <see cref="TrustedPublishers"/> does the work.
/// </summary>
internal static class TrustedPublishingEndpoints
{
    public const string Publishers = "/api/trusted-publishers";
    public const string MintToken = "/api/oidc/mint-token";

    public static void MapTrustedPublishing(this IEndpointRouteBuilder app)
    {
        var publishers = app.MapGroup(Publishers).AddEndpointFilter<RequireAdmin>();
        publishers.MapPost("/", CreateAsync);
        publishers.MapGet("/", async (TrustedPublishers service, CancellationToken ct) => TypedResults.Ok(await service.ListAsync(ct)));
        publishers.MapDelete("/{id:long}", DeleteAsync);
        app.MapPost(MintToken, MintAsync);
    }

    private static async Task<IResult> CreateAsync(TrustedPublisherRequest? body, HttpContext http, TrustedPublishers service, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Problems.BadRequest("the body must be JSON: {\"name\":\"billing-release\",\"issuer\":\"https://token.actions.githubusercontent.com\",\"claims\":{\"repository\":\"acme/billing\",\"ref\":\"refs/tags/v*\"},\"scopes\":[\"upload\"],\"projects\":[\"acme-billing\"]}");
        }

        var (publisher, status, problem) = await service.CreateAsync(body, http.Actor(), cancellationToken);
        return publisher is null
            ? Problems.Of(status, problem!)
            : TypedResults.Created($"{Publishers}/{publisher.Id.ToString(CultureInfo.InvariantCulture)}", publisher);
    }

    private static async Task<IResult> DeleteAsync(long id, HttpContext http, TrustedPublishers service, CancellationToken cancellationToken) =>
        await service.DeleteAsync(id, http.Actor(), cancellationToken) is { } deleted
            ? TypedResults.Ok(deleted)
            : Problems.NotFound($"no trusted publisher {id.ToString(CultureInfo.InvariantCulture)}");

    private static async Task<IResult> MintAsync(MintRequest? body, HttpContext http, TrustedPublishers service, CancellationToken cancellationToken)
    {
        if (body?.Token is not { Length: > 0 })
        {
            return Problems.BadRequest("the body must be JSON: {\"token\": \"<the CI job's OpenID Connect ID token>\"}");
        }

        var result = await service.MintAsync(body, http.Actor(), cancellationToken);
        if (result.Secret is null)
        {
            return result.Status == StatusCodes.Status503ServiceUnavailable
                ? new PhrasedProblem(result.Status, result.Problem!) { RetryAfterSeconds = 10 }
                : Problems.Of(result.Status, result.Problem!);
        }

        var token = result.Token!;
        return TypedResults.Ok(new MintedToken(result.Secret, token.ExpiresAt!.Value, token.Publisher!, token.Id, token.Scopes, token.Projects, token.Versions));
    }

    /// <summary>The answer of a successful exchange: the token (shown once) and what it may do until when.</summary>
    private sealed record MintedToken(string Token, DateTimeOffset ExpiresAt, string Publisher, long Id, IReadOnlyList<string> Scopes, IReadOnlyList<string>? Projects, string? Versions);
}
