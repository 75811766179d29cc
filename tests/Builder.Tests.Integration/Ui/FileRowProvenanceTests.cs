using System.Net;
using System.Text.RegularExpressions;
using Builder.Core.Builds;
using Builder.Data;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Lifecycle;
using Builder.Tests.Integration.Upload;
using Builder.Web.Ui;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// The file rows of the project and release pages say where each file came from: a tag built and published by the
/// real part and publish jobs (<see cref="LifecycleHost"/>, on SQLite and on PostgreSQL) shows its repository@tag, short
/// commit and build, linked to the build page's log section that made the file; a file uploaded with twine says it has
/// no provenance, and one built before Builder signed links its build; the SBOMs a wheel carries in <c>.dist-info/sboms/</c> are listed; the release page names the build
/// image with its digest.
/// </summary>
public sealed partial class FileRowProvenanceTests
{
    private const string Project = "acme-prov";
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";
    private const string Digest = "sha256:4d1c7a0e9b8f6a5d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b";
    private const string Sbom = "acme_prov-1.2.0.dist-info/sboms/x.cdx.json";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Each_file_row_shows_its_provenance_linked_to_the_log_section_that_built_it_or_says_it_was_uploaded(bool postgres)
    {
        await using var host = await LifecycleHost.StartAsync(postgres);
        var build = await host.QueueAsync(await host.RepositoryAsync("acme/prov"), "v1.2.0", Commit);
        var part = await host.PlannedPartAsync(build);
        var made = new ContainerLikeBuild();
        await host.RunPartAsync(part.Id, made);
        await host.PublishAsync(build);
        Assert.Equal(BuildState.Succeeded, (await host.BuildAsync(build)).State);

        // 1.1.0 as a build from before Builder signed provenance left it: published, without a provenance row.
        var older = await host.QueueAsync(await host.RepositoryAsync("acme/prov-old"), "v1.1.0");
        await host.RunPartAsync((await host.PlannedPartAsync(older)).Id, new WheelMaker(Project, "1.1.0"));
        await host.PublishAsync(older);
        var olderWheel = Assert.Single(await host.FilesAsync(Project, "1.1.0")).Filename;
        Assert.Equal(1, await host.WithAsync(sp => sp.GetRequiredService<BuilderDbContext>().Provenance.Where(p => p.Filename == olderWheel).ExecuteDeleteAsync()));

        // 1.2.1 uploaded with twine: no provenance, but its SBOM is listed all the same.
        var dist = Directory.CreateTempSubdirectory("builder-prov-ui-").FullName;
        try
        {
            var uploaded = Distributions.Wheel(dist, Project, "1.2.1", files: new Dictionary<string, string> { ["acme_prov-1.2.1.dist-info/sboms/up.spdx.json"] = "{}" });
            using var upload = await host.Http.PostAsync("/legacy/", LegacyUpload.Twine(uploaded, Project, "1.2.1").ToContent());
            Assert.Equal(HttpStatusCode.OK, upload.StatusCode);

            var projectPage = await PageAsync(host, $"/project/{Project}/");
            var releasePage = await PageAsync(host, $"/project/{Project}/1.2.0/");
            foreach (var page in new[] { projectPage, releasePage })
            {
                var wheel = Row(page, made.Wheel);
                Assert.Contains($"acme/prov@v1.2.0 {Commit[..12]} build {build}", Text(wheel), StringComparison.Ordinal);
                Assert.DoesNotContain(Commit[12..], Text(wheel), StringComparison.Ordinal);
                Assert.Contains($"<a href=\"/builds/{build}#s-x86_64-cp312-cp312-wheel\">build {build}</a>", wheel, StringComparison.Ordinal);
                Assert.Contains("SBOM: x.cdx.json", Text(wheel), StringComparison.Ordinal);

                var sdist = Row(page, made.Sdist);
                Assert.Contains($"acme/prov@v1.2.0 {Commit[..12]} build {build}", Text(sdist), StringComparison.Ordinal);
                Assert.Contains($"<a href=\"/builds/{build}#s-x86_64-sdist\">build {build}</a>", sdist, StringComparison.Ordinal);
                Assert.DoesNotContain("SBOM", Text(sdist), StringComparison.Ordinal);
            }

            var uploadedRow = Row(projectPage, Path.GetFileName(uploaded));
            Assert.Contains("uploaded, no provenance", Text(uploadedRow), StringComparison.Ordinal);
            Assert.DoesNotContain("/builds/", uploadedRow, StringComparison.Ordinal);
            Assert.Contains("SBOM: up.spdx.json", Text(uploadedRow), StringComparison.Ordinal);

            var olderRow = Row(projectPage, olderWheel);
            Assert.Contains($"<a href=\"/builds/{older}\">build {older}</a>", olderRow, StringComparison.Ordinal);
            Assert.Contains($"build {older} , no provenance", Text(olderRow), StringComparison.Ordinal);
            Assert.DoesNotContain("uploaded", Text(olderRow), StringComparison.Ordinal);

            // The links land on the build page's sections of those steps.
            var buildPage = await PageAsync(host, $"/builds/{build}");
            Assert.Contains("<details id=\"s-x86_64-cp312-cp312-wheel\"", buildPage, StringComparison.Ordinal);
            Assert.Contains("<details id=\"s-x86_64-sdist\"", buildPage, StringComparison.Ordinal);

            // The release page names the image the part ran, by digest.
            Assert.Contains($"Image (x86_64) {part.Image} {Digest}", Text(releasePage), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dist, recursive: true);
        }
    }

    [Fact]
    public void A_provenance_object_Builder_did_not_write_is_refused_by_name()
    {
        Assert.Throws<FormatException>(() => ProvenanceSummary.Parse("""{"version": 1, "attestation_bundles": []}"""));
        Assert.Throws<FormatException>(() => ProvenanceSummary.Parse(
            """{"version": 1, "attestation_bundles": [{"publisher": {"kind": "builder"}, "attestations": []}]}"""));
        Assert.Throws<FormatException>(() => ProvenanceSummary.Parse(
            """{"version": 1, "attestation_bundles": [{"publisher": {"kind": "builder", "repository": "a/b", "tag": "v1", "commit": "c", "build": "/builds/1"}, "attestations": [{"envelope": {"statement": "not base64!"}}]}]}"""));
    }

    private static async Task<string> PageAsync(LifecycleHost host, string path)
    {
        using var response = await host.Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode}: {body}");
        return body;
    }

    /// <summary>The table row (its HTML) of the file named <paramref name="filename"/>.</summary>
    private static string Row(string page, string filename)
    {
        var rows = TableRow().Matches(page).Select(m => m.Value).Where(r => r.Contains($">{filename}</a>", StringComparison.Ordinal)).ToList();
        Assert.True(rows.Count == 1, $"one row of {filename} in the page, not {rows.Count}: {page}");
        return rows[0];
    }

    /// <summary>What <paramref name="html"/> reads as: its text without tags, entities decoded, each run of white space one space.</summary>
    private static string Text(string html) =>
        Space().Replace(WebUtility.HtmlDecode(Tag().Replace(html, " ")), " ").Trim();

    [GeneratedRegex("<tr>.*?</tr>", RegexOptions.Singleline)]
    private static partial Regex TableRow();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Space();

    /// <summary>
    /// What a build container hands back for one x86_64 part: a cp312 manylinux wheel carrying an SBOM (as auditwheel
    /// writes one) and the sdist, each from its target, the log lines prefixed with their steps as the driver writes
    /// them, and the image's digest.
    /// </summary>
    private sealed class ContainerLikeBuild : IWheelBuilder
    {
        public string Wheel { get; private set; } = "";

        public string Sdist { get; private set; } = "";

        public Task<WheelBuildResult> BuildAsync(WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(request.OutputDirectory);
            var sdist = Distributions.Sdist(request.OutputDirectory, Project, "1.2.0");
            var wheel = Distributions.Wheel(request.OutputDirectory, Project, "1.2.0", tag: "cp312-cp312-manylinux_2_28_x86_64",
                files: new Dictionary<string, string> { [Sbom] = """{"bomFormat": "CycloneDX", "specVersion": "1.6"}""" });
            (Wheel, Sdist) = (Path.GetFileName(wheel), Path.GetFileName(sdist));
            log.WriteLine($"[{request.Architecture}] [sdist] built {Sdist}");
            log.WriteLine($"[{request.Architecture}] [cp312-cp312 wheel] built {Wheel}");
            return Task.FromResult(new WheelBuildResult(true, null,
                [new TargetResult("sdist", true, TimeSpan.Zero, [Sdist], null), new TargetResult("cp312-manylinux_x86_64", true, TimeSpan.Zero, [Wheel], null)],
                [sdist, wheel])
            { ImageDigest = Digest });
        }
    }
}
