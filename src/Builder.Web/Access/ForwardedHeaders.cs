using System.Net;
using Builder.Core.Access;

namespace Builder.Web.Access;

internal static class ForwardedHeaders
{
    /// <summary>
    /// X-Forwarded-For and X-Forwarded-Proto count only from <c>Builder:Access:KnownProxies</c>; from anyone else the
    /// connection's own address is the client's (so a client cannot pick the address its failures are counted under,
    /// or the one a token's ipRanges check). With no proxy configured, the headers are ignored altogether.
    /// </summary>
    public static IServiceCollection AddBuilderForwardedHeaders(this IServiceCollection services, IConfiguration configuration)
    {
        var proxies = configuration.GetSection(AccessOptions.SectionName).Get<AccessOptions>()?.KnownProxies ?? [];
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = proxies.Count == 0 ? Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.None
                : Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in proxies)
            {
                // Invalid entries stop the start with a message (AccessOptionsValidator); skip them here.
                if (IPAddress.TryParse(proxy, out var address))
                {
                    o.KnownProxies.Add(address);
                }
                else if (System.Net.IPNetwork.TryParse(proxy, out var network))
                {
                    o.KnownIPNetworks.Add(network);
                }
            }
        });
        return services;
    }
}
