using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>What a published release must look like from the outside: the build API, the index page, and pip.</summary>
internal static class ReleaseAssertions
{
    public static async Task<IReadOnlyList<string>> AssertPublishedAsync(BuilderClient client, BuildStatus build, string project, string version)
    {
        var log = await client.GetLogAsync(build.Id);
        Assert.True(build.State == "succeeded", $"build {build.Id} {build.State}: {build.Error}\n{log}");
        Assert.Equal(project, build.Project);
        Assert.Equal(version, build.Version);

        var files = build.Json.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("filename").GetString()!).ToList();
        // One sdist; setuptools < 69.3 keeps '-' in its name, newer ones write the PEP 625 '_' spelling.
        Assert.Single(files, f => f.EndsWith($"-{version}.tar.gz", StringComparison.Ordinal)
            && Builder.Core.Packaging.PackageName.Normalize(f[..^$"-{version}.tar.gz".Length]) == project);
        foreach (var target in build.Json.GetProperty("targets").EnumerateArray())
        {
            Assert.True(target.GetProperty("succeeded").GetBoolean(), target.ToString());
            Assert.True(target.GetProperty("seconds").GetDouble() > 0, $"target without a duration: {target}");
        }

        // The index page links every file with its sha256 and Requires-Python.
        var page = await client.Http.GetStringAsync($"/simple/{project}/");
        foreach (var file in build.Json.GetProperty("files").EnumerateArray())
        {
            var name = file.GetProperty("filename").GetString()!;
            Assert.Contains($"{name}#sha256={file.GetProperty("sha256").GetString()}", page, StringComparison.Ordinal);
        }

        Assert.Contains("data-requires-python=\"&gt;=3.8\"", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"{project}/\"", await client.Http.GetStringAsync("/simple/"), StringComparison.Ordinal);
        return files;
    }

    /// <summary>pip-installs the release into fresh venvs of two Pythons and runs <paramref name="check"/> with each.</summary>
    public static async Task AssertPipInstallsAsync(BuilderClient client, string project, string version, string check, string expectedOutput)
    {
        var directory = TestPaths.NewTempDirectory("pip");
        try
        {
            foreach (var python in BuilderInstance.InstallPythons)
            {
                var venvPython = await Pip.InstallAsync(python, BuilderInstance.WithCredentials(client.Http.BaseAddress + "simple/"), $"{project}=={version}", directory);
                var result = (await Shell.RunAsync(venvPython, ["-c", check], directory)).EnsureSuccess($"python {python} -c {check}");
                Assert.Equal(expectedOutput, result.Output.Trim());
            }
        }
        finally
        {
            TestPaths.DeleteDirectory(directory);
        }
    }

    public static int WheelCount(BuildStatus build, string suffix) =>
        build.Json.GetProperty("files").EnumerateArray().Count(f => f.GetProperty("filename").GetString()!.EndsWith(suffix, StringComparison.Ordinal));

    public static IEnumerable<JsonElement> Targets(BuildStatus build) => build.Json.GetProperty("targets").EnumerateArray();
}
