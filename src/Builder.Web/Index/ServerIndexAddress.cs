using Builder.Core.Builds;
using Builder.Core.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Builder.Web.Index;

/// <summary>
/// Where this process's builds reach its own index: <c>Builder:Build:IndexUrl</c> when set, else (the embedded default,
/// which serves the index and runs the builds) the address the server listens on, over loopback. So private packages
/// can build-depend on each other with no configuration at all.
/// </summary>
internal sealed class ServerIndexAddress(IServer server, IOptions<BuildOptions> options) : IIndexAddress
{
    public Uri? IndexUrl
    {
        get
        {
            if (!string.IsNullOrWhiteSpace(options.Value.IndexUrl))
            {
                return new Uri(options.Value.IndexUrl);
            }

            // Known once the server listens; builds start after that.
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            return addresses.Select(Loopback).OfType<Uri>().OrderBy(u => u.Scheme == Uri.UriSchemeHttp ? 0 : 1).FirstOrDefault();
        }
    }

    /// <summary>
    /// A listening address as a URL this host can call: wildcards ("+", "*", "0.0.0.0", "[::]") become 127.0.0.1
    /// (Kestrel binds them dual-mode, so IPv4 loopback answers); null for what is not an http(s) URL.
    /// </summary>
    internal static Uri? Loopback(string address)
    {
        var normalized = address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return null;
        }

        return uri.Host is "0.0.0.0" or "[::]" or "::"
            ? new UriBuilder(uri) { Host = "127.0.0.1" }.Uri
            : uri;
    }
}
