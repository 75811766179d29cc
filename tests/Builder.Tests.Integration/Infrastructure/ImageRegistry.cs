using System.Diagnostics;
using System.Net;
using System.Text;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// A real image registry (Debian's <c>docker-registry</c>, the CNCF distribution server, from scripts/ensure-deps.sh;
/// missing, the test fails) on a free loopback port, plain HTTP (the Docker engine trusts 127.0.0.0/8 without TLS),
/// without authentication, its storage in a temp dir. Disposal kills it and deletes the directory.
/// </summary>
internal sealed class ImageRegistry : IAsyncDisposable
{
    private const string Binary = "/usr/bin/docker-registry";

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ImageRegistry(string directory, int port, Process process)
    {
        Directory = directory;
        Address = $"127.0.0.1:{port}";
        _process = process;
    }

    public string Directory { get; }

    /// <summary><c>127.0.0.1:port</c>, the registry part of an image reference.</summary>
    public string Address { get; }

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

    public static async Task<ImageRegistry> StartAsync()
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: scripts/ensure-deps.sh installs Debian's docker-registry package");
        var directory = TestPaths.NewTempDirectory("registry");
        var port = LoopbackPorts.Free();
        var config = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: info
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory, "data")}
            http:
              addr: 127.0.0.1:{port}
            """);
        var info = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = directory,
        };
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(config);
        var process = new Process { StartInfo = info };
        var registry = new ImageRegistry(directory, port, process);
        process.OutputDataReceived += (_, e) => registry.Append(e.Data);
        process.ErrorDataReceived += (_, e) => registry.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await registry.WaitUntilReadyAsync();
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }

        return registry;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        TestPaths.DeleteDirectory(Directory);
    }

    /// <summary>The registry's API root answers 200 (<c>GET /v2/</c>), within 30 s; else the start failed.</summary>
    private async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(_process.HasExited, $"docker-registry exited with code {(_process.HasExited ? _process.ExitCode : 0)}:\n{Log}");
            try
            {
                using var response = await http.GetAsync($"http://{Address}/v2/");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"docker-registry did not answer GET /v2/ in 30 s:\n{Log}");
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
