using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// A TCP proxy on loopback (in front of PostgreSQL) whose connections a test can freeze: a frozen connection stays open
/// at both ends but no byte crosses it any more, in either direction — a connection that died silently (half-open
/// TCP, a proxy or firewall that dropped it), which neither end notices. Connections are told apart by what the
/// client sent first (PostgreSQL's startup message, in plain text with SSL off, names the application_name). It also
/// counts the bytes clients sent through it (in front of an S3 server: what was uploaded).
/// </summary>
public sealed class FreezableTcpProxy : IAsyncDisposable
{
    private const int HeadBytes = 4096;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly List<Link> _links = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _bytesFromClients;

    private FreezableTcpProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static FreezableTcpProxy Start(string targetHost, int targetPort) => new(targetHost, targetPort);

    /// <summary>Every byte clients sent through the proxy so far (requests, headers and bodies).</summary>
    public long BytesFromClients => Interlocked.Read(ref _bytesFromClients);

    /// <summary>Connections ever made whose client's first bytes contained <paramref name="marker"/>.</summary>
    public int Connections(string marker)
    {
        lock (_gate)
        {
            return _links.Count(l => l.Sent(marker));
        }
    }

    /// <summary>Freezes the open connections whose client's first bytes contained <paramref name="marker"/>; how many.</summary>
    public int Freeze(string marker)
    {
        lock (_gate)
        {
            var frozen = 0;
            foreach (var link in _links.Where(l => l.Open && l.Sent(marker)))
            {
                link.Frozen = true;
                frozen++;
            }

            return frozen;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_gate)
        {
            foreach (var link in _links)
            {
                link.Close();
            }
        }

        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
            {
                return;
            }

            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            var link = new Link(client, server);
            lock (_gate)
            {
                _links.Add(link);
            }

            _ = PumpAsync(link, client.GetStream(), server.GetStream(), fromClient: true);
            _ = PumpAsync(link, server.GetStream(), client.GetStream(), fromClient: false);
        }
    }

    private async Task PumpAsync(Link link, NetworkStream from, NetworkStream to, bool fromClient)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer);
                if (read == 0)
                {
                    break;
                }

                if (fromClient)
                {
                    link.Record(buffer.AsSpan(0, read));
                    Interlocked.Add(ref _bytesFromClients, read);
                }

                // Frozen: what arrives is dropped, as on a dead path; nothing is closed, so neither end learns of it.
                if (!link.Frozen)
                {
                    await to.WriteAsync(buffer.AsMemory(0, read));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // The other side went away.
        }

        link.Close();
    }

    private sealed class Link(TcpClient client, TcpClient server)
    {
        private readonly byte[] _head = new byte[HeadBytes];
        private int _headLength;
        private readonly Lock _gate = new();
        private bool _closed;

        public volatile bool Frozen;

        public bool Open
        {
            get
            {
                lock (_gate)
                {
                    return !_closed;
                }
            }
        }

        public void Record(ReadOnlySpan<byte> bytes)
        {
            lock (_gate)
            {
                var taken = Math.Min(bytes.Length, HeadBytes - _headLength);
                bytes[..taken].CopyTo(_head.AsSpan(_headLength));
                _headLength += taken;
            }
        }

        public bool Sent(string marker)
        {
            lock (_gate)
            {
                return Encoding.ASCII.GetString(_head, 0, _headLength).Contains(marker, StringComparison.Ordinal);
            }
        }

        public void Close()
        {
            lock (_gate)
            {
                if (_closed)
                {
                    return;
                }

                _closed = true;
            }

            client.Dispose();
            server.Dispose();
        }
    }
}
