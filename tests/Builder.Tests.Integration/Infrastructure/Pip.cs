using System.Collections.Concurrent;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>Real pip, in a fresh virtual environment of one of the machine's (pyenv) Pythons.</summary>
internal static class Pip
{
    /// <summary>One venv per Python and kind, made once per test run; every fresh venv is a copy of it.</summary>
    private static readonly ConcurrentDictionary<(string Version, bool WithPip), Lazy<Task<string>>> Templates = new();

    private static readonly string TemplateRoot = Path.Combine(Path.GetTempPath(), $"builder-test-venvs-{Environment.ProcessId}");

    static Pip() => AppDomain.CurrentDomain.ProcessExit += (_, _) => TestPaths.DeleteDirectory(TemplateRoot);

    public static string PythonExecutable(string version)
    {
        var root = Environment.GetEnvironmentVariable("PYENV_ROOT") is { Length: > 0 } r ? r : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".pyenv");
        var versions = Path.Combine(root, "versions");
        var match = Directory.Exists(versions)
            ? Directory.GetDirectories(versions).Select(Path.GetFileName).Where(v => v == version || v!.StartsWith(version + ".", StringComparison.Ordinal)).OrderDescending().FirstOrDefault()
            : null;
        return match is null
            ? throw new InvalidOperationException($"Python {version} is not installed under {versions} (pyenv versions)")
            : Path.Combine(versions, match, "bin", "python");
    }

    /// <summary>
    /// A fresh venv of Python <paramref name="version"/> under <paramref name="directory"/> (its own name), with the pip that
    /// <c>python -m venv</c> gives that Python (or none, with <paramref name="withPip"/> false); returns its python. It is a
    /// copy of a venv made once per run: <c>python -m venv</c> installs pip anew each time (seconds of CPU), a copy takes
    /// milliseconds, and a venv works from wherever it lies (its python finds <c>pyvenv.cfg</c> beside it; only the
    /// <c>bin/pip*</c> scripts name the first place in their #! line: run pip as <c>python -m pip</c>).
    /// </summary>
    public static async Task<string> VenvAsync(string version, string directory, bool withPip = true)
    {
        var template = await Templates.GetOrAdd((version, withPip), key => new Lazy<Task<string>>(() => MakeTemplateAsync(key.Version, key.WithPip))).Value;
        var venv = Path.Combine(directory, $"venv-{version}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(directory);
        (await Shell.RunAsync("cp", ["-a", template, venv])).EnsureSuccess($"copy the Python {version} venv");
        return Path.Combine(venv, "bin", "python");
    }

    /// <summary>Makes a venv with Python <paramref name="version"/> and pip-installs <paramref name="requirement"/> from the index only.</summary>
    public static async Task<string> InstallAsync(string version, string indexUrl, string requirement, string directory)
    {
        var python = await VenvAsync(version, directory);
        (await Shell.RunAsync(python, ["-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--index-url", indexUrl, requirement],
            environment: new Dictionary<string, string> { ["PIP_CONFIG_FILE"] = "/dev/null" }))
            .EnsureSuccess($"pip install {requirement} with Python {version}");
        return python;
    }

    private static async Task<string> MakeTemplateAsync(string version, bool withPip)
    {
        var venv = Path.Combine(TemplateRoot, $"{version}-{(withPip ? "pip" : "bare")}");
        (await Shell.RunAsync(PythonExecutable(version), ["-m", "venv", .. withPip ? Array.Empty<string>() : ["--without-pip"], venv]))
            .EnsureSuccess($"python{version} -m venv{(withPip ? string.Empty : " --without-pip")}");
        return venv;
    }
}
