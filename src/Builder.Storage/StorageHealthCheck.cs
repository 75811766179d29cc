using Builder.Core.Builds;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Builder.Storage;

/// <summary>Ready when the artifact store can take a write (the store says what is wrong otherwise).</summary>
internal sealed class StorageHealthCheck(IArtifactStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await store.ReadinessProblemAsync(cancellationToken) is { } problem
            ? HealthCheckResult.Unhealthy(problem)
            : HealthCheckResult.Healthy("writable");
}
