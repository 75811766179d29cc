using System.Net;
using System.Text.Json;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>
/// The embedded server of <see cref="ReleaseLifecycleTests"/>' single-part builds: cp311 and cp312, and an aarch64 image
/// that is not on the engine; its containers carry an owner of their own.
/// </summary>
public sealed class LifecycleBuilder : EmbeddedBuilder
{
    public string Owner { get; } = "lifecycle-" + Guid.NewGuid().ToString("N")[..8];

    protected override void Configure(Dictionary<string, string> settings)
    {
        settings["Builder__Build__WorkerName"] = Owner;
        settings["Builder__Build__Pythons__0"] = "cp311";
        settings["Builder__Build__Pythons__1"] = "cp312";
        settings["Builder__Build__Images__aarch64"] = "builder-local/no-such-image:latest";
    }
}

/// <summary>The embedded server of <see cref="ReleaseLifecycleTests"/>' releases split into parts: cp311 and cp312, each architecture's targets split into two parts.</summary>
public sealed class SplitLifecycleBuilder : EmbeddedBuilder
{
    protected override void Configure(Dictionary<string, string> settings)
    {
        settings["Builder__Build__Pythons__0"] = "cp311";
        settings["Builder__Build__Pythons__1"] = "cp312";
        settings["Builder__Build__ParallelTargets"] = "2";
    }
}

/// <summary>
/// A release is all or nothing: a failing test publishes nothing, a deleted tag cancels its build, a moved tag is refused.
/// The tests share two embedded servers (<see cref="LifecycleBuilder"/>, <see cref="SplitLifecycleBuilder"/>), each test
/// with repositories and projects of its own.
/// </summary>
[DockerBuild]
public sealed class ReleaseLifecycleTests(LifecycleBuilder builder, SplitLifecycleBuilder splitBuilder)
    : IClassFixture<LifecycleBuilder>, IClassFixture<SplitLifecycleBuilder>, IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("lifecycle");

    public void Dispose() => TestPaths.DeleteDirectory(_root);

    private static Dictionary<string, string> WithCibuildwheel(Dictionary<string, string> files, string table)
    {
        files["pyproject.toml"] = files.GetValueOrDefault("pyproject.toml", """
            [build-system]
            requires = ["setuptools>=40.8.0", "wheel"]
            build-backend = "setuptools.build_meta"
            """) + "\n\n[tool.cibuildwheel]\n" + table + "\n";
        return files;
    }

    /// <summary>Nothing of the build is left in the staging area of the server's data directory.</summary>
    private static void AssertNothingStaged(EmbeddedBuilder server, long buildId) =>
        Assert.Empty(Directory.Exists(Path.Combine(server.DataDir, "files")) ? Directory.GetDirectories(Path.Combine(server.DataDir, "files"), $"_staging-{buildId}") : []);

    [Fact]
    public async Task A_test_command_failing_on_one_python_fails_the_release_and_publishes_none_of_its_files()
    {
        var files = WithCibuildwheel(PythonProjects.CExtension("fastadd", "4.0.0"),
            """test-command = "python -c \"import sys, fastadd; assert fastadd.add(2, 3) == 5; sys.exit(7 if sys.version_info[:2] == (3, 12) else 0)\"" """);
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "repo"), files, "v4.0.0");
        var client = builder.Client;
        var repository = await client.RegisterAsync("acme/fastadd", git.CloneUrl);

        var build = await client.WaitForBuildAsync(await client.PushTagAsync(repository, git));

        Assert.Equal("failed", build.State);
        Assert.Contains("test of cp312-manylinux_x86_64 failed", build.Error, StringComparison.Ordinal);
        var targets = ReleaseAssertions.Targets(build).ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("succeeded").GetBoolean());
        Assert.True(targets["cp311-manylinux_x86_64 test"], "the cp311 wheel passed its test");
        Assert.False(targets["cp312-manylinux_x86_64 test"]);
        Assert.Empty(build.Json.GetProperty("files").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await client.Http.GetAsync("/simple/fastadd/")).StatusCode);
        Assert.False(Directory.Exists(Path.Combine(builder.DataDir, "files", "fastadd")), "the sdist and the cp311 wheel that built fine are not published either");
        AssertNothingStaged(builder, build.Id);
        var log = await client.GetLogAsync(build.Id);
        Assert.Contains("[builder] FAILED: x86_64: test of cp312-manylinux_x86_64 failed", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_the_tag_cancels_its_running_build_stops_the_container_and_publishes_nothing()
    {
        var files = WithCibuildwheel(PythonProjects.Pure("acme-slow", "1.0.0"), """before-build = "echo sleeping for $((6 * 100)) s; sleep 600" """);
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "repo"), files, "v1.0.0");
        var client = builder.Client;
        var repository = await client.RegisterAsync("acme/slow", git.CloneUrl);
        var id = await client.PushTagAsync(repository, git);
        await WaitUntilAsync(async () => (await client.GetLogSoFarAsync(id)).Contains("sleeping for 600 s", StringComparison.Ordinal), "before-build to start");
        Assert.NotEmpty(await ContainersAsync(id));

        using var deletion = await client.SendWebhookAsync(
            BuilderClient.PushPayload(repository.Name, "refs/tags/v1.0.0", git.TagObjectSha, new string('0', 40), deleted: true), repository.WebhookSecret);

        Assert.Equal(HttpStatusCode.Accepted, deletion.StatusCode);
        var cancelled = JsonDocument.Parse(await deletion.Content.ReadAsStringAsync()).RootElement.GetProperty("cancelled");
        Assert.Equal([id], cancelled.EnumerateArray().Select(e => e.GetInt64()));
        var build = await client.GetBuildAsync(id);
        Assert.Equal("cancelled", build.State);
        Assert.Equal("cancelled: tag 'v1.0.0' was deleted", build.Error);
        // Hangfire notices the deleted job within its cancellation check interval; the runner then removes the container.
        await WaitUntilAsync(async () => (await ContainersAsync(id)).Count == 0, "the build container to be removed");
        await WaitUntilAsync(async () => (await client.GetLogSoFarAsync(id)).Contains("stopped: cancelled: tag 'v1.0.0' was deleted", StringComparison.Ordinal), "the part to log its cancellation");
        Assert.Equal("cancelled", (await client.GetBuildAsync(id)).State);
        Assert.Equal(HttpStatusCode.NotFound, (await client.Http.GetAsync("/simple/acme-slow/")).StatusCode);
        AssertNothingStaged(builder, id);

        // Deleting it again finds nothing unfinished.
        using var again = await client.SendWebhookAsync(
            BuilderClient.PushPayload(repository.Name, "refs/tags/v1.0.0", git.TagObjectSha, new string('0', 40), deleted: true), repository.WebhookSecret);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
    }

    [Fact]
    public async Task A_published_tag_moved_to_another_commit_is_refused_and_the_release_stays_as_published()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "repo"), PythonProjects.Pure("acme-moved", "2.0.0"), "v2.0.0");
        var client = builder.Client;
        var repository = await client.RegisterAsync("acme/moved", git.CloneUrl);
        var first = await client.WaitForBuildAsync(await client.PushTagAsync(repository, git));
        var published = await ReleaseAssertions.AssertPublishedAsync(client, first, "acme-moved", "2.0.0");

        var work = Path.Combine(_root, "repo", "work");
        await File.WriteAllTextAsync(Path.Combine(work, "CHANGES.txt"), "a change after the release\n");
        (await Shell.GitAsync(work, "add", "-A")).EnsureSuccess("git add");
        (await Shell.GitAsync(work, "commit", "-q", "-m", "after the release")).EnsureSuccess("git commit");
        (await Shell.GitAsync(work, "tag", "-f", "-a", "v2.0.0", "-m", "moved")).EnsureSuccess("git tag -f");
        (await Shell.GitAsync(work, "push", "-q", "-f", git.BareDirectory, "main", "v2.0.0")).EnsureSuccess("git push -f");
        var moved = git with
        {
            CommitSha = (await Shell.GitAsync(work, "rev-parse", "v2.0.0^{commit}")).Output.Trim(),
            TagObjectSha = (await Shell.GitAsync(work, "rev-parse", "v2.0.0")).Output.Trim(),
        };
        var second = await client.WaitForBuildAsync(await client.PushTagAsync(repository, moved));

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal("failed", second.State);
        Assert.Contains($"tag 'v2.0.0' was published from commit {git.CommitSha} and now points at {moved.CommitSha}", second.Error, StringComparison.Ordinal);
        Assert.Empty(second.Json.GetProperty("parts").EnumerateArray());
        var page = await client.Http.GetStringAsync("/simple/acme-moved/");
        Assert.All(published, f => Assert.Contains(f, page, StringComparison.Ordinal));

        // The original push delivered again is the original build: a no-op.
        Assert.Equal(first.Id, await client.PushTagAsync(repository, git));
    }

    [Fact]
    public async Task With_parallel_targets_the_parts_of_one_release_build_at_once_and_publish_together()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "repo"), PythonProjects.CExtension("fastadd", "5.0.0"), "v5.0.0");
        var client = splitBuilder.Client;
        var repository = await client.RegisterAsync("acme/fastadd", git.CloneUrl);

        var build = await client.WaitForBuildAsync(await client.PushTagAsync(repository, git));

        var files = await ReleaseAssertions.AssertPublishedAsync(client, build, "fastadd", "5.0.0");
        Assert.Equal(["fastadd-5.0.0-cp311-cp311-linux_x86_64.whl", "fastadd-5.0.0-cp312-cp312-linux_x86_64.whl", "fastadd-5.0.0.tar.gz"],
            files.Order(StringComparer.Ordinal));
        var parts = build.Json.GetProperty("parts").EnumerateArray().ToList();
        Assert.Equal(["cp311-manylinux_x86_64", "cp312-manylinux_x86_64"], parts.Select(p => Assert.Single(p.GetProperty("identifiers").EnumerateArray()).GetString()));
        Assert.Equal([true, false], parts.Select(p => p.GetProperty("sdist").GetBoolean()));
        Assert.All(parts, p => Assert.Equal("succeeded", p.GetProperty("state").GetString()));
        // Two workers (Builder:Jobs:WorkerCount's default): each part started before the other finished.
        var (first, second) = (parts[0], parts[1]);
        Assert.True(first.GetProperty("startedAt").GetDateTimeOffset() < second.GetProperty("finishedAt").GetDateTimeOffset()
            && second.GetProperty("startedAt").GetDateTimeOffset() < first.GetProperty("finishedAt").GetDateTimeOffset(), "the parts overlapped");
        AssertNothingStaged(splitBuilder, build.Id);
    }

    [Fact]
    public async Task A_project_widening_the_matrix_to_an_architecture_is_built_by_the_embedded_server_or_fails_with_a_message()
    {
        // The server plans x86_64 only, and its aarch64 image is not on the engine; the project asks for aarch64.
        var files = WithCibuildwheel(PythonProjects.Pure("acme-arm", "1.0.0"), """archs = ["aarch64"]""");
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "repo"), files, "v1.0.0");
        var client = builder.Client;
        var repository = await client.RegisterAsync("acme/arm", git.CloneUrl);

        var build = await client.WaitForBuildAsync(await client.PushTagAsync(repository, git), TimeSpan.FromMinutes(2));

        // The one embedded process takes every architecture's queue, so the part ran (and did not wait forever).
        Assert.Equal("failed", build.State);
        Assert.Contains("build image 'builder-local/no-such-image:latest' is not on the Docker engine", build.Error, StringComparison.Ordinal);
        Assert.Equal("arch-aarch64", Assert.Single(build.Json.GetProperty("parts").EnumerateArray()).GetProperty("queue").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.Http.GetAsync("/simple/acme-arm/")).StatusCode);
    }

    [Fact]
    public async Task A_pure_project_split_into_parts_publishes_its_one_wheel_once_and_only_the_first_part_builds_the_sdist()
    {
        // PEP 621 metadata: Requires-Python is static, so the second part needs no sdist to learn it.
        var files = new Dictionary<string, string>
        {
            ["pyproject.toml"] = """
                [build-system]
                requires = ["setuptools>=61", "wheel"]
                build-backend = "setuptools.build_meta"

                [project]
                name = "acme-modern"
                version = "3.0.0"
                requires-python = ">=3.8"

                [tool.setuptools]
                packages = ["acme_modern"]
                """,
            ["acme_modern/__init__.py"] = "VERSION = \"3.0.0\"\n",
        };
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "repo"), files, "v3.0.0");
        var client = splitBuilder.Client;
        var repository = await client.RegisterAsync("acme/modern", git.CloneUrl);

        var build = await client.WaitForBuildAsync(await client.PushTagAsync(repository, git));

        var published = await ReleaseAssertions.AssertPublishedAsync(client, build, "acme-modern", "3.0.0");
        // The image's setuptools writes the sdist as "acme-modern-3.0.0.tar.gz"; it is published under its canonical name (PEP 625).
        Assert.Equal(["acme_modern-3.0.0-py3-none-any.whl", "acme_modern-3.0.0.tar.gz"], published.Order(StringComparer.Ordinal));
        Assert.Equal(2, build.Json.GetProperty("parts").GetArrayLength());
        Assert.Single(ReleaseAssertions.Targets(build), t => t.GetProperty("name").GetString() == "sdist");
        Assert.Contains("[sdist] not needed: no --sdist, and pyproject.toml [project] fixes Requires-Python", await client.GetLogAsync(build.Id), StringComparison.Ordinal);
        AssertNothingStaged(splitBuilder, build.Id);
    }

    /// <summary>The build's containers (the server's owner and the build's id).</summary>
    private async Task<IReadOnlyList<string>> ContainersAsync(long buildId)
    {
        var result = (await Shell.RunAsync("docker", ["ps", "-aq", "--filter", $"label=io.builder.owner={builder.Owner}", "--filter", $"label=io.builder.build-id={buildId}"], _root)).EnsureSuccess("docker ps");
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(500);
        }
    }
}
