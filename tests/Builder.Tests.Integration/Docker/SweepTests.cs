using Builder.Core.Configuration;
using Builder.Docker;
using Builder.Tests.Integration.Infrastructure;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Builder.Tests.Integration.Docker;

/// <summary>The startup sweep removes what a crashed process of the same owner left, and nothing else.</summary>
[DockerBuild]
public sealed class SweepTests
{
    [Fact]
    public async Task The_sweep_removes_leftovers_of_its_owner_and_leaves_other_owners_alone()
    {
        var owner = $"test-sweep-{Guid.NewGuid():N}";
        var other = $"test-sweep-other-{Guid.NewGuid():N}";
        using var docker = DockerHarness.Client();
        var leftover = await StartSleeperAsync(docker, owner);
        var foreign = await StartSleeperAsync(docker, other);
        try
        {
            var options = new BuildOptions { WorkerName = owner };
            var sweeper = new BuildContainerSweeper(new DockerClientFactory(Options.Create(options)), Options.Create(options), NullLogger<BuildContainerSweeper>.Instance);

            var removed = await sweeper.SweepAsync(owner, CancellationToken.None);

            Assert.Equal(1, removed);
            await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => docker.Containers.InspectContainerAsync(leftover));
            Assert.True((await docker.Containers.InspectContainerAsync(foreign)).State?.Running == true, "another owner's container must keep running");
        }
        finally
        {
            await DockerHarness.RemoveContainersOfOwnerAsync(owner);
            await DockerHarness.RemoveContainersOfOwnerAsync(other);
        }
    }

    private static async Task<string> StartSleeperAsync(DockerClient docker, string owner)
    {
        var container = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = new BuildOptions().Images["x86_64"],
            Cmd = ["sleep", "300"],
            Labels = new Dictionary<string, string>
            {
                [DockerWheelBuilder.ManagedLabel] = "true",
                [DockerWheelBuilder.BuildIdLabel] = "1",
                [DockerWheelBuilder.OwnerLabel] = owner,
            },
            HostConfig = new HostConfig { NetworkMode = "none" },
        });
        await docker.Containers.StartContainerAsync(container.ID, new ContainerStartParameters());
        return container.ID;
    }
}
