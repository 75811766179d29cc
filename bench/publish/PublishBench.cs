// Compiled into a checkout's integration tests by bench/publish-bench.sh (not part of the suite): it measures one
// publication of a release of three 200 MiB wheels on moto, with the real part and publish jobs (LifecycleHost), in
// whatever Builder that checkout has. Only APIs both sides of the promotion change have are used.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Builder.Core.Builds;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Lifecycle;

namespace Builder.Tests.Integration.Bench;

public sealed class PublishBench
{
    private const int MiB = 1024 * 1024;

    [Fact]
    [Trait("Category", "Bench")]
    public async Task Publish_three_wheels_of_200_MiB_on_S3()
    {
        var output = Environment.GetEnvironmentVariable("BUILDER_BENCH_OUT") ?? throw new InvalidOperationException("BUILDER_BENCH_OUT is not set: run bench/publish-bench.sh");
        await using var s3 = await S3Server.StartAsync();
        await s3.CreateBucketAsync("bench");
        await using var proxy = await CountingProxy.StartAsync(new Uri(s3.Url).Port);
        var settings = s3.Settings("bench", "team/").ToDictionary(s => s.Key.Replace("__", ":", StringComparison.Ordinal), s => (string?)s.Value);
        settings["Builder:Storage:S3:ServiceUrl"] = $"http://127.0.0.1:{proxy.Port}";
        await using var host = await LifecycleHost.StartAsync(postgres: true, settings);
        var id = await host.QueueAsync(await host.RepositoryAsync("acme/bench"), "v1.0.0");
        var part = await host.PlannedPartAsync(id);

        await host.RunPartAsync(part.Id, new ThreeWheels());
        var (sentBefore, receivedBefore) = (proxy.Sent, proxy.Received);
        var logAt = s3.Log.Length;
        var clock = Stopwatch.StartNew();
        await host.PublishAsync(id);
        var seconds = clock.Elapsed.TotalSeconds;
        var build = await host.BuildAsync(id);
        Assert.True(build.State == BuildState.Succeeded, $"{build.State}: {build.Error}");
        var requests = s3.Log[logAt..].Split('\n');
        await File.AppendAllTextAsync(output, string.Create(CultureInfo.InvariantCulture,
            $"{seconds:F2}\t{(proxy.Sent - sentBefore) / (double)MiB:F1}\t{(proxy.Received - receivedBefore) / (double)MiB:F1}\t{requests.Count(l => l.Contains("\"GET ", StringComparison.Ordinal))}\t{requests.Count(l => l.Contains("\"PUT ", StringComparison.Ordinal))}\t{requests.Count(l => l.Contains("\"HEAD ", StringComparison.Ordinal))}\n"));
    }

    /// <summary>Three wheels of one release, 200 MiB of random payload each, told apart by their platform tags.</summary>
    private sealed class ThreeWheels : IWheelBuilder
    {
        public Task<WheelBuildResult> BuildAsync(WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(request.OutputDirectory);
            var paths = new List<string>();
            foreach (var tag in new[] { "cp39-cp39-linux_x86_64", "cp311-cp311-linux_x86_64", "cp312-cp312-linux_x86_64" })
            {
                var made = Distributions.Wheel(Directory.CreateDirectory(Path.Combine(request.OutputDirectory, tag)).FullName, "acme-bench", "1.0.0", payloadBytes: 200 * MiB);
                var path = Path.Combine(request.OutputDirectory, $"acme_bench-1.0.0-{tag}.whl");
                File.Move(made, path);
                paths.Add(path);
            }

            return Task.FromResult(new WheelBuildResult(true, null, paths.Select(p => new TargetResult(Path.GetFileName(p), true, TimeSpan.Zero, [Path.GetFileName(p)], null)).ToList(), paths));
        }
    }

    /// <summary>A loopback TCP proxy in front of the S3 server that counts the bytes each way.</summary>
    private sealed class CountingProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly int _target;
        private long _sent;
        private long _received;

        private CountingProxy(int target) => _target = target;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public long Sent => Interlocked.Read(ref _sent);

        public long Received => Interlocked.Read(ref _received);

        public static Task<CountingProxy> StartAsync(int target)
        {
            var proxy = new CountingProxy(target);
            proxy._listener.Start();
            _ = proxy.AcceptAsync();
            return Task.FromResult(proxy);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
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
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }

                var server = new TcpClient();
                await server.ConnectAsync(IPAddress.Loopback, _target);
                _ = PumpAsync(client.GetStream(), server.GetStream(), up: true);
                _ = PumpAsync(server.GetStream(), client.GetStream(), up: false);
            }
        }

        private async Task PumpAsync(NetworkStream from, NetworkStream to, bool up)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                int read;
                while ((read = await from.ReadAsync(buffer)) > 0)
                {
                    Interlocked.Add(ref up ? ref _sent : ref _received, read);
                    await to.WriteAsync(buffer.AsMemory(0, read));
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // One side went away.
            }

            to.Socket.Shutdown(SocketShutdown.Both);
        }
    }
}
