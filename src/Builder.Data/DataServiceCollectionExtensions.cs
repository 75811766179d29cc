using Builder.Core.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Builder.Data;

public static class DataServiceCollectionExtensions
{
    /// <summary>True when <c>ConnectionStrings:Postgres</c> is set: production mode.</summary>
    public static bool IsProductionMode(this IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString("Postgres"));

    /// <summary>PostgreSQL when <c>ConnectionStrings:Postgres</c> is set, else a SQLite file in the data directory.</summary>
    public static IServiceCollection AddBuilderData(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DataOptions>().BindConfiguration(DataOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var postgres = configuration.GetConnectionString("Postgres");
        services.AddDbContext<BuilderDbContext>((sp, options) =>
        {
            if (!string.IsNullOrWhiteSpace(postgres))
            {
                options.UseNpgsql(postgres);
                return;
            }

            var dataDir = sp.GetRequiredService<IOptions<DataOptions>>().Value.FullDataDir;
            Directory.CreateDirectory(dataDir);
            options.UseSqlite($"Data Source={Path.Combine(dataDir, "builder.db")};Default Timeout=60");
        });
        services.AddHostedService<DatabaseInitializer>();
        services.AddSingleton<ChangeFeed>();
        services.AddSingleton<PublishLock>();
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
    /// For processes that cache what other processes change (web processes: index pages, verified credentials): in
    /// production, listen to the other processes' changes. The embedded default is one process and needs nothing.
    /// </summary>
    public static IServiceCollection AddBuilderChangeListener(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.IsProductionMode())
        {
            services.AddHostedService<PostgresChangeListener>();
        }

        return services;
    }
}
