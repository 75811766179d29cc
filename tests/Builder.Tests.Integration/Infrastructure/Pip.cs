namespace Builder.Tests.Integration.Infrastructure;

/// <summary>Real pip, in a fresh virtual environment of one of the machine's (pyenv) Pythons.</summary>
internal static class Pip
{
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

    /// <summary>Makes a venv with Python <paramref name="version"/> and pip-installs <paramref name="requirement"/> from the index only.</summary>
    public static async Task<string> InstallAsync(string version, string indexUrl, string requirement, string directory)
    {
        var venv = Path.Combine(directory, "venv-" + version);
        (await Shell.RunAsync(PythonExecutable(version), ["-m", "venv", venv])).EnsureSuccess($"python{version} -m venv");
        var python = Path.Combine(venv, "bin", "python");
        (await Shell.RunAsync(python, ["-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--index-url", indexUrl, requirement],
            environment: new Dictionary<string, string> { ["PIP_CONFIG_FILE"] = "/dev/null" }))
            .EnsureSuccess($"pip install {requirement} with Python {version}");
        return python;
    }
}
