using Builder.Docker;
using Builder.Tests.Integration.Infrastructure;
using Docker.DotNet;

namespace Builder.Tests.Integration.Docker;

/// <summary>A Builder process killed mid-build leaves its container; the next start of the same worker removes it.</summary>
[DockerBuild]
public sealed class WorkerRestartTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("restart");
    private readonly string _owner = $"test-restart-{Guid.NewGuid():N}";

    private Dictionary<string, string> Environment(int timeoutSeconds) => new(BuilderInstance.Embedded(Path.Combine(_root, "data")))
    {
        ["Builder__Build__WorkerName"] = _owner,
        ["Builder__Build__TimeoutSeconds"] = timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task A_killed_process_leaves_no_container_after_its_next_start_and_the_build_is_run_again()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "slow"),
            ContainerProjects.WithSetupPrelude("slowpkg", "import time\ntime.sleep(120)"), "v1.0.0");
        long id;
        string leftover;
        await using (var first = await BuilderProcess.StartWebAsync(Environment(timeoutSeconds: 300)))
        {
            var client = BuilderInstance.Client(first);
            var repository = await client.RegisterAsync("acme/slowpkg", git.CloneUrl);
            id = await client.PushTagAsync(repository, git);
            leftover = await WaitForRunningContainerAsync(TimeSpan.FromSeconds(90));
            await first.KillAsync();
        }

        using var docker = DockerHarness.Client();
        // The kill really left the container behind: only the sweep can remove it now.
        Assert.True((await docker.Containers.InspectContainerAsync(leftover)).State?.Running == true, "the killed process's container should still run");

        // The second start re-runs the build; a short wall clock makes that run end (failed) quickly.
        await using var second = await BuilderProcess.StartWebAsync(Environment(timeoutSeconds: 10));
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => docker.Containers.InspectContainerAsync(leftover));
        Assert.Contains($"Startup sweep removed 1 leftover build container(s) of owner {_owner}", second.Output, StringComparison.Ordinal);

        var build = await BuilderInstance.Client(second).WaitForBuildAsync(id, TimeSpan.FromSeconds(120));
        Assert.Equal("failed", build.State);
        Assert.Contains("timed out after 10 s", build.Error, StringComparison.Ordinal);
        Assert.Contains($"Build {id} was unfinished at the last stop; enqueued again", second.Output, StringComparison.Ordinal);
        Assert.Empty(await DockerHarness.ContainersOfOwnerAsync(_owner));
    }

    private async Task<string> WaitForRunningContainerAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            // Created is not enough: the build's code runs only once the container is started.
            var containers = await DockerHarness.ContainersOfOwnerAsync(_owner);
            if (containers.Count > 0 && containers[0].State == "running")
            {
                var container = Assert.Single(containers);
                Assert.Equal("true", container.Labels[DockerWheelBuilder.ManagedLabel]);
                return container.ID;
            }

            // Polling an outside system for a state it reaches on its own; the deadline, not the delay, decides.
            await Task.Delay(TimeSpan.FromMilliseconds(250), cts.Token);
        }
    }

    public void Dispose()
    {
        DockerHarness.RemoveContainersOfOwnerAsync(_owner).GetAwaiter().GetResult();
        TestPaths.DeleteDirectory(_root);
    }
}
