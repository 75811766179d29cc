using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>
/// Production mode with two workers on one PostgreSQL job store: parts go to their architecture's Hangfire queue, so
/// a worker that takes only aarch64 plans the release but never builds its x86_64 part; a worker for x86_64 does.
/// </summary>
[DockerBuild]
public sealed class QueueRoutingTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDirectory("queues");
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync() => _database = await PostgresDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    [Fact]
    public async Task A_part_waits_on_its_architectures_queue_until_a_worker_that_takes_it_runs_it()
    {
        var settings = BuilderInstance.Production(Path.Combine(_root, "data"), _database.ConnectionString);
        settings["Builder__Build__Pythons__0"] = "cp311";
        var armOnly = new Dictionary<string, string>(settings)
        {
            ["Builder__Jobs__Architectures__0"] = "aarch64",
            ["Builder__Build__WorkerName"] = "queues-arm-worker",
        };
        var x86 = new Dictionary<string, string>(settings) { ["Builder__Build__WorkerName"] = "queues-x86-worker" };
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "pure"), PythonProjects.Pure("acme-routed", "1.0.0"), "v1.0.0");
        await using var web = await BuilderProcess.StartWebAsync(settings);
        var client = BuilderInstance.Client(web);
        var repository = await client.RegisterAsync("acme/routed", git.CloneUrl);

        long id;
        await using (var arm = BuilderProcess.StartWorker(armOnly))
        {
            id = await client.PushTagAsync(repository, git);
            var part = await WaitForPartAsync(client, id);
            Assert.Equal(("x86_64", "arch-x86_64", "queued"),
                (part.GetProperty("architecture").GetString(), part.GetProperty("queue").GetString(), part.GetProperty("state").GetString()));
            // The part's job is enqueued once its row is committed: wait for it (a loaded machine is between the two).
            await Builder.Tests.Integration.Lifecycle.LifecycleProbes.WaitUntilAsync(
                async () => await _database.ScalarAsync("SELECT COUNT(*) FROM hangfire.jobqueue WHERE queue = 'arch-x86_64'") > 0,
                () => "the part's job on the arch-x86_64 queue", TimeSpan.FromSeconds(30));
            Assert.Equal(1, await _database.ScalarAsync("SELECT COUNT(*) FROM hangfire.jobqueue WHERE queue = 'arch-x86_64' AND fetchedat IS NULL"));

            // The aarch64-only worker polls every second: long enough to show it leaves the x86_64 part alone.
            await Task.Delay(TimeSpan.FromSeconds(5));
            Assert.Equal("queued", (await WaitForPartAsync(client, id)).GetProperty("state").GetString());
            Assert.Equal("running", (await client.GetBuildAsync(id)).State);
            Assert.DoesNotContain("Created build container", arm.Output, StringComparison.Ordinal);
        }

        await using var worker = BuilderProcess.StartWorker(x86);
        var build = await client.WaitForBuildAsync(id);

        await ReleaseAssertions.AssertPublishedAsync(client, build, "acme-routed", "1.0.0");
        Assert.Contains($"for build {id}", worker.Output, StringComparison.Ordinal);
        Assert.Contains("[x86_64 part ", await client.GetLogAsync(id), StringComparison.Ordinal);
        Assert.Contains("started on queues-x86-worker", await client.GetLogAsync(id), StringComparison.Ordinal);
    }

    private static async Task<System.Text.Json.JsonElement> WaitForPartAsync(BuilderClient client, long id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var build = await client.GetBuildAsync(id);
            var parts = build.Json.GetProperty("parts");
            if (parts.GetArrayLength() > 0)
            {
                return Assert.Single(parts.EnumerateArray());
            }

            if (build.State is "failed" or "succeeded" || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"build {id} is {build.State} without parts: {build.Error}\n{await client.GetLogAsync(id)}");
            }

            await Task.Delay(250);
        }
    }
}
