using System.Diagnostics;
using System.Text;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>A finished program: its exit code, standard output and error as they came (merged), and each apart.</summary>
public sealed record ShellResult(int ExitCode, string Output, string StandardOutput, string StandardError)
{
    public ShellResult EnsureSuccess(string what)
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed with exit code {ExitCode}:\n{Output}");
        }

        return this;
    }
}

/// <summary>
/// Runs real programs (git, pip, python, twine, poetry) hermetically: standard input closed (no client may wait for a
/// prompt), this machine's PIP_* settings removed, output captured merged and apart.
/// </summary>
internal static class Shell
{
    public static async Task<ShellResult> RunAsync(string fileName, IEnumerable<string> arguments, string? workingDirectory = null,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Hermetic pip: this machine's own PIP_* settings (find-links, index) must not leak into what the tests prove.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("PIP_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var gate = new Lock();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (gate) { output.AppendLine(e.Data); stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (gate) { output.AppendLine(e.Data); stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', info.ArgumentList)} did not finish in time:\n{output}");
        }

        lock (gate)
        {
            return new ShellResult(process.ExitCode, output.ToString(), stdout.ToString(), stderr.ToString());
        }
    }

    public static Task<ShellResult> GitAsync(string workingDirectory, params string[] arguments) =>
        RunAsync("git", arguments, workingDirectory, new Dictionary<string, string>
        {
            ["GIT_AUTHOR_NAME"] = "Builder Test",
            ["GIT_AUTHOR_EMAIL"] = "test@builder.invalid",
            ["GIT_COMMITTER_NAME"] = "Builder Test",
            ["GIT_COMMITTER_EMAIL"] = "test@builder.invalid",
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["HOME"] = workingDirectory,
        });
}
