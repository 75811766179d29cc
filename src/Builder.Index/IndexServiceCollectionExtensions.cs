using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Data;
using Builder.Index.Collection;
using Builder.Index.Retention;
using Builder.Index.Upstream;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Builder.Index;

public static class IndexServiceCollectionExtensions
{
    /// <summary>
    /// The index's writer, for every process that publishes or stages (web, worker, the import command): the storage
    /// layout (<see cref="PackageArtifacts"/>, over the <see cref="IArtifactStore"/> the host composes), the per-project
    /// publish lock, publication, the projects' quotas (<see cref="ProjectQuotas"/>), and the "project changed" signal to every process that serves the index. A host that
    /// runs no builds and serves no metrics (the import command) needs nothing else: its seams default to "no builds
    /// here" and "nothing counted"; the pipeline registers the real ones.
    /// </summary>
    public static IServiceCollection AddBuilderIndex(this IServiceCollection services)
    {
        services.TryAddSingleton<IIndexMetrics, UncountedIndex>();
        services.TryAddScoped<IBuildPublication, NoBuilds>();
        services.AddSingleton<PackageArtifacts>();
        services.AddSingleton<PublishLock>();
        services.AddSingleton<ProjectChanges>();
        services.AddBuilderOptions<ProjectQuotaOptions>(ProjectQuotaOptions.SectionName);
        services.AddScoped<ProjectQuotas>();
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
        services.AddSingleton<UpstreamReads>();
        services.AddSingleton<UpstreamClient>();
        services.AddSingleton<UpstreamPages>();
        services.AddSingleton<UpstreamGuard>();
        services.AddSingleton<UpstreamProxy>();
        return services;
    }

    /// <summary>
    /// Garbage collection of the artifact store (<see cref="StorageCollector"/>), for the process that serves the index and
    /// its admin routes (after <see cref="AddBuilderIndexReadModel"/>): on request, and on its schedule
    /// (<c>Builder:Storage:GcHours</c>) in one process at a time.
    /// </summary>
    public static IServiceCollection AddStorageCollection(this IServiceCollection services)
    {
        services.AddBuilderOptions<StorageGcOptions>(StorageGcOptions.SectionName);
        services.AddSingleton<StorageGcLock>();
        services.AddScoped<StorageCollector>();
        services.AddHostedService<StorageGcSchedule>();
        return services;
    }

    /// <summary>
    /// Admin changes to published files (<see cref="ReleaseAdmin"/>: yank, unyank, delete) and retention policies, run on
    /// request and on their schedule (<c>Builder:Retention</c>), for the process that serves the admin routes.
    /// </summary>
    public static IServiceCollection AddBuilderReleaseAdmin(this IServiceCollection services)
    {
        services.AddScoped<ReleaseAdmin>();
        services.AddBuilderOptions<RetentionOptions>(RetentionOptions.SectionName);
        services.AddSingleton<RetentionLock>();
        services.AddScoped<RetentionPolicies>();
        services.AddHostedService<RetentionSchedule>();
        return services;
    }

    /// <summary>A host without a metrics endpoint counts nothing.</summary>
    private sealed class UncountedIndex : IIndexMetrics
    {
        public void CountPublish(PublishOutcome outcome)
        {
        }

        public void CountPublishConflict()
        {
        }

        public void CountUpstreamRequest(string kind, string outcome)
        {
        }

        public void CountCacheLookup(string cache, bool hit)
        {
        }
    }

    /// <summary>A host that runs no builds publishes none: only uploads and imports (no build id) reach its publisher.</summary>
    private sealed class NoBuilds : IBuildPublication
    {
        public Task<bool> PublishedAsync(BuilderDbContext db, long buildId, string project, IReadOnlyList<string> files, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"build {buildId} cannot be published by a process that runs no builds");
    }
}
