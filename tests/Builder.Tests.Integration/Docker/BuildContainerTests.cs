using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Docker;

/// <summary>Build containers treat the project's code as untrusted: a wall clock, a memory limit, no network, always removed.</summary>
[DockerBuild]
public sealed class BuildContainerTests
{
    [Fact]
    public async Task A_build_that_outlives_its_wall_clock_is_killed_and_fails_with_the_configured_timeout()
    {
        using var harness = new DockerHarness(o => o.TimeoutSeconds = 10);

        var result = await harness.BuildAsync(ContainerProjects.WithSetupPrelude("sleepy",
            "import time\nprint('SLEEPING-NOW', flush=True)\ntime.sleep(120)"));

        Assert.False(result.Succeeded);
        Assert.StartsWith("x86_64 sdist: timed out after 10 s", result.Error, StringComparison.Ordinal);
        // The error carries the failing step's last output.
        Assert.Contains("SLEEPING-NOW", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Files);
        var target = Assert.Single(result.Targets);
        Assert.Equal("sdist", target.Name);
        Assert.False(target.Succeeded);
        Assert.Empty(await harness.OwnedContainersAsync());
    }

    [Fact]
    public async Task A_build_the_kernel_kills_for_memory_fails_with_out_of_memory_and_the_limit()
    {
        using var harness = new DockerHarness(o => o.MemoryMiB = 256);

        // bytes, not bytearray: a zero-filled allocation is only reserved, while this one is written and really used.
        var result = await harness.BuildAsync(ContainerProjects.WithSetupPrelude("hungry",
            "print('ALLOCATING', flush=True)\ndata = b'x' * (1 << 30)\nprint('ALLOCATED', len(data), flush=True)"));

        Assert.False(result.Succeeded);
        Assert.StartsWith("x86_64 sdist: out of memory (256 MiB)", result.Error, StringComparison.Ordinal);
        Assert.Contains("ALLOCATING", harness.Log.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("ALLOCATED", harness.Log.Text, StringComparison.Ordinal);
        Assert.Empty(result.Files);
        Assert.Empty(await harness.OwnedContainersAsync());
    }

    [Fact]
    public async Task A_build_cannot_reach_a_listener_on_the_hosts_docker_bridge()
    {
        using var bridge = new BridgeListener();
        using var harness = new DockerHarness();

        var result = await harness.BuildAsync(ContainerProjects.WithSetupPrelude("curious", bridge.Probe));

        Assert.True(result.Succeeded, result.Error);
        Assert.Contains("NETWORK-PROBE failed: OSError(101, 'Network is unreachable')", harness.Log.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("NETWORK-PROBE connected", harness.Log.Text, StringComparison.Ordinal);
        await bridge.AssertNeverReachedAsync();
        Assert.Empty(await harness.OwnedContainersAsync());
    }

    [Fact]
    public async Task With_the_relay_a_build_reads_the_index_but_cannot_upload_call_the_api_or_reach_the_bridge()
    {
        using var bridge = new BridgeListener();
        await using var index = await StandInIndex.StartAsync();
        using var harness = new DockerHarness();
        harness.IndexUrl = index.Url;

        // Runs in the sdist step's hook, a child of the driver: it sees the pip settings the driver set for the relay.
        var result = await harness.BuildAsync(ContainerProjects.WithSetupPrelude("curious", """
            import os, urllib.error, urllib.request
            base = os.environ["PIP_INDEX_URL"][:-len("/simple/")]
            def probe(method, path, data=None):
                request = urllib.request.Request(base + path, data=data, method=method,
                                                 headers={"Authorization": "Bearer from-the-build"})
                try:
                    with urllib.request.urlopen(request, timeout=10) as r:
                        status, body = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, body = e.code, e.read()
                print("RELAY-PROBE %s %s -> %d %s" % (method, path, status, body.decode().strip()), flush=True)
            probe("GET", "/simple/")
            probe("POST", "/legacy/", b":action=file_upload")
            probe("GET", "/api/builds/1")
            """ + "\n" + bridge.Probe));

        Assert.True(result.Succeeded, result.Error);
        var log = harness.Log.Text;
        Assert.Contains("[x86_64] [setup] build requirements from Builder's index via the relay", log, StringComparison.Ordinal);
        Assert.Contains("RELAY-PROBE GET /simple/ -> 200 <a href=\"acme-helper/\">acme-helper</a>", log, StringComparison.Ordinal);
        Assert.Contains("RELAY-PROBE POST /legacy/ -> 403 Builder's index relay allows only GET and HEAD, not POST", log, StringComparison.Ordinal);
        Assert.Contains("RELAY-PROBE GET /api/builds/1 -> 403 Builder's index relay allows only the index's read routes", log, StringComparison.Ordinal);
        Assert.Contains("[x86_64] [relay] refused POST /legacy/", log, StringComparison.Ordinal);
        Assert.Contains("NETWORK-PROBE failed: OSError(101, 'Network is unreachable')", log, StringComparison.Ordinal);
        Assert.DoesNotContain("NETWORK-PROBE connected", log, StringComparison.Ordinal);
        await bridge.AssertNeverReachedAsync();

        // Only reads reached the index (pip asked it for setuptools and wheel too, and took them from the wheelhouse
        // after its 404), each with the build's own credentials (the relay's), never with anything from the container.
        var auth = "auth=Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"__build__:credential-of-build-{harness.BuildId}"));
        Assert.Contains($"GET /simple/ {auth} cookie=", index.Reached);
        Assert.All(index.Reached, line => Assert.Matches($"^GET /simple/[a-z-]*/? {System.Text.RegularExpressions.Regex.Escape(auth)} cookie=$", line));
        Assert.Empty(await harness.OwnedContainersAsync());
        Assert.Empty(Directory.EnumerateFileSystemEntries(harness.Options.EffectiveRelayDir));
    }

    /// <summary>
    /// A listener of the test's own on docker0's IPv4 address, where a build container with a network would reach this
    /// host; <see cref="Probe"/> is Python that tries to connect to it and prints the outcome.
    /// </summary>
    private sealed class BridgeListener : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<TcpClient> _accept;

        public BridgeListener()
        {
            var docker0 = NetworkInterface.GetAllNetworkInterfaces().SingleOrDefault(n => n.Name == "docker0")
                ?? throw new InvalidOperationException("no docker0 interface: is the Docker engine running with its default bridge?");
            var address = docker0.GetIPProperties().UnicastAddresses.Select(a => a.Address).First(a => a.AddressFamily == AddressFamily.InterNetwork);
            _listener = new TcpListener(address, 0);
            _listener.Start();
            var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _accept = _listener.AcceptTcpClientAsync(_stop.Token).AsTask();
            Probe = $$"""
                import socket
                try:
                    socket.create_connection(("{{address}}", {{port}}), timeout=5).close()
                    print("NETWORK-PROBE connected", flush=True)
                except OSError as e:
                    print("NETWORK-PROBE failed: %r" % (e,), flush=True)
                """;
        }

        public string Probe { get; }

        public async Task AssertNeverReachedAsync()
        {
            Assert.False(_accept.IsCompleted, "the listener accepted a connection from the build");
            await _stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _accept);
        }

        public void Dispose()
        {
            _stop.Dispose();
            _listener.Dispose();
        }
    }
}
