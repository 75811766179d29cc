using System.Diagnostics;
using System.Net;
using System.Text;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// A real Builder process (the web host or the worker) started from its build output, the way an operator runs it.
/// </summary>
public sealed class BuilderProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    private BuilderProcess(Process process, string? baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string? BaseUrl { get; private set; }

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The .NET runtime's settings for every Builder process a test starts: tiered compilation's second tier off (and no
    /// configuration file watcher, below). A test's process lives seconds to minutes, where the first tier's code is fast
    /// enough, and recompiling its hot methods (with PGO's instrumented tier before) cost about 3 s of CPU per process in
    /// the seconds after it started (7.2 s → 3.6-4.3 s to ready plus 10 s, PostgreSQL web host, measured with
    /// /proc/PID/stat). Nothing a test checks depends on the code's tier.
    /// </summary>
    public static IReadOnlyDictionary<string, string> RuntimeSettings { get; } = new Dictionary<string, string>
    {
        ["DOTNET_TieredPGO"] = "0",
        ["DOTNET_TC_CallCounting"] = "0",
        // No file watcher on the content root for appsettings changes: no test edits them, and the watcher's thread
        // wakes for every file written under the root.
        ["DOTNET_hostBuilder__reloadConfigOnChange"] = "false",
    };

    public int ExitCode => _process.ExitCode;

    public static async Task<BuilderProcess> StartWebAsync(IDictionary<string, string> environment)
    {
        var port = LoopbackPorts.Free();
        var url = $"http://127.0.0.1:{port}";
        var process = Start(TestPaths.WebAssembly, ["--urls", url], environment);
        await process.WaitUntilReadyAsync(url);
        return process;
    }

    public static BuilderProcess StartWorker(IDictionary<string, string> environment) =>
        Start(TestPaths.WorkerAssembly, [], environment);

    /// <summary>A worker answering <c>/healthz</c> and <c>/readyz</c> at <see cref="BaseUrl"/> (<c>Builder__Worker__Urls</c>); returns once it answers.</summary>
    public static async Task<BuilderProcess> StartWorkerWithHealthAsync(IDictionary<string, string> environment)
    {
        var url = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        var process = Start(TestPaths.WorkerAssembly, [], new Dictionary<string, string>(environment) { ["Builder__Worker__Urls"] = url });
        process.BaseUrl = url;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline && !process._process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(url + "/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening, but slow to answer its first request (a busy machine, several processes starting): ask again.
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"the worker did not answer /healthz on {url}:\n{process.Output}");
    }

    public static BuilderProcess Start(string assembly, IEnumerable<string> arguments, IDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        info.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in RuntimeSettings)
        {
            info.Environment[key] = value;
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info };
        var url = arguments.SkipWhile(a => a != "--urls").Skip(1).FirstOrDefault();
        var result = new BuilderProcess(process, url);
        process.OutputDataReceived += (_, e) => result.Append(e.Data);
        process.ErrorDataReceived += (_, e) => result.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Waits for the process to end by itself (for processes expected to refuse to start).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM: the graceful stop an operator (or systemd, or docker stop) sends.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>SIGKILL: a crash, an OOM kill or a power cut; the process gets no chance to clean up.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private async Task WaitUntilReadyAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Builder exited with code {_process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                // 401: the index answers, and is private (as by default).
                using var response = await http.GetAsync(url + "/simple/");
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening, but slow to answer its first request (a busy machine, several processes starting): ask again.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Builder did not answer on {url} within 90 s:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.AppendLine(line);
        }
    }

}
