using Builder.Access;
using Builder.Core.Access;
using Builder.Web.Http;

namespace Builder.Web.Access;

internal static class RequestPrincipal
{
    public const string Realm = "Basic realm=\"Builder\"";

    /// <summary>Who sent the request (anonymous when it carried no credentials); <see cref="AccessMiddleware"/> sets it as a feature.</summary>
    public static Principal Principal(this HttpContext context) =>
        context.Features.Get<Principal>() ?? throw new InvalidOperationException("AccessMiddleware did not run for this request");

    /// <summary>Who acts, and from where, for the audit log.</summary>
    public static AuditActor Actor(this HttpContext context) =>
        new(context.Principal().Id, context.Connection.RemoteIpAddress?.ToString(), context.Request.Headers.UserAgent.ToString() is { Length: > 0 } ua ? ua : null);

    /// <summary>
    /// 401 with a Basic challenge: pip, uv and poetry send credentials only after one. Said to requests without
    /// credentials that ask for something anonymous requests may not have.
    /// </summary>
    public static PhrasedProblem Challenge(string detail = "Credentials required: Builder is a private index; use a token (user __token__, the token as password) or your user name and password") =>
        new(StatusCodes.Status401Unauthorized, detail) { WwwAuthenticate = Realm };

    public static PhrasedProblem Forbidden(string detail) => new(StatusCodes.Status403Forbidden, detail);

    /// <summary>Requests without credentials get the challenge; others a 403 naming what they lack.</summary>
    public static PhrasedProblem ChallengeOrForbid(this HttpContext context, string detail) =>
        context.Principal().IsAnonymous ? Challenge() : Forbidden(detail);
}

/// <summary>
/// Endpoint metadata: the route authenticates its callers itself (webhooks, by their signature), so whatever
/// Authorization header arrives with them is not checked (a webhook URL with user info makes GitHub send one).
/// </summary>
internal sealed class AuthenticatedBySignature
{
    public static AuthenticatedBySignature Instance { get; } = new();
}

/// <summary>Admin routes: 401 without credentials, 403 for principals that are not admins.</summary>
internal sealed class RequireAdmin : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!http.Principal().Rights.IsAdmin)
        {
            return http.ChallengeOrForbid($"{http.Request.Method} {http.Request.Path} needs an admin (the admin token, an admin-scoped token or a person with the admin role)");
        }

        return await next(context);
    }
}

/// <summary>Routes for anyone with credentials (what they may do there is decided by the route): 401 for anonymous requests.</summary>
internal sealed class RequireCredentials : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.HttpContext.Principal().IsAnonymous)
        {
            return RequestPrincipal.Challenge();
        }

        return await next(context);
    }
}

/// <summary>
/// <c>GET /metrics</c>: admins and the metrics token (<c>Builder:Metrics:Token</c>, for Prometheus); 401 without
/// credentials, 403 for anyone else. The series name no project, but how busy a private index is stays private.
/// </summary>
internal sealed class RequireMetricsReader : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!http.Principal().MayReadMetrics)
        {
            return http.ChallengeOrForbid($"GET {Builder.Pipeline.MetricsEndpoints.Route} needs an admin or the metrics token (Builder:Metrics:Token)");
        }

        return await next(context);
    }
}
