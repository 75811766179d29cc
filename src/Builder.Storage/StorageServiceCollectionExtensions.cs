using Builder.Core.Builds;
using Builder.Core.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Builder.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>The artifact store <c>Builder:Storage:Provider</c> names (the layout over it is the index's: <c>AddBuilderIndex</c>).</summary>
    public static IServiceCollection AddBuilderStorage(this IServiceCollection services)
    {
        services.AddBuilderOptions<StorageOptions>(StorageOptions.SectionName);
        services.AddSingleton<IArtifactStore>(sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.Provider switch
        {
            StorageOptions.S3Provider => ActivatorUtilities.CreateInstance<S3ArtifactStore>(sp),
            _ => ActivatorUtilities.CreateInstance<FileSystemArtifactStore>(sp),
        });
        services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: [HealthTags.Ready]);
        return services;
    }
}
