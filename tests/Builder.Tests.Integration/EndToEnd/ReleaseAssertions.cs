using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Provenance;

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

    /// <summary>
    /// Every file <paramref name="build"/> published verifies with <see cref="IndependentVerifier"/> (the test's own code)
    /// against the CA the server publishes, fetched without credentials: the PEP 691 JSON page's <c>provenance</c> URL
    /// answers a provenance object whose attestation is signed over the downloaded bytes and names the tag, the commit,
    /// the build, and the architecture, target and image (by the engine's digest) that made the file; the HTML page's
    /// <c>data-provenance</c> is the same URL. Returns the verified files.
    /// </summary>
    public static async Task<IReadOnlyList<VerifiedFile>> AssertProvenanceAsync(BuilderClient client, BuildStatus build, string project, string repositoryName, TaggedRepository git)
    {
        var ca = await IndependentVerifier.FetchCaAsync(client.Http.BaseAddress!);
        var page = await IndependentVerifier.ReadJsonPageAsync(client.Http, project);
        var html = await IndependentVerifier.ReadHtmlProvenanceAsync(client.Http, project);
        var published = build.Json.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("filename").GetString()!).Order(StringComparer.Ordinal).ToList();
        var files = page.Where(f => published.Contains(f.Filename)).OrderBy(f => f.Filename, StringComparer.Ordinal).ToList();
        Assert.Equal(published, files.Select(f => f.Filename));
        var wheelTargets = Targets(build).Select(t => t.GetProperty("name").GetString()!).Where(t => t != "sdist").ToList();

        var verified = new List<VerifiedFile>();
        foreach (var file in files)
        {
            Assert.True(file.RawProvenance is not null, $"{file.Filename}: the JSON page's provenance is null");
            Assert.Equal(file.RawProvenance, html[file.Filename]);
            var result = await IndependentVerifier.VerifyFileAsync(client.Http, file, ca);
            var attestation = Assert.Single(result.Attestations);

            Assert.Equal("https://github.com/builder-index/builder/buildtypes/wheel/v1", attestation.BuildType);
            Assert.Equal(git.CloneUrl, attestation.Repository);
            Assert.Equal("github", attestation.Forge);
            Assert.Equal("refs/tags/" + git.Tag, attestation.Ref);
            Assert.Equal(git.CommitSha, attestation.GitCommit);
            Assert.EndsWith($"/builds/{build.Id}", attestation.InvocationId, StringComparison.Ordinal);
            Assert.Equal("x86_64", attestation.Architecture);
            // The sdist's target, or the wheel's (one of the build's targets): its cibuildwheel identifier.
            var expected = file.Filename.EndsWith(".tar.gz", StringComparison.Ordinal) ? ["sdist"] : wheelTargets;
            Assert.True(attestation.Identifier is { } identifier && expected.Contains(identifier),
                $"{file.Filename}: identifier {attestation.Identifier ?? "null"}, not one of {string.Join(", ", expected)}; the statement: {attestation.Statement}");

            // The image by the engine's own digest of it, as a resolved dependency too.
            Assert.False(string.IsNullOrEmpty(attestation.Image), $"{file.Filename}: no image");
            Assert.Matches("^sha256:[0-9a-f]{64}$", attestation.ImageDigest);
            var engine = (await Shell.RunAsync("docker", ["image", "inspect", "--format", "{{.Id}}", attestation.Image!])).EnsureSuccess("docker image inspect");
            Assert.Equal(engine.Output.Trim(), attestation.ImageDigest);
            Assert.Equal("docker-image://" + attestation.Image, attestation.ImageDependencyUri);
            Assert.Equal(attestation.ImageDigest, "sha256:" + attestation.ImageDependencySha256);
            Assert.True(attestation.StartedOn is { } started && attestation.FinishedOn is { } finished && started <= finished,
                $"{file.Filename}: startedOn {attestation.StartedOn}, finishedOn {attestation.FinishedOn}");
            // The log section that made the file, by its target.
            Assert.Contains(attestation.Byproducts, b => b.Contains(attestation.Identifier!, StringComparison.Ordinal));

            // PEP 740's publisher says the same as the signed statement.
            Assert.Equal("builder", result.Publisher.GetProperty("kind").GetString());
            foreach (var claims in new[] { result.Publisher, result.Publisher.GetProperty("claims") })
            {
                Assert.Equal(repositoryName, claims.GetProperty("repository").GetString());
                Assert.Equal(git.Tag, claims.GetProperty("tag").GetString());
                Assert.Equal(git.CommitSha, claims.GetProperty("commit").GetString());
                Assert.Equal(attestation.InvocationId, claims.GetProperty("build").GetString());
            }

            verified.Add(result);
        }

        return verified;
    }

    public static int WheelCount(BuildStatus build, string suffix) =>
        build.Json.GetProperty("files").EnumerateArray().Count(f => f.GetProperty("filename").GetString()!.EndsWith(suffix, StringComparison.Ordinal));

    public static IEnumerable<JsonElement> Targets(BuildStatus build) => build.Json.GetProperty("targets").EnumerateArray();
}
