using Builder.Core.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Builder.Pipeline;

/// <summary>A readiness check's answer: its name, <c>ready</c> or <c>not ready</c>, and what it found.</summary>
public sealed record HealthCheckAnswer(string Name, string Status, string? Detail);

/// <summary>The readiness answer: <c>status</c> <c>ready</c> (200) or <c>not ready</c> (503), and each check.</summary>
public sealed record ReadinessAnswer(string Status, string? Detail, IReadOnlyList<HealthCheckAnswer> Checks);

/// <summary>
/// <c>GET /healthz</c> (the process is alive: 200 whatever its dependencies do) and <c>GET /readyz</c> (the checks
/// tagged <see cref="HealthTags.Ready"/> that the host composed — database, storage, and on hosts that build, Docker —
/// pass: 200; else 503 naming what is not ready), for the web process and for workers alike. No credentials: a load
/// balancer or orchestrator asks them, and they name no project or secret.
/// </summary>
public static class HealthEndpoints
{
    public const string Live = "/healthz";
    public const string Ready = "/readyz";

    public static void MapBuilderHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet(Live, (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            return Results.Text("alive\n");
        });
        app.MapGet(Ready, async (HttpContext context, HealthCheckService health, CancellationToken cancellationToken) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            var report = await health.CheckHealthAsync(check => check.Tags.Contains(HealthTags.Ready), cancellationToken);
            var checks = report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal)
                .Select(e => new HealthCheckAnswer(e.Key, e.Value.Status == HealthStatus.Healthy ? "ready" : "not ready", e.Value.Description))
                .ToList();
            var failing = checks.Where(c => c.Status != "ready").ToList();
            return failing.Count == 0
                ? Results.Json(new ReadinessAnswer("ready", null, checks))
                : Results.Json(
                    new ReadinessAnswer("not ready", "not ready: " + string.Join("; ", failing.Select(c => $"{c.Name} {c.Detail}")), checks),
                    statusCode: StatusCodes.Status503ServiceUnavailable);
        });
    }
}
