using System.Net;
using System.Text.RegularExpressions;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Import;

/// <summary>
/// <c>Builder.Web import DIR</c> run as the real process, the way an operator migrates: a pypiserver-like directory with
/// good, bad and unrelated files, then the index served from the same data directory (or database).
/// </summary>
public sealed partial class ImportCommandTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDirectory("import");

    private string DataDir => Path.Combine(_root, "data");

    private string Loop => Path.Combine(_root, "packages", "beta", "up");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        // The link first: the recursive delete below would follow it round the loop.
        if (new DirectoryInfo(Loop).LinkTarget is not null)
        {
            Directory.Delete(Loop);
        }

        TestPaths.DeleteDirectory(_root);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Import_publishes_the_good_files_reports_each_bad_one_and_a_second_run_finds_them_present()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, "packages")).FullName;
        var good = GoodFiles(dir);
        // The same wheel again in a PEP 503 tree: imported once.
        var mirror = Directory.CreateDirectory(Path.Combine(dir, "simple", "alpha")).FullName;
        File.Copy(good["alpha-1.0-py3-none-any.whl"], Path.Combine(mirror, "alpha-1.0-py3-none-any.whl"));
        await File.WriteAllTextAsync(Path.Combine(mirror, "index.html"), "<!DOCTYPE html><a href=\"alpha-1.0-py3-none-any.whl\">alpha</a>");
        // Not distributions, or hidden: passed over in silence.
        await File.WriteAllTextAsync(Path.Combine(dir, "index.html"), "<!DOCTYPE html><a href=\"alpha/\">alpha</a>");
        await File.WriteAllTextAsync(Path.Combine(dir, ".dataset.json"), "{\"files\": 4}");
        await File.WriteAllTextAsync(Path.Combine(dir, "README.txt"), "our packages");
        Distributions.Wheel(Directory.CreateDirectory(Path.Combine(dir, ".cache")).FullName, "gamma", "1.0");
        Directory.CreateSymbolicLink(Loop, dir); // a loop, not followed
        // Bad: a corrupt wheel, a wheel whose metadata version is not its file name's, a name that is no distribution's.
        await File.WriteAllBytesAsync(Path.Combine(dir, "broken-1.0-py3-none-any.whl"), [0x50, 0x4b, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef]);
        var mismatch = Distributions.Wheel(Directory.CreateDirectory(Path.Combine(_root, "scratch")).FullName, "alpha", "3.1");
        File.Move(mismatch, Path.Combine(dir, "alpha-3.0-py3-none-any.whl"));
        await File.WriteAllTextAsync(Path.Combine(dir, "notes.zip"), "not a zip");
        var before = Snapshot(dir);

        var (code, output) = await ImportAsync(dir, BuilderInstance.Embedded(DataDir));

        Assert.True(code == 1, $"exit code {code}, expected 1 (some files skipped):\n{output}");
        Assert.Contains("skipped broken-1.0-py3-none-any.whl: broken-1.0-py3-none-any.whl is not a valid archive", output, StringComparison.Ordinal);
        Assert.Contains("skipped alpha-3.0-py3-none-any.whl: alpha-3.0-py3-none-any.whl: the metadata says version 3.1, the file name 3.0", output, StringComparison.Ordinal);
        Assert.Contains("skipped notes.zip: 'notes.zip' is not a valid wheel or sdist file name", output, StringComparison.Ordinal);
        Assert.Equal(3, SkippedLines(output).Count);
        Assert.Matches(@"imported 4, already present 1, skipped 3 \(see above\) in \d+\.\d s", output);
        Assert.Equal(before, Snapshot(dir)); // the import only reads DIR

        await using var web = await BuilderProcess.StartWebAsync(BuilderInstance.Embedded(DataDir));
        using var http = BuilderInstance.AdminHttp(web.BaseUrl!);
        await AssertServedAsync(http, "alpha", good.Where(f => f.Key.StartsWith("alpha-", StringComparison.Ordinal)));
        await AssertServedAsync(http, "beta", good.Where(f => f.Key.StartsWith("beta-", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/simple/gamma/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/simple/broken/")).StatusCode);

        // Only good files left; the server keeps running on the same SQLite database meanwhile.
        File.Delete(Path.Combine(dir, "broken-1.0-py3-none-any.whl"));
        File.Delete(Path.Combine(dir, "alpha-3.0-py3-none-any.whl"));
        File.Delete(Path.Combine(dir, "notes.zip"));
        (code, output) = await ImportAsync(dir, BuilderInstance.Embedded(DataDir));

        Assert.True(code == 0, $"exit code {code}, expected 0:\n{output}");
        Assert.Empty(SkippedLines(output));
        Assert.Matches(@"imported 0, already present 5, skipped 0 in \d+\.\d s", output);
        await AssertServedAsync(http, "alpha", good.Where(f => f.Key.StartsWith("alpha-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_file_name_published_with_other_bytes_or_deleted_is_refused_and_the_rest_of_its_project_is_imported()
    {
        var first = Directory.CreateDirectory(Path.Combine(_root, "first")).FullName;
        var good = GoodFiles(first);
        var (code, output) = await ImportAsync(first, BuilderInstance.Embedded(DataDir));
        Assert.True(code == 0, $"exit code {code}:\n{output}");
        await using (var web = await BuilderProcess.StartWebAsync(BuilderInstance.Embedded(DataDir)))
        {
            var client = BuilderInstance.Client(web);
            using var request = new HttpRequestMessage(HttpMethod.Delete, "/api/projects/beta/files/beta-2.0.tar.gz");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
            Assert.Equal(HttpStatusCode.OK, (await client.Http.SendAsync(request)).StatusCode);
        }

        // One folder per project, as pypiserver keeps them: alpha's batch holds a conflict and a new file.
        var second = Directory.CreateDirectory(Path.Combine(_root, "second")).FullName;
        var alpha = Directory.CreateDirectory(Path.Combine(second, "alpha")).FullName;
        var beta = Directory.CreateDirectory(Path.Combine(second, "beta")).FullName;
        Distributions.Sdist(alpha, "alpha", "1.0", requiresPython: ">=3.8"); // same name, other bytes
        var added = Distributions.Wheel(alpha, "alpha", "1.2");
        File.Copy(good["beta-2.0.tar.gz"], Path.Combine(beta, "beta-2.0.tar.gz")); // deleted since

        (code, output) = await ImportAsync(second, BuilderInstance.Embedded(DataDir));

        Assert.True(code == 1, $"exit code {code}, expected 1:\n{output}");
        Assert.Contains("skipped alpha/alpha-1.0.tar.gz: File already exists: alpha-1.0.tar.gz is published with other contents", output, StringComparison.Ordinal);
        Assert.Contains("skipped beta/beta-2.0.tar.gz: beta-2.0.tar.gz was deleted from this index", output, StringComparison.Ordinal);
        Assert.Equal(2, SkippedLines(output).Count);
        Assert.Matches(@"imported 1, already present 0, skipped 2 \(see above\)", output);

        // A separate import process cannot reach an embedded server's page cache: a server started now sees it all.
        await using var restarted = await BuilderProcess.StartWebAsync(BuilderInstance.Embedded(DataDir));
        using var http = BuilderInstance.AdminHttp(restarted.BaseUrl!);
        var expectedAlpha = good.Where(f => f.Key.StartsWith("alpha-", StringComparison.Ordinal)).Append(new(Path.GetFileName(added), added));
        await AssertServedAsync(http, "alpha", expectedAlpha);
        await AssertServedAsync(http, "beta", good.Where(f => f.Key == "beta-2.0-py3-none-any.whl"));
    }

    [Fact]
    public async Task Production_import_into_PostgreSQL_reaches_a_running_web_process_through_NOTIFY()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var environment = BuilderInstance.Production(DataDir, database.ConnectionString);
        await using var web = await BuilderProcess.StartWebAsync(environment);
        using var http = BuilderInstance.AdminHttp(web.BaseUrl!);
        // Warm the web process's cache (a cached 404 and a root list without the projects): only the import's
        // NOTIFY can tell it that the files below were published.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/simple/alpha/")).StatusCode);
        Assert.DoesNotContain("alpha", await http.GetStringAsync("/simple/"), StringComparison.Ordinal);
        var dir = Directory.CreateDirectory(Path.Combine(_root, "packages")).FullName;
        var good = GoodFiles(dir);

        var (code, output) = await ImportAsync(dir, environment);

        Assert.True(code == 0, $"exit code {code}:\n{output}");
        Assert.Matches(@"imported 4, already present 0, skipped 0 in", output);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await http.GetAsync("/simple/alpha/")).StatusCode == HttpStatusCode.NotFound && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await AssertServedAsync(http, "alpha", good.Where(f => f.Key.StartsWith("alpha-", StringComparison.Ordinal)));
        await AssertServedAsync(http, "beta", good.Where(f => f.Key.StartsWith("beta-", StringComparison.Ordinal)));
        Assert.Contains("alpha/", await http.GetStringAsync("/simple/"), StringComparison.Ordinal);
        Assert.Equal(4, await database.ScalarAsync("SELECT COUNT(*) FROM builder_files"));

        (code, output) = await ImportAsync(dir, environment);
        Assert.True(code == 0, $"exit code {code}:\n{output}");
        Assert.Matches(@"imported 0, already present 4, skipped 0 in", output);
    }

    [Fact]
    public async Task Import_without_a_directory_is_a_usage_error()
    {
        var file = Path.Combine(_root, "file.whl");
        await File.WriteAllTextAsync(file, "x");

        var (missing, missingOutput) = await ImportAsync(null, BuilderInstance.Embedded(DataDir));
        var (notDir, notDirOutput) = await ImportAsync(file, BuilderInstance.Embedded(DataDir));

        Assert.True(missing == 2, $"exit code {missing}:\n{missingOutput}");
        Assert.Contains("usage: Builder.Web import DIR", missingOutput, StringComparison.Ordinal);
        Assert.True(notDir == 2, $"exit code {notDir}:\n{notDirOutput}");
        Assert.Contains($"'{file}' is not a directory", notDirOutput, StringComparison.Ordinal);
        Assert.False(Directory.Exists(DataDir), "a usage error touches no data");
    }

    /// <summary>Two projects: alpha flat in <paramref name="dir"/>, beta in a subfolder (pypiserver's layouts); file name → path.</summary>
    private static Dictionary<string, string> GoodFiles(string dir)
    {
        var beta = Directory.CreateDirectory(Path.Combine(dir, "beta")).FullName;
        string[] paths =
        [
            Distributions.Wheel(dir, "alpha", "1.0", requiresPython: ">=3.8"),
            Distributions.Sdist(dir, "alpha", "1.0"),
            Distributions.Wheel(beta, "beta", "2.0"),
            Distributions.Sdist(beta, "beta", "2.0"),
        ];
        File.WriteAllText(Path.Combine(beta, "index.html"), "<!DOCTYPE html>");
        return paths.ToDictionary(p => Path.GetFileName(p), p => p, StringComparer.Ordinal);
    }

    private static async Task<(int Code, string Output)> ImportAsync(string? dir, Dictionary<string, string> environment)
    {
        await using var process = BuilderProcess.Start(TestPaths.WebAssembly, dir is null ? ["import"] : ["import", dir], environment);
        var code = await process.WaitForExitAsync(TimeSpan.FromMinutes(2));
        return (code, process.Output);
    }

    /// <summary>The project page lists exactly <paramref name="expected"/>, each with its sha256, and serves their exact bytes.</summary>
    private static async Task AssertServedAsync(HttpClient http, string project, IEnumerable<KeyValuePair<string, string>> expected)
    {
        var pageUrl = new Uri(http.BaseAddress!, $"/simple/{project}/");
        var page = await http.GetStringAsync(pageUrl);
        var links = FileLink().Matches(page).ToDictionary(
            m => Uri.UnescapeDataString(m.Groups["url"].Value.Split('/')[^1]), m => (Url: new Uri(pageUrl, m.Groups["url"].Value), Sha256: m.Groups["sha"].Value), StringComparer.Ordinal);
        var files = expected.ToList();
        Assert.Equal(files.Select(f => f.Key).Order(StringComparer.Ordinal), links.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, path) in files)
        {
            Assert.Equal(Distributions.Sha256(path), links[name].Sha256);
            Assert.Equal(await File.ReadAllBytesAsync(path), await http.GetByteArrayAsync(links[name].Url));
        }
    }

    private static List<string> SkippedLines(string output) =>
        output.Split('\n').Where(l => l.StartsWith("skipped ", StringComparison.Ordinal)).ToList();

    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .ToDictionary(p => p, Distributions.Sha256, StringComparer.Ordinal);

    [GeneratedRegex("href=\"(?<url>[^\"#]+)#sha256=(?<sha>[0-9a-f]{64})\"")]
    private static partial Regex FileLink();
}
