using Builder.Access.Oidc;
using Builder.Access.Provenance;
using Builder.Core.Access;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Access;

public static class AccessServiceCollectionExtensions
{
    /// <summary>The directory of the embedded default's Data Protection key ring, under <c>Builder:DataDir</c>.</summary>
    public const string KeyRingDirectory = "keys";

    /// <summary>
    /// Secrets at rest, for every process (web, worker, command line): ASP.NET Core Data Protection with one key ring per
    /// installation — files under the data directory in the embedded default, a table in PostgreSQL in production — so
    /// every process can decrypt what another encrypted. Call after <c>AddBuilderData</c> (the migration of old secrets
    /// runs after the schema is in place).
    /// </summary>
    public static IServiceCollection AddBuilderSecrets(this IServiceCollection services, IConfiguration configuration)
    {
        var protection = services.AddDataProtection().SetApplicationName("Builder");
        if (configuration.IsProductionMode())
        {
            services.AddOptions<KeyManagementOptions>().Configure<IServiceScopeFactory>((o, scopes) => o.XmlRepository = new DatabaseXmlRepository(scopes));
            services.AddHostedService<KeyRingInitializer>();
        }
        else
        {
            services.AddOptions<KeyManagementOptions>().Configure<IOptions<DataOptions>, ILoggerFactory>((o, data, loggers) =>
                o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(data.Value.FullDataDir, KeyRingDirectory)), loggers));
        }

        services.AddSingleton<RepositorySecrets>();
        services.AddSingleton<IRepositorySecrets>(sp => sp.GetRequiredService<RepositorySecrets>());
        services.AddSingleton<BuildCredentials>();
        services.AddSingleton<IBuildCredentialIssuer>(sp => sp.GetRequiredService<BuildCredentials>());
        services.AddHostedService<SecretsMigration>();
        services.AddBuilderOptions<ProvenanceOptions>(ProvenanceOptions.SectionName);
        services.AddSingleton<ProvenanceKeys>();
        return services;
    }

    /// <summary>
    /// Who may do what (web processes and the <c>token</c> command): tokens, people, credentials, the audit log. A host
    /// whose <c>Builder:Access:People</c> is <c>ldap</c> also adds a <see cref="IPeopleDirectory"/>.
    /// </summary>
    public static IServiceCollection AddBuilderAccess(this IServiceCollection services)
    {
        services.AddBuilderOptions<AccessOptions>(AccessOptions.SectionName);
        services.AddBuilderOptions<LdapOptions>(LdapOptions.SectionName);
        // Bound, not validated at start: the web host requires the admin token (Program.cs); the token command, the
        // bootstrap path of an installation without one, does not.
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName);
        services.AddSingleton<InstanceTag>();
        services.AddSingleton<AccessChanges>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<TokenUsage>();
        services.AddHostedService<TokenUsageWriter>();
        services.AddSingleton<PeopleService>();
        services.AddSingleton<CredentialVerifier>();
        services.AddSingleton<SessionService>();
        services.AddSingleton<FailedAuthLimiter>();
        services.AddScoped<TokenService>();
        services.AddBuilderOptions<OidcOptions>(OidcOptions.SectionName);
        services.AddHttpClient(IssuerKeys.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton<IssuerKeys>();
        services.AddSingleton<IdTokens>();
        services.AddScoped<TrustedPublishers>();
        return services;
    }

    /// <summary>For processes that verify credentials (web processes): notice access changes no notification brought.</summary>
    public static IServiceCollection AddBuilderAccessWatcher(this IServiceCollection services)
    {
        services.AddHostedService<AccessSerialWatcher>();
        return services;
    }
}
