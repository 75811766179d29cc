using Builder.Core.Builds;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Docker;

/// <summary>cibuildwheel's test stage: the built wheels installed in a fresh venv in a new clean container, then the test command.</summary>
[DockerBuild]
public sealed class TestStageTests
{
    [Fact]
    public async Task A_failing_test_command_fails_the_architecture_and_names_the_target()
    {
        using var harness = new DockerHarness();

        var result = await harness.BuildAsync(ContainerProjects.PureWithTests(),
            new ProjectBuildSettings(null, null, "python -c \"import mypkg; assert mypkg.add(1,1) == 3\"", []),
            ["cp311-manylinux_x86_64"]);

        Assert.False(result.Succeeded);
        Assert.StartsWith("x86_64: test of cp311-manylinux_x86_64 failed", result.Error, StringComparison.Ordinal);
        Assert.Contains("AssertionError", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Files);
        var test = Assert.Single(result.Targets, t => t.Name == "cp311-manylinux_x86_64 test");
        Assert.False(test.Succeeded);
        Assert.Contains("[x86_64] [cp311-cp311 test] AssertionError", harness.Log.Text, StringComparison.Ordinal);
        Assert.Empty(await harness.OwnedContainersAsync());
    }

    [Fact]
    public async Task A_C_extension_built_without_capabilities_passes_its_tests_from_the_project_directory()
    {
        using var harness = new DockerHarness();

        var result = await harness.BuildAsync(ContainerProjects.CExtensionWithTests(),
            new ProjectBuildSettings(null, null, "python -m unittest discover -v -s {project}/tests", []),
            ["cp312-manylinux_x86_64", "cp313-manylinux_x86_64"]);

        Assert.True(result.Succeeded, result.Error + "\n" + harness.Log.Text);
        Assert.Contains(result.Files, f => f.EndsWith("-cp312-cp312-linux_x86_64.whl", StringComparison.Ordinal));
        Assert.Contains(result.Files, f => f.EndsWith("-cp313-cp313-linux_x86_64.whl", StringComparison.Ordinal));
        Assert.Contains(result.Targets, t => t.Name == "cp312-manylinux_x86_64 test" && t.Succeeded);
        Assert.Contains(result.Targets, t => t.Name == "cp313-manylinux_x86_64 test" && t.Succeeded);
        Assert.Contains("[x86_64] [cp313-cp313 test] test_installed_not_source", harness.Log.Text, StringComparison.Ordinal);
        Assert.Empty(await harness.OwnedContainersAsync());
    }
}
