using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Builder.Docker;

/// <summary>Ready when the Docker engine builds run on answers its ping.</summary>
internal sealed class DockerHealthCheck(IDockerClientFactory clients) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var client = clients.Create();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await client.System.PingAsync(timeout.Token);
            return HealthCheckResult.Healthy("answers");
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy(ex is OperationCanceledException
                ? $"does not answer within {Timeout.TotalSeconds:0} s"
                : $"does not answer: {ex.GetBaseException().Message}");
        }
    }
}
