using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>A project's <c>[tool.cibuildwheel]</c> table shapes a real build in the local image (embedded mode).</summary>
[DockerBuild]
public sealed class CibuildwheelSettingsTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDirectory("cibuildwheel");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        TestPaths.DeleteDirectory(_root);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The C extension fixture, whose module also reports a marker that setup.py compiles in: the file before-build
    /// writes (from the environment's variable and the build's python), so the wheel proves both ran before the build.
    /// </summary>
    private static Dictionary<string, string> ConfiguredCExtension(string name, string version)
    {
        var files = PythonProjects.CExtension(name, version);
        files["pyproject.toml"] = """
            [build-system]
            requires = ["setuptools>=40.8.0", "wheel"]
            build-backend = "setuptools.build_meta"

            [tool.cibuildwheel]
            build = "cp39-* cp310-* cp311-*"
            skip = "cp39-*"
            repair-wheel-command = "auditwheel repair -w {dest_dir} {wheel}"
            environment = { MARKER_WHO = "built by \"builder\"" }
            before-build = "echo \"$MARKER_WHO for 3.$(python -c 'import sys; print(sys.version_info[1])')\" > {project}/marker.txt"
            """;
        files["setup.py"] = $$"""
            import os
            from setuptools import setup, Extension

            marker = open("marker.txt").read().strip() if os.path.exists("marker.txt") else "no marker"
            setup(
                name="{{name}}",
                version="{{version}}",
                packages=["fastadd"],
                ext_modules=[Extension("fastadd._fastadd", ["src/fastadd.c"], define_macros=[("MARKER", '"%s"' % marker.replace('"', '\\"'))])],
                python_requires=">=3.8",
            )
            """;
        files["fastadd/__init__.py"] = "from fastadd._fastadd import add, marker\n";
        files["src/fastadd.c"] = files["src/fastadd.c"]
            .Replace("static PyMethodDef methods[] = {", """
                static PyObject *marker(PyObject *self, PyObject *args) { return PyUnicode_FromString(MARKER); }

                static PyMethodDef methods[] = {
                    {"marker", marker, METH_NOARGS, "The before-build marker compiled in."},
                """, StringComparison.Ordinal);
        return files;
    }

    [Fact]
    public async Task Build_and_skip_select_the_wheels_and_environment_and_before_build_run_before_each_build()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "repo"), ConfiguredCExtension("fastadd", "3.1.0"), "v3.1.0");
        await using var web = await BuilderProcess.StartWebAsync(BuilderInstance.Embedded(Path.Combine(_root, "data")));
        var client = BuilderInstance.Client(web);
        var repository = await client.RegisterAsync("acme/fastadd", git.CloneUrl);
        var build = await client.WaitForBuildAsync(await client.PushTagAsync(repository, git));

        var files = await ReleaseAssertions.AssertPublishedAsync(client, build, "fastadd", "3.1.0");
        var wheels = files.Where(f => f.EndsWith(".whl", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["fastadd-3.1.0-cp310-cp310-linux_x86_64.whl", "fastadd-3.1.0-cp311-cp311-linux_x86_64.whl"], wheels);
        Assert.Equal(["sdist", "cp310-manylinux_x86_64", "cp311-manylinux_x86_64"],
            ReleaseAssertions.Targets(build).Select(t => t.GetProperty("name").GetString()));

        var log = await client.GetLogAsync(build.Id);
        Assert.Contains("[plan] pyproject.toml [tool.cibuildwheel]", log, StringComparison.Ordinal);
        Assert.Contains("[plan] honored: build = \"cp39-* cp310-* cp311-*\"", log, StringComparison.Ordinal);
        Assert.Contains("[plan] honored: skip = \"cp39-*\"", log, StringComparison.Ordinal);
        Assert.Contains("[plan] ignored: repair-wheel-command: not supported, Builder runs auditwheel repair itself", log, StringComparison.Ordinal);
        Assert.Contains("[plan] x86_64: cp310-manylinux_x86_64, cp311-manylinux_x86_64\n", log, StringComparison.Ordinal);
        Assert.Contains("[environment] set MARKER_WHO", log, StringComparison.Ordinal);
        Assert.Contains("[cp311-cp311 before-build]", log, StringComparison.Ordinal);
        Assert.Contains("[repair] auditwheel is not in this image", log, StringComparison.Ordinal);
        Assert.DoesNotContain("cp39-cp39 wheel", log, StringComparison.Ordinal);

        // The environment reached before-build (quotes intact), and before-build ran with the wheel's own python.
        var directory = Path.Combine(_root, "pip");
        Directory.CreateDirectory(directory);
        var python = await Pip.InstallAsync("3.11", BuilderInstance.WithCredentials(client.Http.BaseAddress + "simple/"), "fastadd==3.1.0", directory);
        var result = (await Shell.RunAsync(python, ["-c", "import fastadd; print(fastadd.marker(), fastadd.add(2, 3))"], directory)).EnsureSuccess("import fastadd");
        Assert.Equal("built by \"builder\" for 3.11 5", result.Output.Trim());
    }
}
