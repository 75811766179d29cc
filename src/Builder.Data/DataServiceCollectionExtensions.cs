using Builder.Core.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Builder.Data;

public static class DataServiceCollectionExtensions
{
    /// <summary>The setting that chooses the database (and with it the job store and the process roles).</summary>
    public const string DatabaseSetting = "Builder:Database";

    /// <summary>
    /// The database provider, chosen explicitly by <c>Builder:Database</c>: <c>sqlite</c> (the default: the embedded
    /// default, one process) or <c>postgres</c> (production: <c>ConnectionStrings:Postgres</c>, shared by web replicas
    /// and workers). A connection string without the setting, or the setting without one, stops the start with a
    /// message saying which to set: the mode is never guessed from what happens to be configured.
    /// </summary>
    public static bool IsProductionMode(this IConfiguration configuration)
    {
        var provider = configuration[DatabaseSetting];
        var postgres = configuration.GetConnectionString("Postgres");
        switch (provider?.Trim().ToLowerInvariant())
        {
            case null or "" or "sqlite":
                if (!string.IsNullOrWhiteSpace(postgres))
                {
                    throw new InvalidOperationException(
                        "ConnectionStrings:Postgres is set but Builder:Database is not 'postgres': set Builder__Database=postgres to run in production mode on that database, or remove ConnectionStrings__Postgres for the embedded default (SQLite).");
                }

                return false;
            case "postgres":
                if (string.IsNullOrWhiteSpace(postgres))
                {
                    throw new InvalidOperationException(
                        "Builder:Database is 'postgres' but ConnectionStrings:Postgres is not set: set ConnectionStrings__Postgres (e.g. Host=db;Username=builder;Password=...;Database=builder).");
                }

                return true;
            default:
                throw new InvalidOperationException($"Builder:Database is '{provider}': use 'sqlite' (the embedded default) or 'postgres' (production).");
        }
    }

    /// <summary>
    /// PostgreSQL in production mode (<see cref="IsProductionMode"/>), else a SQLite file in the data directory:
    /// <see cref="BuilderDbContext"/> and its factory, and the schema brought up to date at start (<see cref="DatabaseMigrator"/>).
    /// </summary>
    public static IServiceCollection AddBuilderData(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddBuilderOptions<DataOptions>(DataOptions.SectionName);
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [HealthTags.Ready]);
        var postgres = configuration.IsProductionMode() ? configuration.GetConnectionString("Postgres") : null;
        if (!string.IsNullOrWhiteSpace(postgres))
        {
            AddContext<PostgresBuilderDbContext>(services, (_, options) => options.UseNpgsql(postgres));
        }
        else
        {
            AddContext<SqliteBuilderDbContext>(services, (sp, options) =>
            {
                var dataDir = sp.GetRequiredService<IOptions<DataOptions>>().Value.FullDataDir;
                Directory.CreateDirectory(dataDir);
                options.UseSqlite($"Data Source={Path.Combine(dataDir, "builder.db")};Default Timeout=60");
            });
        }

        services.AddHostedService<DatabaseMigrator>();
        services.AddSingleton<ChangeFeed>();
        if (!string.IsNullOrWhiteSpace(postgres))
        {
            services.AddSingleton(new PostgresConnectionString(postgres));
            services.AddSingleton<IChangeNotifier, PostgresChangeNotifier>();
        }
        else
        {
            services.AddSingleton<IChangeNotifier, LocalChangeNotifier>();
        }

        return services;
    }

    /// <summary>
    /// <see cref="BuilderDbContext"/> (scoped) and <see cref="IDbContextFactory{BuilderDbContext}"/>, both made as the
    /// provider's own context type <typeparamref name="TContext"/>, the type its migrations belong to.
    /// </summary>
    private static void AddContext<TContext>(IServiceCollection services, Action<IServiceProvider, DbContextOptionsBuilder> configure)
        where TContext : BuilderDbContext
    {
        services.AddDbContext<BuilderDbContext, TContext>(configure);
        // The factory's contexts take the configuration above; scoped, as the options are.
        services.AddDbContextFactory<TContext>(lifetime: ServiceLifetime.Scoped);
        services.AddScoped<IDbContextFactory<BuilderDbContext>, ProviderContextFactory<TContext>>();
    }

    private sealed class ProviderContextFactory<TContext>(IDbContextFactory<TContext> contexts) : IDbContextFactory<BuilderDbContext>
        where TContext : BuilderDbContext
    {
        public BuilderDbContext CreateDbContext() => contexts.CreateDbContext();
    }

    /// <summary>
    /// For processes that cache what other processes change (web processes: index pages, verified credentials): in
    /// production, listen to the other processes' changes, and check the change serial every
    /// <c>Builder:Changes:PollMilliseconds</c> so a dead listener connection costs a second or two, not correctness.
    /// The embedded default is one process and needs nothing.
    /// </summary>
    public static IServiceCollection AddBuilderChangeListener(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.IsProductionMode())
        {
            services.AddBuilderOptions<ChangeOptions>(ChangeOptions.SectionName);
            services.TryAddSingleton(TimeProvider.System);
            services.AddHostedService<PostgresChangeListener>();
        }

        return services;
    }
}
