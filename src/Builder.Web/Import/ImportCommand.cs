namespace Builder.Web.Import;

/// <summary>
/// <c>Builder.Web import DIR [--Setting=value ...]</c>: loads the wheels and sdists under DIR into the index with the
/// server's configuration (appsettings, environment, and settings given after DIR), without the HTTP server or a
/// Hangfire server. Exit code 0: every candidate file was imported or already present; 1: some were skipped (each
/// reported with its reason); 2: usage error.
/// </summary>
internal static class ImportCommand
{
    public const string Name = "import";
    public const int Success = 0;
    public const int SomeSkipped = 1;
    public const int UsageError = 2;

    private const string Usage = "usage: Builder.Web import DIR [--Setting=value ...]   (loads the .whl, .tar.gz and .zip files under DIR into the index)";

    public static async Task<int> RunAsync(IHost host, string[] args)
    {
        var output = Console.Out;
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            await Console.Error.WriteLineAsync("import: which directory? " + Usage);
            return UsageError;
        }

        var directory = Path.GetFullPath(args[0]);
        if (!Directory.Exists(directory))
        {
            await Console.Error.WriteLineAsync($"import: '{args[0]}' is not a directory. {Usage}");
            return UsageError;
        }

        IReadOnlyList<ImportCandidate> candidates;
        try
        {
            candidates = ImportCandidates.Find(directory);
        }
        catch (UnauthorizedAccessException ex)
        {
            // Importing the readable part only would look like success; nothing is imported instead.
            await Console.Error.WriteLineAsync($"import: cannot read all of '{args[0]}': {ex.Message}");
            return UsageError;
        }

        // Starting the host validates the settings and creates Builder's tables when they are missing.
        await host.StartAsync();
        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        try
        {
            var importer = ActivatorUtilities.CreateInstance<DistributionImporter>(host.Services, output);
            var report = await importer.ImportAsync(candidates, stopping);
            await output.WriteLineAsync(report.Summary);
            return report.Skipped == 0 ? Success : SomeSkipped;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM: what was published stays published (each batch is whole); run the import again to finish.
            await Console.Error.WriteLineAsync("import: interrupted; files published so far stay published, run the same import again to finish");
            return SomeSkipped;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
