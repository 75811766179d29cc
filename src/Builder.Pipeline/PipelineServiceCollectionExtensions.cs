using Builder.Access;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Core.Forges;
using Builder.Data;
using Builder.Index;
using Builder.Storage;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Builder.Pipeline;

public enum JobRole
{
    /// <summary>Enqueues builds only (the production web process).</summary>
    Client,

    /// <summary>Runs builds (the worker, and the embedded default's single process).</summary>
    Server,
}

public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Everything a process needs to record, enqueue and (as <see cref="JobRole.Server"/>, with the source fetcher and
    /// wheel builder its host adds first) run builds. Production mode
    /// (<c>Builder:Database</c> = <c>postgres</c>) keeps jobs in PostgreSQL; the embedded default keeps them in memory and
    /// re-enqueues unfinished builds from the database at start.
    /// </summary>
    public static IServiceCollection AddBuilderPipeline(this IServiceCollection services, IConfiguration configuration, JobRole role)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddBuilderData(configuration);
        services.AddBuilderSecrets(configuration);
        services.AddBuilderStorage();
        services.AddBuilderIndex();
        services.AddBuilderOptions<BuildOptions>(BuildOptions.SectionName);
        services.AddBuilderOptions<JobOptions>(JobOptions.SectionName);
        var jobOptions = configuration.GetSection(JobOptions.SectionName).Get<JobOptions>() ?? new JobOptions();

        var production = configuration.IsProductionMode();
        var postgres = production ? configuration.GetConnectionString("Postgres") : null;
        services.AddHangfire(config =>
        {
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            if (production)
            {
                config.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(postgres), new PostgreSqlStorageOptions
                {
                    // Sliding: the worker running a job keeps it invisible to the others however long it builds; a job
                    // whose worker vanished is visible again after the lease timeout, when its part's lease has expired too
                    // (the watchdog queues the part again as well: whichever run comes first takes the lease).
                    InvisibilityTimeout = jobOptions.LeaseTimeout,
                    UseSlidingInvisibilityTimeout = true,
                    QueuePollInterval = TimeSpan.FromSeconds(1),
                });
            }
            else
            {
                config.UseInMemoryStorage();
            }
        });
        services.AddHostedService<JobStorageOpener>();
        services.AddSingleton<IBuildDispatcher, HangfireBuildDispatcher>();
        services.AddScoped<ReleaseLifecycle>();
        services.AddScoped<IBuildPublication>(sp => sp.GetRequiredService<ReleaseLifecycle>());
        // The lifecycle's outbox is delivered by every process that composes the pipeline (web and worker alike).
        // Reports to the forges: written from the events here, sent by the reporter with the clients the host composes (AddBuilderForges).
        services.AddScoped<IBuildEventSubscriber, ForgeReportSubscriber>();
        services.AddScoped<IBuildEventSubscriber, BuildEventLog>();
        services.AddBuilderOptions<ForgeOptions>(ForgeOptions.SectionName);
        // Which addresses a repository may name, asked at registration and before every clone and forge call.
        services.AddBuilderOptions<RepositoryOptions>(RepositoryOptions.SectionName);
        services.TryAddSingleton<IHostNameResolver, DnsHostNameResolver>();
        services.AddSingleton<RepositoryAddresses>();
        services.AddBuilderOptions<PublicUrlOptions>(PublicUrlOptions.SectionName);
        services.AddSingleton<ForgeReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<ForgeReporter>());
        services.AddSingleton<BuildEventDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<BuildEventDispatcher>());
        // GET /metrics (each host maps it): the series, their scrape-time readings, and durations from the events.
        services.AddSingleton<BuilderMetrics>();
        services.AddSingleton<IIndexMetrics>(sp => sp.GetRequiredService<BuilderMetrics>());
        services.AddScoped<IBuildEventSubscriber, DurationSubscriber>();
        services.AddBuilderOptions<MetricsOptions>(MetricsOptions.SectionName);
        services.AddSingleton<ReleaseProvenance>();

        if (role == JobRole.Server)
        {
            // The host composes what builds need (ISourceFetcher, IWheelBuilder: AddBuilderGit, AddBuilderDocker) before
            // this, so Docker's startup sweep runs before the job server takes a job.
            services.AddScoped<BuildSource>();
            services.AddScoped<BuildJob>();
            services.AddScoped<BuildPartJob>();
            services.AddScoped<PublishReleaseJob>();
            services.AddHostedService(sp => ActivatorUtilities.CreateInstance<LeaseWatchdog>(sp, !production));

            var workers = configuration.GetValue("Builder:Jobs:WorkerCount", 2);
            var queues = JobQueues(configuration, production);
            services.AddHangfireServer(o =>
            {
                o.WorkerCount = Math.Max(1, workers);
                o.Queues = queues;
            });
        }

        return services;
    }

    /// <summary>
    /// The queues a worker takes: planning, and the targets of each architecture in <c>Builder:Jobs:Architectures</c>.
    /// Its default: in production, the architectures builds are planned for (<c>Builder:Build:Architectures</c>); a
    /// worker on a native arm64 host sets it to aarch64, an x86_64 worker with QEMU can take both. In the embedded
    /// default the one process is the only builder, so it takes every architecture that has an image: a project whose
    /// <c>archs</c> widens the matrix is built (or fails with a message), never left waiting for a worker.
    /// </summary>
    internal static string[] JobQueues(IConfiguration configuration, bool production)
    {
        var architectures = configuration.GetSection("Builder:Jobs:Architectures").Get<string[]>();
        if (architectures is not { Length: > 0 })
        {
            // Unknown names in Builder:Build:Architectures are reported by its own validation, with that key's name.
            var build = configuration.GetSection(BuildOptions.SectionName).Get<BuildOptions>() ?? new BuildOptions();
            var defaults = production
                ? build.EffectiveArchitectures.Where(BuildOptions.KnownArchitectures.Contains)
                : BuildOptions.KnownArchitectures.Where(a => build.Images.TryGetValue(a, out var image) && !string.IsNullOrWhiteSpace(image));
            return [BuildQueues.Plan, .. defaults.Distinct(StringComparer.Ordinal).Select(BuildQueues.ForArchitecture)];
        }

        var unknown = architectures.Where(a => !BuildOptions.KnownArchitectures.Contains(a)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"Builder:Jobs:Architectures names {string.Join(", ", unknown)}; known architectures are {string.Join(", ", BuildOptions.KnownArchitectures)}.");
        }

        return [BuildQueues.Plan, .. architectures.Distinct(StringComparer.Ordinal).Select(BuildQueues.ForArchitecture)];
    }
}
