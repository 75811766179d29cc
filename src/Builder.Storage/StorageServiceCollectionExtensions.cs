using Builder.Core.Builds;
using Builder.Core.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Storage;

public static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddBuilderStorage(this IServiceCollection services)
    {
        services.AddSingleton<IArtifactStore, FileSystemArtifactStore>();
        services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: [HealthTags.Ready]);
        return services;
    }
}
