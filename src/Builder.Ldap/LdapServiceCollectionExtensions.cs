using Builder.Core.Access;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Ldap;

public static class LdapServiceCollectionExtensions
{
    /// <summary>People from an LDAP / Active Directory server (<c>Builder:Access:Ldap</c>).</summary>
    public static IServiceCollection AddBuilderLdap(this IServiceCollection services)
    {
        services.AddSingleton<IPeopleDirectory, LdapPeopleDirectory>();
        return services;
    }
}
