using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
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
        var series = new HttpSeries(app.ApplicationServices.GetRequiredService<BuilderMetrics>());
        return app.Use(series.InvokeAsync);
    }

    /// <summary>
    /// The three request series, with each labelled child looked up once and kept (every request of the index would
    /// otherwise hash its labels three times over): a few hundred route templates × methods × status codes at most.
    /// </summary>
    private sealed class HttpSeries(BuilderMetrics metrics)
    {
        private readonly ConcurrentDictionary<(string Method, string Endpoint), Gauge.Child> _inProgress = new();
        private readonly ConcurrentDictionary<(int Code, string Method, string Endpoint), (Counter.Child Count, Histogram.Child Duration)> _answered = new();

        public async Task InvokeAsync(HttpContext context, RequestDelegate next)
        {
            var endpoint = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? string.Empty;
            var method = MethodLabel(context.Request.Method);
            var started = Stopwatch.GetTimestamp();
            var inProgress = _inProgress.GetOrAdd((method, endpoint), static (key, m) => m.HttpInProgress.WithLabels(key.Method, key.Endpoint), metrics);
            inProgress.Inc();
            try
            {
                await next(context);
            }
            finally
            {
                inProgress.Dec();
                var code = context.Response.StatusCode;
                var answered = _answered.GetOrAdd((code, method, endpoint), static (key, m) =>
                {
                    var codeLabel = key.Code.ToString(CultureInfo.InvariantCulture);
                    return (m.HttpRequests.WithLabels(codeLabel, key.Method, key.Endpoint), m.HttpDuration.WithLabels(codeLabel, key.Method, key.Endpoint));
                }, metrics);
                answered.Count.Inc();
                answered.Duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        }

        /// <summary>The method as a label: one of HTTP's own, else <c>other</c> (a client must not be able to grow the series).</summary>
        private static string MethodLabel(string method) =>
            HttpMethods.IsGet(method) ? HttpMethods.Get
            : HttpMethods.IsHead(method) ? HttpMethods.Head
            : HttpMethods.IsPost(method) ? HttpMethods.Post
            : HttpMethods.IsPut(method) ? HttpMethods.Put
            : HttpMethods.IsDelete(method) ? HttpMethods.Delete
            : HttpMethods.IsPatch(method) ? HttpMethods.Patch
            : HttpMethods.IsOptions(method) ? HttpMethods.Options
            : "other";
    }
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
