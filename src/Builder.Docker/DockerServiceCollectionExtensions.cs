using Builder.Core.Builds;
using Builder.Core.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Builder.Docker;

public static class DockerServiceCollectionExtensions
{
    public static IServiceCollection AddBuilderDocker(this IServiceCollection services)
    {
        services.AddSingleton<IDockerClientFactory, DockerClientFactory>();
        services.AddSingleton<IWheelBuilder, DockerWheelBuilder>();
        services.AddHealthChecks().AddCheck<DockerHealthCheck>("docker", tags: [HealthTags.Ready]);
        // The embedded web host registers its own (its listening address when the setting is empty).
        services.TryAddSingleton<IIndexAddress, ConfiguredIndexAddress>();
        services.TryAddSingleton(TimeProvider.System);
        // Before the job server (registered after this): leftovers of a crashed predecessor go before new builds start.
        services.AddHostedService<BuildContainerSweeper>();
        return services;
    }
}
