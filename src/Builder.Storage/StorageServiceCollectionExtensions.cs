using Builder.Core.Builds;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Storage;

public static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddBuilderStorage(this IServiceCollection services)
    {
        services.AddSingleton<IArtifactStore, FileSystemArtifactStore>();
        return services;
    }
}
