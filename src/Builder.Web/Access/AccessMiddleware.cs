using System.Globalization;
using Builder.Access;
using Builder.Core.Access;
using Builder.Web.Http;
using Builder.Web.Ui;
using Microsoft.Extensions.Options;

namespace Builder.Web.Access;

/// <summary>
/// Finds who sends each request, before routing: no credentials → anonymous (reads only with
/// <c>Builder:Access:AnonymousRead</c>); credentials → <see cref="CredentialVerifier"/>, and a request with bad ones is
/// answered 401 here, whatever it asked for. Failed authentications count per source address; past the limit the
/// address gets 429 with Retry-After until its window ends, for every credential not verified before. Routes then ask
/// <see cref="AccessRights"/> what the principal may do.
/// </summary>
internal sealed class AccessMiddleware(RequestDelegate next, CredentialVerifier verifier, FailedAuthLimiter limiter, IOptions<AccessOptions> options)
{
    private readonly Principal _anonymous = Principal.Anonymous(options.Value.AnonymousRead);

    public async Task InvokeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization;
        var endpoint = context.GetEndpoint();
        if (header.Count == 0 || endpoint?.Metadata.GetMetadata<AuthenticatedBySignature>() is not null)
        {
            context.Features.Set(await SessionPrincipalAsync(context, endpoint) ?? _anonymous);
            await next(context);
            return;
        }

        var address = context.Connection.RemoteIpAddress;
        if (limiter.IsBlocked(address, out var retryAfter) && !verifier.WasVerified(header.ToString()))
        {
            await TooManyFailures(retryAfter).ExecuteAsync(context);
            return;
        }

        var userAgent = context.Request.Headers.UserAgent.ToString();
        var result = await verifier.VerifyAsync(header.ToString(), address, userAgent, context.RequestAborted);
        if (result.Principal is null)
        {
            if (result.Status != StatusCodes.Status503ServiceUnavailable)
            {
                await limiter.RecordFailureAsync(address, new AuditActor("anonymous", address?.ToString(), userAgent), context.RequestAborted);
            }

            var refusal = result.Status switch
            {
                StatusCodes.Status401Unauthorized => RequestPrincipal.Challenge(result.Reason!),
                StatusCodes.Status503ServiceUnavailable => new PhrasedProblem(result.Status, result.Reason!) { RetryAfterSeconds = 10 },
                _ => new PhrasedProblem(result.Status, result.Reason!),
            };
            await refusal.ExecuteAsync(context);
            return;
        }

        context.Features.Set(result.Principal);
        await next(context);
    }

    /// <summary>
    /// A signed-in browser's person (<see cref="SessionCookie"/>): for GET and HEAD anywhere, for other methods only on
    /// the UI's pages, whose forms carry anti-forgery tokens. An ended or unknown session is nobody (the UI offers to
    /// sign in again). The person's id is also the request's user, which anti-forgery tokens are bound to.
    /// </summary>
    private async ValueTask<Principal?> SessionPrincipalAsync(HttpContext context, Endpoint? endpoint)
    {
        if (SessionCookie.Read(context.Request) is not { } secret
            || endpoint?.Metadata.GetMetadata<AuthenticatedBySignature>() is not null
            || !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || endpoint?.Metadata.GetMetadata<UiForms>() is not null))
        {
            return null;
        }

        var principal = await verifier.VerifySessionAsync(secret, context.RequestAborted);
        if (principal is not null)
        {
            context.User = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
                [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Name, principal.Id)], authenticationType: "session"));
        }

        return principal;
    }

    /// <summary>The answer to an address past the failed-authentication limit (a request with credentials, a webhook delivery).</summary>
    internal static PhrasedProblem TooManyFailures(TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        return new PhrasedProblem(StatusCodes.Status429TooManyRequests,
            string.Create(CultureInfo.InvariantCulture, $"Too many failed authentications from this address; try again in {seconds} s"))
        {
            RetryAfterSeconds = seconds,
        };
    }
}
