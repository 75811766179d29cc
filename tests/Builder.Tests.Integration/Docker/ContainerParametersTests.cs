using Builder.Core.Configuration;
using Builder.Docker;

namespace Builder.Tests.Integration.Docker;

/// <summary>What every build and test container is created with (the Docker tests show that the engine enforces it).</summary>
public sealed class ContainerParametersTests
{
    private static readonly ContainerJob Job = new("img:1", ["true"], 42, "x86_64", "build", _ => Task.FromResult<Stream>(new MemoryStream()));

    [Fact]
    public void Limits_labels_and_privileges_come_from_the_settings()
    {
        var settings = new BuildOptions { MemoryMiB = 2048, Cpus = 1.5, PidsLimit = 512, WorkerName = "worker-7" };

        var create = BuildContainerRunner.CreateParameters(settings, Job);

        var host = Assert.IsType<global::Docker.DotNet.Models.HostConfig>(create.HostConfig);
        Assert.Equal(2048L * 1024 * 1024, host.Memory);
        Assert.Equal(host.Memory, host.MemorySwap);
        Assert.Equal(1_500_000_000L, host.NanoCPUs);
        Assert.Equal(512L, host.PidsLimit);
        Assert.Equal("none", host.NetworkMode);
        Assert.Equal(["no-new-privileges"], host.SecurityOpt);
        Assert.Equal(["ALL"], host.CapDrop);
        Assert.Empty(host.Binds ?? []);
        Assert.Empty(host.Mounts ?? []);
        Assert.False(host.Privileged);
        Assert.Equal(["PYTHONUNBUFFERED=1", "HOME=/tmp"], create.Env);
        Assert.Equal("true", create.Labels[DockerWheelBuilder.ManagedLabel]);
        Assert.Equal("42", create.Labels[DockerWheelBuilder.BuildIdLabel]);
        Assert.Equal("worker-7", create.Labels[DockerWheelBuilder.OwnerLabel]);
    }

    [Fact]
    public void The_relay_directory_is_the_only_host_path_and_is_read_only()
    {
        var create = BuildContainerRunner.CreateParameters(new BuildOptions(), Job, "/var/tmp/relay/0123456789ab");

        Assert.Equal(["/var/tmp/relay/0123456789ab:/builder/relay:ro"], create.HostConfig?.Binds);
        Assert.Empty(create.HostConfig?.Mounts ?? []);
        Assert.Equal("none", create.HostConfig?.NetworkMode);
        Assert.Equal(["PYTHONUNBUFFERED=1", "HOME=/tmp"], create.Env);
    }

    [Fact]
    public void The_test_stage_never_gets_a_network()
    {
        var create = BuildContainerRunner.CreateParameters(new BuildOptions { Network = "bridge" }, Job with { Role = "test" });

        Assert.Equal("none", create.HostConfig?.NetworkMode);
    }

    [Theory]
    [InlineData("python -m pytest {project}/tests", true)]
    [InlineData("pytest {package}", true)]
    [InlineData("python -c 'import mypkg'", false)]
    public void The_source_tree_is_copied_only_for_project_placeholders(string command, bool copied)
    {
        Assert.Equal(copied, DockerWheelBuilder.UsesSourceTree(command));
    }

    [Fact]
    public void The_tester_gets_the_command_requirements_and_interpreters_of_the_identifiers()
    {
        var request = new Builder.Core.Builds.WheelBuildRequest(1, "x86_64", "/src", "/out", false)
        {
            Identifiers = ["cp311-manylinux_x86_64", "cp312-manylinux_x86_64"],
            Project = new Builder.Core.Builds.ProjectBuildSettings(null, null, "pytest {project}/tests", ["pytest", "numpy>=1"]),
        };

        Assert.Equal(
            ["--wheels", "/builder/wheels", "--command", "pytest {project}/tests", "--requires", "pytest", "--requires", "numpy>=1",
             "--project", "/builder/project", "--pythons", "cp311-cp311,cp312-cp312"],
            DockerWheelBuilder.TesterArguments(request));
    }

    [Fact]
    public void Identifiers_matched_by_test_skip_are_not_tested()
    {
        var request = new Builder.Core.Builds.WheelBuildRequest(1, "x86_64", "/src", "/out", false)
        {
            Identifiers = ["cp311-manylinux_x86_64", "cp312-manylinux_x86_64"],
            Project = new Builder.Core.Builds.ProjectBuildSettings(null, null, "python -c 'import mypkg'", [])
            {
                TestSkip = ["cp311-manylinux_x86_64"],
            },
        };

        Assert.Equal(
            ["--wheels", "/builder/wheels", "--command", "python -c 'import mypkg'", "--pythons", "cp312-cp312"],
            DockerWheelBuilder.TesterArguments(request));
    }
}
