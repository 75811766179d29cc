using System.ComponentModel;
using System.Diagnostics;
using Builder.Core.Builds;

namespace Builder.Git;

/// <summary>Runs the git command (for what libgit2 cannot do: bundles), with no prompt and no system or user configuration.</summary>
internal static class GitCommand
{
    public static async Task RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["GIT_TERMINAL_PROMPT"] = "0";
        info.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        info.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new SourceBundleException("git did not start");
        }
        catch (Win32Exception ex)
        {
            throw new SourceBundleException($"the git command is not installed on this host ({ex.Message})", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            await stdout;
            var error = (await stderr).Trim();
            if (process.ExitCode != 0)
            {
                throw new SourceBundleException($"git {arguments[arguments[0] == "-C" ? 2 : 0]} exited with {process.ExitCode}: {error}");
            }
        }
    }
}
