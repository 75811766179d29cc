using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>
/// One embedded Builder for <see cref="EmbeddedModeTests"/>' single builds: three repositories, each a scenario (a pure
/// package, a project whose build fails, a tag whose version differs from the metadata), registered and their tags pushed
/// when the class starts, so the three builds run side by side; each test waits for its own.
/// </summary>
public sealed class EmbeddedBuilds : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDirectory("embedded");
    private readonly Dictionary<string, long> _builds = [];

    public string DataDir => Path.Combine(_root, "data");

    public BuilderProcess Web { get; private set; } = null!;

    public BuilderClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var scenarios = new (string Repository, Dictionary<string, string> Files, string Tag)[]
        {
            ("acme/tools", PythonProjects.Pure("Acme.Tools", "0.3.0rc1"), "v0.3.0-rc.1"),
            ("acme/broken", PythonProjects.SyntaxError("broken-pkg", "1.0.0"), "v1.0.0"),
            ("acme/drifting", PythonProjects.Pure("drifting", "1.0.1"), "v1.0.0"),
        };
        var repositories = await Task.WhenAll(scenarios.Select(s => GitRepositories.CreateAsync(Path.Combine(_root, s.Repository.Replace('/', '-')), s.Files, s.Tag)));
        Web = await BuilderProcess.StartWebAsync(BuilderInstance.Embedded(DataDir));
        Client = BuilderInstance.Client(Web);
        foreach (var (scenario, git) in scenarios.Zip(repositories))
        {
            var repository = await Client.RegisterAsync(scenario.Repository, git.CloneUrl);
            _builds[scenario.Repository] = await Client.PushTagAsync(repository, git);
        }
    }

    /// <summary>The build of <paramref name="repository"/>'s tag, once it ended.</summary>
    public Task<BuildStatus> BuildAsync(string repository) => Client.WaitForBuildAsync(_builds[repository]);

    public async Task DisposeAsync()
    {
        if (Web is not null)
        {
            await Web.DisposeAsync();
        }

        TestPaths.DeleteDirectory(_root);
    }
}

/// <summary>The embedded default: one process, SQLite and files under the data directory, Hangfire in memory.</summary>
[DockerBuild]
public sealed class EmbeddedModeTests(EmbeddedBuilds builds) : IClassFixture<EmbeddedBuilds>, IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("embedded-restart");

    private string DataDir => Path.Combine(_root, "data");

    /// <summary>
    /// The embedded default on the test's own data directory, building three CPythons (the two pip installs with among
    /// them): the restart is the point here; the whole default matrix is built by the production mode's C extension test.
    /// </summary>
    private Dictionary<string, string> Settings => new(BuilderInstance.Embedded(DataDir))
    {
        ["Builder__Build__Pythons__0"] = "cp39",
        ["Builder__Build__Pythons__1"] = "cp311",
        ["Builder__Build__Pythons__2"] = "cp312",
    };

    public void Dispose() => TestPaths.DeleteDirectory(_root);

    [Fact]
    public async Task A_build_interrupted_by_a_restart_finishes_after_the_next_start_and_pip_installs_it()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "cext"), PythonProjects.CExtension("fastadd", "2.0.0"), "v2.0.0");
        long id;
        string stateAtStop;
        await using (var first = await BuilderProcess.StartWebAsync(Settings))
        {
            var client = BuilderInstance.Client(first);
            var repository = await client.RegisterAsync("acme/fastadd", git.CloneUrl);
            id = await client.PushTagAsync(repository, git);
            stateAtStop = (await client.GetBuildAsync(id)).State;
            await first.StopAsync();
        }

        // The stop came before the build could finish: it was still queued (or just started).
        Assert.Contains(stateAtStop, new[] { "queued", "running" });

        await using var second = await BuilderProcess.StartWebAsync(Settings);
        var client2 = BuilderInstance.Client(second);
        var build = await client2.WaitForBuildAsync(id);

        await ReleaseAssertions.AssertPublishedAsync(client2, build, "fastadd", "2.0.0");
        Assert.True(ReleaseAssertions.WheelCount(build, "_x86_64.whl") >= 3);
        Assert.Contains($"Build {id} was unfinished at the last stop; enqueued again", second.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(DataDir, "builder.db")), "the embedded database lives in the data directory");
        Assert.True(File.Exists(Path.Combine(DataDir, "files", "fastadd", "fastadd-2.0.0.tar.gz")), "files live in the data directory");

        await ReleaseAssertions.AssertPipInstallsAsync(client2, "fastadd", "2.0.0", "import fastadd; print(fastadd.add(2, 3))", "5");
    }

    [Fact]
    public async Task A_pure_package_is_built_and_served_by_one_process()
    {
        var client = builds.Client;
        var build = await builds.BuildAsync("acme/tools");

        // The tag "v0.3.0-rc.1" normalizes to the PEP 440 version "0.3.0rc1"; the project name to "acme-tools".
        await ReleaseAssertions.AssertPublishedAsync(client, build, "acme-tools", "0.3.0rc1");
        Assert.Equal(1, ReleaseAssertions.WheelCount(build, ".whl"));
        await ReleaseAssertions.AssertPipInstallsAsync(client, "acme-tools", "0.3.0rc1", "import acme_tools; print(acme_tools.greet('x'))", "hello x");
    }

    [Fact]
    public async Task A_project_whose_build_fails_is_failed_with_its_log_kept_and_nothing_published()
    {
        var client = builds.Client;
        var build = await builds.BuildAsync("acme/broken");

        Assert.Equal("failed", build.State);
        Assert.False(string.IsNullOrEmpty(build.Error));
        var log = await client.GetLogAsync(build.Id);
        Assert.Contains("SyntaxError", log, StringComparison.Ordinal);
        Assert.Contains("[builder] FAILED", log, StringComparison.Ordinal);
        Assert.Empty(build.Json.GetProperty("files").EnumerateArray());
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.Http.GetAsync("/simple/broken-pkg/")).StatusCode);
        Assert.DoesNotContain("broken-pkg", await client.Http.GetStringAsync("/simple/"), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(builds.DataDir, "files", "broken-pkg")), "nothing stored for a failed build");
    }

    [Fact]
    public async Task A_tag_whose_version_differs_from_the_metadata_fails_and_names_both_versions()
    {
        var client = builds.Client;
        var build = await builds.BuildAsync("acme/drifting");

        Assert.Equal("failed", build.State);
        Assert.Contains("1.0.0", build.Error, StringComparison.Ordinal);
        Assert.Contains("1.0.1", build.Error, StringComparison.Ordinal);
        var log = await client.GetLogAsync(build.Id);
        Assert.Contains("version mismatch: tag 'v1.0.0' says version 1.0.0, but the built metadata", log, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.Http.GetAsync("/simple/drifting/")).StatusCode);
    }
}
