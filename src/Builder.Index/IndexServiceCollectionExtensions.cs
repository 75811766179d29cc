using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Index.Upstream;

namespace Builder.Index;

public static class IndexServiceCollectionExtensions
{
    /// <summary>
    /// The index's writer, for every process that publishes or stages (web and worker alike): the storage layout
    /// (<see cref="PackageArtifacts"/>, over the <see cref="IArtifactStore"/> the host composes), the per-project publish
    /// lock, publication, and the "project changed" signal to every process that serves the index.
    /// </summary>
    public static IServiceCollection AddBuilderIndex(this IServiceCollection services)
    {
        services.AddSingleton<PackageArtifacts>();
        services.AddSingleton<PublishLock>();
        services.AddSingleton<IIndexChangeNotifier, IndexChangeNotifier>();
        services.AddScoped<ReleasePublisher>();
        return services;
    }

    /// <summary>
    /// The index's read model, for a process that serves it: the page and file caches (warmed at start) and the upstream
    /// proxy (<c>Builder:Upstream</c>; with no <c>Url</c> it answers and asks nothing).
    /// </summary>
    public static IServiceCollection AddBuilderIndexReadModel(this IServiceCollection services)
    {
        services.AddBuilderOptions<IndexOptions>(IndexOptions.SectionName);
        services.AddSingleton<IndexCache>();
        services.AddSingleton<FileContentCache>();
        services.AddHostedService<IndexWarmer>();
        services.AddBuilderOptions<UpstreamOptions>(UpstreamOptions.SectionName);
        services.AddSingleton<UpstreamClient>();
        services.AddSingleton<UpstreamPages>();
        services.AddSingleton<UpstreamGuard>();
        services.AddSingleton<UpstreamProxy>();
        return services;
    }
}
