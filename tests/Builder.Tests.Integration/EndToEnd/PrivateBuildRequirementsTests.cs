using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>
/// A private package build-depends on another private package: the build container (network "none") gets it from
/// Builder's own index through its relay, with no configuration (the embedded server uses its own address).
/// </summary>
public sealed class PrivateBuildRequirementsTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDirectory("private-requires");

    private string DataDir => Path.Combine(_root, "data");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        TestPaths.DeleteDirectory(_root);
        return Task.CompletedTask;
    }

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

    /// <summary>acme-helper 1.0, published the way twine does; its module says VERSION = "1.0".</summary>
    private async Task PublishHelperAsync(BuilderClient client)
    {
        var wheel = Distributions.Wheel(_root, "acme-helper", "1.0");
        using var upload = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = LegacyUpload.Twine(wheel, "acme-helper", "1.0").ToContent() };
        upload.Headers.Authorization = LegacyUpload.AdminBasic;
        using var uploaded = await client.Http.SendAsync(upload);
        Assert.True(uploaded.IsSuccessStatusCode, $"upload: {(int)uploaded.StatusCode} {await uploaded.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task A_private_test_requirement_is_installed_from_the_index_in_the_test_container()
    {
        await using var web = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(BuilderInstance.Embedded(DataDir))
        {
            ["Builder__Build__Pythons__0"] = "cp311",
        });
        var client = BuilderInstance.Client(web);
        await PublishHelperAsync(client);
        var files = Fixtures.PythonProjects.Pure("acme-tested", "1.0.0");
        files["pyproject.toml"] = """
            [build-system]
            requires = ["setuptools>=40.8.0", "wheel"]
            build-backend = "setuptools.build_meta"

            [tool.cibuildwheel]
            test-requires = ["acme-helper"]
            test-command = "python -c \"import acme_helper, acme_tested; print('tested with acme-helper', acme_helper.VERSION)\""
            """;
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "tested"), files, "v1.0.0");
        var repository = await client.RegisterAsync("acme/tested", git.CloneUrl);

        var build = await client.WaitForBuildAsync(await client.PushTagAsync(repository, git));

        await ReleaseAssertions.AssertPublishedAsync(client, build, "acme-tested", "1.0.0");
        var log = await client.GetLogAsync(build.Id);
        Assert.Contains("test requirements from Builder's index via the relay", log, StringComparison.Ordinal);
        Assert.Contains("tested with acme-helper 1.0", log, StringComparison.Ordinal);
        Assert.Contains(ReleaseAssertions.Targets(build), t => t.GetProperty("name").GetString()!.EndsWith(" test", StringComparison.Ordinal) && t.GetProperty("succeeded").GetBoolean());
    }

    [Fact]
    public async Task A_build_requirement_published_on_the_index_is_installed_in_the_build_and_a_missing_one_fails_with_pips_message()
    {
        // Nothing about the index is configured; the relay directory only so this test can look at it alone.
        var relayDir = Path.Combine(_root, "relay");
        await using var web = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(BuilderInstance.Embedded(DataDir))
        {
            ["Builder__Build__RelayDir"] = relayDir,
        });
        var client = BuilderInstance.Client(web);

        await PublishHelperAsync(client);

        var toolGit = await GitRepositories.CreateAsync(Path.Combine(_root, "tool"), BuildsWith("acme-tool", "acme-helper", "acme_helper"), "v1.0.0");
        var tool = await client.RegisterAsync("acme/tool", toolGit.CloneUrl);
        var built = await client.WaitForBuildAsync(await client.PushTagAsync(tool, toolGit));

        await ReleaseAssertions.AssertPublishedAsync(client, built, "acme-tool", "1.0.0");
        var log = await client.GetLogAsync(built.Id);
        Assert.Contains("[x86_64] [setup] build requirements from Builder's index via the relay", log, StringComparison.Ordinal);
        Assert.Contains("acme_helper-1.0-py3-none-any.whl", log, StringComparison.Ordinal);
        // setup.py ran with acme_helper imported: the summary it computed is in the published metadata.
        using (var json = await client.Http.GetAsync("/pypi/acme-tool/json"))
        {
            Assert.Contains("built with acme-helper 1.0", await json.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var orphanGit = await GitRepositories.CreateAsync(Path.Combine(_root, "orphan"), BuildsWith("acme-orphan", "acme-missing", "acme_missing"), "v1.0.0");
        var orphan = await client.RegisterAsync("acme/orphan", orphanGit.CloneUrl);
        var failed = await client.WaitForBuildAsync(await client.PushTagAsync(orphan, orphanGit));

        Assert.Equal("failed", failed.State);
        var orphanLog = await client.GetLogAsync(failed.Id);
        Assert.Contains("No matching distribution found for acme-missing", orphanLog, StringComparison.Ordinal);
        Assert.Contains("No matching distribution found for acme-missing", failed.Error, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.Http.GetAsync("/simple/acme-orphan/")).StatusCode);

        // Every relay directory went with its container.
        Assert.Empty(Directory.EnumerateFileSystemEntries(relayDir));
    }

    [Fact]
    public async Task A_build_reads_the_index_with_its_repositorys_rights_a_project_outside_relay_projects_is_not_there_for_it()
    {
        await using var web = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(BuilderInstance.Embedded(DataDir))
        {
            ["Builder__Build__Pythons__0"] = "cp311",
        });
        var client = BuilderInstance.Client(web);
        await PublishHelperAsync(client);

        // The same project twice: a repository whose builds may read only "other-*" does not see acme-helper (the index
        // answers its relay as it answers any principal without that right: not found), one allowed "acme-*" does.
        var files = BuildsWith("acme-fenced", "acme-helper", "acme_helper");
        var fencedGit = await GitRepositories.CreateAsync(Path.Combine(_root, "fenced"), files, "v1.0.0");
        var fenced = await client.RegisterAsync("acme/fenced", fencedGit.CloneUrl, relayProjects: ["other-*"]);
        var refused = await client.WaitForBuildAsync(await client.PushTagAsync(fenced, fencedGit));

        Assert.Equal("failed", refused.State);
        Assert.Contains("No matching distribution found for acme-helper", await client.GetLogAsync(refused.Id), StringComparison.Ordinal);

        var allowedGit = await GitRepositories.CreateAsync(Path.Combine(_root, "allowed"), BuildsWith("acme-allowed", "acme-helper", "acme_helper"), "v1.0.0");
        var allowed = await client.RegisterAsync("acme/allowed", allowedGit.CloneUrl, relayProjects: ["acme-*"]);
        var built = await client.WaitForBuildAsync(await client.PushTagAsync(allowed, allowedGit));

        await ReleaseAssertions.AssertPublishedAsync(client, built, "acme-allowed", "1.0.0");
        Assert.Contains("acme_helper-1.0-py3-none-any.whl", await client.GetLogAsync(built.Id), StringComparison.Ordinal);
    }
}
