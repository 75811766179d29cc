using System.Net;
using System.Net.Sockets;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>Ports for the servers tests start on 127.0.0.1.</summary>
internal static class LoopbackPorts
{
    /// <summary>A port nothing listens on right now (the system's choice of a free one).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
