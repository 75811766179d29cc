using Builder.Core.Access;
using Builder.Core.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Builder.Tests.Unit;

/// <summary>AddBuilderOptions, the one way a host registers a section: bound from configuration and checked by both rules.</summary>
public sealed class OptionsRegistrationTests
{
    private static T Resolve<T>(string section, Dictionary<string, string?> settings)
        where T : class
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddBuilderOptions<T>(section);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<T>>().Value;
    }

    [Fact]
    public void A_section_is_bound_from_configuration()
    {
        var options = Resolve<AccessOptions>(AccessOptions.SectionName, new() { ["Builder:Access:FailedAuthLimit"] = "7", ["Builder:Access:KnownProxies:0"] = "10.0.0.0/8" });

        Assert.Equal(7, options.FailedAuthLimit);
        Assert.Equal(["10.0.0.0/8"], options.KnownProxies);
    }

    [Fact]
    public void Annotations_and_problems_are_both_checked_and_every_bad_key_is_named()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve<AccessOptions>(AccessOptions.SectionName, new()
        {
            ["Builder:Access:FailedAuthLimit"] = "0",
            ["Builder:Access:KnownProxies:0"] = "not-an-address",
            ["Builder:Access:People"] = "ldap",
            ["Builder:Access:Ldap:Url"] = "http://ldap.example",
        }));

        Assert.Contains(ex.Failures, f => f.Contains("Builder:Access:FailedAuthLimit must be between 1 and 1000000", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Builder:Access:KnownProxies names 'not-an-address'", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("Builder:Access:Ldap:Url must be an ldap:// or ldaps:// URL", StringComparison.Ordinal));
    }

    [Fact]
    public void A_section_of_its_own_is_checked_too()
    {
        // Builder:Access:Ldap is registered on its own as well: its ranges hold there, not only as a part of Builder:Access.
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve<LdapOptions>(LdapOptions.SectionName, new() { ["Builder:Access:Ldap:TimeoutSeconds"] = "0" }));

        Assert.Contains(ex.Failures, f => f.Contains("Builder:Access:Ldap:TimeoutSeconds must be between 1 and 600", StringComparison.Ordinal));
    }
}
