using System.Net;
using System.Net.Sockets;

namespace Builder.Core.Forges;

/// <summary>What a host name resolves to now, for <see cref="RepositoryAddresses"/>'s check before a forge action.</summary>
public interface IHostNameResolver
{
    /// <summary>The name's addresses; a <see cref="SocketException"/> when it has none.</summary>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>
/// The system's resolver, except for names under <c>.invalid</c>, which never resolve (RFC 6761 §6.4: resolvers should
/// answer them at once without asking a name server).
/// </summary>
public sealed class DnsHostNameResolver : IHostNameResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var name = host.TrimEnd('.');
        if (name.Equals("invalid", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".invalid", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
        }

        return Dns.GetHostAddressesAsync(host, cancellationToken);
    }
}
