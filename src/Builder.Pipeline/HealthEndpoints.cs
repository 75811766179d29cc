using System.Globalization;
using Builder.Core.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

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

    /// <summary>How long <c>/readyz</c> waits for each check: it answers within about this, whatever hangs.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(4);

    public static void MapBuilderHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet(Live, (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            return Results.Text("alive\n");
        });
        app.MapGet(Ready, async (HttpContext context, IOptions<HealthCheckServiceOptions> options, IServiceScopeFactory scopes, CancellationToken cancellationToken) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            var registrations = options.Value.Registrations.Where(r => r.Tags.Contains(HealthTags.Ready)).OrderBy(r => r.Name, StringComparer.Ordinal);
            var checks = await Task.WhenAll(registrations.Select(r => CheckAsync(r, scopes, cancellationToken)));
            var failing = checks.Where(c => c.Status != "ready").ToList();
            return failing.Count == 0
                ? Results.Json(new ReadinessAnswer("ready", null, checks))
                : Results.Json(
                    new ReadinessAnswer("not ready", "not ready: " + string.Join("; ", failing.Select(c => $"{c.Name} {c.Detail}")), checks),
                    statusCode: StatusCodes.Status503ServiceUnavailable);
        });
    }

    /// <summary>
    /// Runs one check for at most <see cref="CheckTimeout"/>: a dependency that hangs (a frozen connection, a server that
    /// accepts and never answers) is "not ready" and named, instead of holding the answer until its client gives up. A
    /// check that ignores its cancellation is left to finish on its own; the answer does not wait for it.
    /// </summary>
    private static async Task<HealthCheckAnswer> CheckAsync(HealthCheckRegistration registration, IServiceScopeFactory scopes, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CheckTimeout);
        var scope = scopes.CreateAsyncScope();
        var check = Task.Run(
            () => registration.Factory(scope.ServiceProvider).CheckHealthAsync(new HealthCheckContext { Registration = registration }, deadline.Token),
            CancellationToken.None);
        // The scope goes when the check is done, however long that takes.
        _ = check.ContinueWith(_ => scope.DisposeAsync().AsTask(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        try
        {
            var result = await check.WaitAsync(deadline.Token);
            return new HealthCheckAnswer(registration.Name, result.Status == HealthStatus.Healthy ? "ready" : "not ready", result.Description);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckAnswer(registration.Name, "not ready",
                string.Create(CultureInfo.InvariantCulture, $"did not answer within {CheckTimeout.TotalSeconds:0} s"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new HealthCheckAnswer(registration.Name, "not ready", ex.Message);
        }
    }
}
