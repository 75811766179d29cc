using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>One sample of an instant query: the series' labels (with <c>__name__</c>) and its value.</summary>
internal sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c>, from scripts/ensure-deps.sh; missing, the test fails) on a free
/// loopback port, with its own configuration and storage in a temp dir, scraping one target every second. Disposal
/// kills it and deletes the directory.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private const string Binary = "/usr/bin/prometheus";

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http;

    private PrometheusServer(string directory, int port, Process process)
    {
        Directory = directory;
        Url = $"http://127.0.0.1:{port}";
        _process = process;
        _http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string Directory { get; }

    public string Url { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts Prometheus scraping <paramref name="target"/> (host:port) at <c>/metrics</c>, with a bearer token when given.</summary>
    public static async Task<PrometheusServer> StartAsync(string target, string? bearerToken)
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: scripts/ensure-deps.sh installs Debian's prometheus package");
        var directory = TestPaths.NewTempDirectory("prometheus");
        var config = Path.Combine(directory, "prometheus.yml");
        var yaml = new StringBuilder()
            .AppendLine("global:")
            .AppendLine("  scrape_interval: 1s")
            .AppendLine("  scrape_timeout: 1s")
            .AppendLine("scrape_configs:")
            .AppendLine("  - job_name: builder")
            .AppendLine("    metrics_path: /metrics");
        if (bearerToken is not null)
        {
            yaml.AppendLine("    authorization:").AppendLine("      type: Bearer").AppendLine($"      credentials: \"{bearerToken}\"");
        }

        yaml.AppendLine("    static_configs:").AppendLine($"      - targets: [\"{target}\"]");
        await File.WriteAllTextAsync(config, yaml.ToString());
        var port = LoopbackPorts.Free();
        var info = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = directory,
        };
        foreach (var argument in (string[])[$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory, "data")}", $"--web.listen-address=127.0.0.1:{port}"])
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var server = new PrometheusServer(directory, port, process);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitAsync("Prometheus to be ready", async () =>
        {
            using var response = await server._http.GetAsync("/-/ready");
            return response.IsSuccessStatusCode;
        });
        return server;
    }

    /// <summary>Waits until the target's last scrape succeeded (<c>/api/v1/targets</c> says <c>up</c>).</summary>
    public Task WaitForTargetUpAsync() => WaitForTargetAsync("up");

    /// <summary>Waits until <c>/api/v1/targets</c> gives the one target <paramref name="health"/> (<c>up</c>, <c>down</c>); returns its last scrape error.</summary>
    public async Task<string> WaitForTargetAsync(string health)
    {
        var lastError = string.Empty;
        await WaitAsync($"the target to be {health}", async () =>
        {
            using var document = JsonDocument.Parse(await _http.GetStringAsync("/api/v1/targets"));
            var targets = document.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray().ToList();
            if (targets.Count != 1 || targets[0].GetProperty("health").GetString() != health)
            {
                return false;
            }

            lastError = targets[0].GetProperty("lastError").GetString()!;
            return true;
        });
        return lastError;
    }

    /// <summary>An instant query (<c>/api/v1/query</c>) of a vector expression.</summary>
    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string expression)
    {
        using var document = JsonDocument.Parse(await _http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(expression)));
        var root = document.RootElement;
        Assert.Equal("success", root.GetProperty("status").GetString());
        var data = root.GetProperty("data");
        Assert.Equal("vector", data.GetProperty("resultType").GetString());
        return data.GetProperty("result").EnumerateArray()
            .Select(r => new PrometheusSample(
                r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal),
                double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
    }

    /// <summary>Queries until <paramref name="expression"/> answers one sample, and returns it (a scrape every second).</summary>
    public async Task<PrometheusSample> QueryOneAsync(string expression)
    {
        IReadOnlyList<PrometheusSample> samples = [];
        await WaitAsync($"one sample of {expression}", async () => (samples = await QueryAsync(expression)).Count == 1);
        return samples[0];
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _http.Dispose();
        TestPaths.DeleteDirectory(Directory);
    }

    private async Task WaitAsync(string what, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(_process.HasExited, $"prometheus exited with code {(_process.HasExited ? _process.ExitCode : 0)} while waiting for {what}:\n{Log}");
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"waited 60 s for {what}:\n{Log}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

}
