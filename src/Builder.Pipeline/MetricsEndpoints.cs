using Builder.Access;
using Builder.Core.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Builder.Pipeline;

/// <summary>
/// <c>GET /metrics</c> in Prometheus's text format (or OpenMetrics, when the scraper asks for it), written by
/// prometheus-net from <see cref="BuilderMetrics.Registry"/>; and the request metrics of a host's routes. Who may read it
/// is the host's decision: the web process asks its access model (admins and <c>Builder:Metrics:Token</c>), a worker
/// <see cref="RequireMetricsToken"/>.
/// </summary>
public static class MetricsEndpoints
{
    public const string Route = "/metrics";

    public static IEndpointConventionBuilder MapBuilderMetrics(this IEndpointRouteBuilder app)
    {
        var registry = app.ServiceProvider.GetRequiredService<BuilderMetrics>().Registry;
        return app.MapMetrics(settings => settings.Registry = registry, Route)
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
    }

    /// <summary>
    /// Counts and times every request by status code, method and route template (<c>/simple/{project}/</c>, never the
    /// path a client sent, so project and file names never become label values; requests no route matched have an empty
    /// template). Put it first: it then sees the final status of requests the access check refused and of those that
    /// failed (the exception handler clears the route, so the template is taken here, before anything runs).
    /// </summary>
    public static IApplicationBuilder UseBuilderHttpMetrics(this IApplicationBuilder app)
    {
        var metrics = app.ApplicationServices.GetRequiredService<BuilderMetrics>();
        app.Use((context, next) =>
        {
            context.Features.Set(new RouteTemplateFeature((context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? string.Empty));
            return next(context);
        });
        return app.UseHttpMetrics(options =>
        {
            options.RequestCount.Counter = metrics.HttpRequests;
            options.RequestDuration.Histogram = metrics.HttpDuration;
            options.InProgress.Gauge = metrics.HttpInProgress;
            options.AddCustomLabel("endpoint", context => context.Features.Get<RouteTemplateFeature>()?.Template ?? string.Empty);
        });
    }

    private sealed record RouteTemplateFeature(string Template);
}

/// <summary>
/// A worker's <c>/metrics</c>: with <c>Builder:Metrics:Token</c> set, only requests bearing it (Bearer, or as HTTP Basic
/// password) — others get 401; unset, anyone who reaches <c>Builder:Worker:Urls</c>, like its health routes (a worker has
/// no admin token or people, and its series name no project).
/// </summary>
public sealed class RequireMetricsToken(IOptions<MetricsOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (string.IsNullOrEmpty(options.Value.Token))
        {
            return await next(context);
        }

        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        if (header.Length > 0 && CredentialVerifier.TryParse(header, out _, out var secret, out _) && options.Value.IsToken(secret))
        {
            return await next(context);
        }

        context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer realm=\"Builder metrics\"";
        return Results.Problem(statusCode: StatusCodes.Status401Unauthorized,
            detail: "GET /metrics on this worker needs Builder:Metrics:Token as bearer token (Prometheus: authorization: {type: Bearer, credentials: ...})");
    }
}
