namespace Builder.Tests.Integration.Infrastructure;

internal static class TestPaths
{
    /// <summary>The checkout's root (the folder with Builder.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    public static string WebAssembly => Path.Combine(RepositoryRoot, "src", "Builder.Web", "bin", Configuration, "net10.0", "Builder.Web.dll");

    public static string WorkerAssembly => Path.Combine(RepositoryRoot, "workers", "Builder.Worker", "bin", Configuration, "net10.0", "Builder.Worker.dll");

    public static string NewTempDirectory(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"builder-test-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void DeleteDirectory(string path)
    {
        if (!Directory.Exists(path))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal);
        }

        Directory.Delete(path, recursive: true);
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Builder.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Builder.sln not found above " + AppContext.BaseDirectory);
    }
}
