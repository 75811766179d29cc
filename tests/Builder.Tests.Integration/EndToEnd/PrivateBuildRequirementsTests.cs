using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>
/// One embedded Builder (cp311) for <see cref="PrivateBuildRequirementsTests"/>: acme-helper 1.0 published the way
/// twine does (its module says VERSION = "1.0"), then five repositories registered and their tags pushed at once, so the
/// builds run side by side; each test waits for its own. Nothing about the index is configured; the relay directory only
/// so a test can look at it.
/// </summary>
public sealed class PrivateRequirementBuilds : IAsyncLifetime
{
    private readonly Dictionary<string, long> _builds = [];

    public string Root { get; } = TestPaths.NewTempDirectory("private-requires");

    public string RelayDir => Path.Combine(Root, "relay");

    public BuilderProcess Web { get; private set; } = null!;

    public BuilderClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var tested = Fixtures.PythonProjects.Pure("acme-tested", "1.0.0");
        tested["pyproject.toml"] = """
            [build-system]
            requires = ["setuptools>=40.8.0", "wheel"]
            build-backend = "setuptools.build_meta"

            [tool.cibuildwheel]
            test-requires = ["acme-helper"]
            test-command = "python -c \"import acme_helper, acme_tested; print('tested with acme-helper', acme_helper.VERSION)\""
            """;
        var scenarios = new (string Key, Dictionary<string, string> Files, string[]? RelayProjects)[]
        {
            ("tested", tested, null),
            ("tool", BuildsWith("acme-tool", "acme-helper", "acme_helper"), null),
            ("orphan", BuildsWith("acme-orphan", "acme-missing", "acme_missing"), null),
            // The same project twice: a repository whose builds may read only "other-*" does not see acme-helper (the
            // index answers its relay as it answers any principal without that right: not found), one allowed "acme-*" does.
            ("fenced", BuildsWith("acme-fenced", "acme-helper", "acme_helper"), ["other-*"]),
            ("allowed", BuildsWith("acme-allowed", "acme-helper", "acme_helper"), ["acme-*"]),
        };
        var repositories = await Task.WhenAll(scenarios.Select(s => GitRepositories.CreateAsync(Path.Combine(Root, s.Key), s.Files, "v1.0.0")));

        Web = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(BuilderInstance.Embedded(Path.Combine(Root, "data")))
        {
            ["Builder__Build__Pythons__0"] = "cp311",
            ["Builder__Build__RelayDir"] = RelayDir,
        });
        Client = BuilderInstance.Client(Web);

        var wheel = Distributions.Wheel(Root, "acme-helper", "1.0");
        using (var upload = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = LegacyUpload.Twine(wheel, "acme-helper", "1.0").ToContent() })
        {
            upload.Headers.Authorization = LegacyUpload.AdminBasic;
            using var uploaded = await Client.Http.SendAsync(upload);
            Assert.True(uploaded.IsSuccessStatusCode, $"upload: {(int)uploaded.StatusCode} {await uploaded.Content.ReadAsStringAsync()}");
        }

        foreach (var (scenario, git) in scenarios.Zip(repositories))
        {
            var repository = await Client.RegisterAsync($"acme/{scenario.Key}", git.CloneUrl, relayProjects: scenario.RelayProjects);
            _builds[scenario.Key] = await Client.PushTagAsync(repository, git);
        }
    }

    /// <summary>The build of the scenario's tag, once it ended.</summary>
    public Task<BuildStatus> BuildAsync(string key) => Client.WaitForBuildAsync(_builds[key]);

    /// <summary>Once every build of the fixture ended.</summary>
    public Task AllEndedAsync() => Task.WhenAll(_builds.Keys.Select(BuildAsync));

    /// <summary>A setuptools project whose build needs <paramref name="requirement"/> and whose setup.py imports it.</summary>
    private static Dictionary<string, string> BuildsWith(string name, string requirement, string module) => new()
    {
        ["pyproject.toml"] = $"""
            [build-system]
            requires = ["setuptools>=40.8.0", "wheel", "{requirement}"]
            build-backend = "setuptools.build_meta"
            """,
        ["setup.py"] = $"""
            import {module}
            from setuptools import setup

            setup(
                name="{name}",
                version="1.0.0",
                description="built with {requirement} " + {module}.VERSION,
                packages=["{name.Replace('-', '_')}"],
                python_requires=">=3.8",
            )
            """,
        [$"{name.Replace('-', '_')}/__init__.py"] = "VALUE = 42\n",
    };

    public async Task DisposeAsync()
    {
        if (Web is not null)
        {
            await Web.DisposeAsync();
        }

        TestPaths.DeleteDirectory(Root);
    }
}

/// <summary>
/// A private package build-depends on another private package: the build container (network "none") gets it from
/// Builder's own index through its relay, with no configuration (the embedded server uses its own address).
/// </summary>
[DockerBuild]
public sealed class PrivateBuildRequirementsTests(PrivateRequirementBuilds builds) : IClassFixture<PrivateRequirementBuilds>
{
    private BuilderClient Client => builds.Client;

    [Fact]
    public async Task A_private_test_requirement_is_installed_from_the_index_in_the_test_container()
    {
        var build = await builds.BuildAsync("tested");

        await ReleaseAssertions.AssertPublishedAsync(Client, build, "acme-tested", "1.0.0");
        var log = await Client.GetLogAsync(build.Id);
        Assert.Contains("test requirements from Builder's index via the relay", log, StringComparison.Ordinal);
        Assert.Contains("tested with acme-helper 1.0", log, StringComparison.Ordinal);
        Assert.Contains(ReleaseAssertions.Targets(build), t => t.GetProperty("name").GetString()!.EndsWith(" test", StringComparison.Ordinal) && t.GetProperty("succeeded").GetBoolean());
    }

    [Fact]
    public async Task A_build_requirement_published_on_the_index_is_installed_in_the_build_and_a_missing_one_fails_with_pips_message()
    {
        var built = await builds.BuildAsync("tool");

        await ReleaseAssertions.AssertPublishedAsync(Client, built, "acme-tool", "1.0.0");
        var log = await Client.GetLogAsync(built.Id);
        Assert.Contains("[x86_64] [setup] build requirements from Builder's index via the relay", log, StringComparison.Ordinal);
        Assert.Contains("acme_helper-1.0-py3-none-any.whl", log, StringComparison.Ordinal);
        // setup.py ran with acme_helper imported: the summary it computed is in the published metadata.
        using (var json = await Client.Http.GetAsync("/pypi/acme-tool/json"))
        {
            Assert.Contains("built with acme-helper 1.0", await json.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var failed = await builds.BuildAsync("orphan");

        Assert.Equal("failed", failed.State);
        var orphanLog = await Client.GetLogAsync(failed.Id);
        Assert.Contains("No matching distribution found for acme-missing", orphanLog, StringComparison.Ordinal);
        Assert.Contains("No matching distribution found for acme-missing", failed.Error, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await Client.Http.GetAsync("/simple/acme-orphan/")).StatusCode);

        // Every relay directory went with its container (once every build of the process ended).
        await builds.AllEndedAsync();
        Assert.Empty(Directory.EnumerateFileSystemEntries(builds.RelayDir));
    }

    [Fact]
    public async Task A_build_reads_the_index_with_its_repositorys_rights_a_project_outside_relay_projects_is_not_there_for_it()
    {
        var refused = await builds.BuildAsync("fenced");

        Assert.Equal("failed", refused.State);
        Assert.Contains("No matching distribution found for acme-helper", await Client.GetLogAsync(refused.Id), StringComparison.Ordinal);

        var built = await builds.BuildAsync("allowed");

        await ReleaseAssertions.AssertPublishedAsync(Client, built, "acme-allowed", "1.0.0");
        Assert.Contains("acme_helper-1.0-py3-none-any.whl", await Client.GetLogAsync(built.Id), StringComparison.Ordinal);
    }
}
