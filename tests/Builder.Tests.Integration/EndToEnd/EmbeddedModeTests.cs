using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Provenance;
using Microsoft.Data.Sqlite;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>
/// One embedded Builder for <see cref="EmbeddedModeTests"/>' single builds: three repositories, each a scenario (a pure
/// package, a project whose build fails, a tag whose version differs from the metadata), registered and their tags pushed
/// when the class starts, so the three builds run side by side; each test waits for its own. The pure package's
/// before-build is a <see cref="KeyProbe"/> for the installation's provenance keys, made before the builds begin.
/// </summary>
public sealed class EmbeddedBuilds : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDirectory("embedded");
    private readonly Dictionary<string, long> _builds = [];
    private readonly Dictionary<string, TaggedRepository> _repositories = [];

    public string DataDir => Path.Combine(_root, "data");

    public BuilderProcess Web { get; private set; } = null!;

    public BuilderClient Client { get; private set; } = null!;

    /// <summary>The provenance signing certificate (DER) the installation had when the builds began, which the probe looked for.</summary>
    public byte[] SigningCertificate { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Web = await BuilderProcess.StartWebAsync(BuilderInstance.Embedded(DataDir));
        Client = BuilderInstance.Client(Web);
        var probe = new KeyProbe(await ProvenanceRowsAsync());
        var scenarios = new (string Repository, Dictionary<string, string> Files, string Tag)[]
        {
            ("acme/tools", probe.AddTo(PythonProjects.Pure("Acme.Tools", "0.3.0rc1")), "v0.3.0-rc.1"),
            ("acme/broken", PythonProjects.SyntaxError("broken-pkg", "1.0.0"), "v1.0.0"),
            ("acme/drifting", PythonProjects.Pure("drifting", "1.0.1"), "v1.0.0"),
        };
        var repositories = await Task.WhenAll(scenarios.Select(s => GitRepositories.CreateAsync(Path.Combine(_root, s.Repository.Replace('/', '-')), s.Files, s.Tag)));
        foreach (var (scenario, git) in scenarios.Zip(repositories))
        {
            var repository = await Client.RegisterAsync(scenario.Repository, git.CloneUrl);
            _repositories[scenario.Repository] = git;
            _builds[scenario.Repository] = await Client.PushTagAsync(repository, git);
        }
    }

    /// <summary>The build of <paramref name="repository"/>'s tag, once it ended.</summary>
    public Task<BuildStatus> BuildAsync(string repository) => Client.WaitForBuildAsync(_builds[repository]);

    /// <summary>The tagged git repository of <paramref name="repository"/>.</summary>
    public TaggedRepository Git(string repository) => _repositories[repository];

    /// <summary>
    /// What of the provenance rows a build must not see: asking for the CA makes the installation's keys (as the first
    /// signature would), then the database holds the signing certificate (DER, and base64 as attestations carry it) and
    /// both private keys encrypted.
    /// </summary>
    private async Task<Dictionary<string, byte[]>> ProvenanceRowsAsync()
    {
        await IndependentVerifier.FetchCaAsync(Client.Http.BaseAddress!);
        var rows = new List<(string Kind, byte[] Certificate, string ProtectedKey)>();
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(DataDir, "builder.db")};Mode=ReadOnly;Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT Kind, Certificate, ProtectedPrivateKey FROM builder_provenance_keys ORDER BY Id";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), (byte[])reader.GetValue(1), reader.GetString(2)));
            }
        }

        var signing = rows.Last(r => r.Kind == "signing");
        var ca = rows.Single(r => r.Kind == "ca");
        SigningCertificate = signing.Certificate;
        return new()
        {
            ["the signing certificate (DER)"] = signing.Certificate,
            ["the signing certificate (base64)"] = Encoding.ASCII.GetBytes(Convert.ToBase64String(signing.Certificate)),
            ["the encrypted signing key"] = Encoding.ASCII.GetBytes(signing.ProtectedKey),
            ["the encrypted CA key"] = Encoding.ASCII.GetBytes(ca.ProtectedKey),
        };
    }

    public async Task DisposeAsync()
    {
        if (Web is not null)
        {
            await Web.DisposeAsync();
        }

        TestPaths.DeleteDirectory(_root);
    }
}

/// <summary>The embedded default: one process, SQLite and files under the data directory, Hangfire in memory.</summary>
[DockerBuild]
public sealed class EmbeddedModeTests(EmbeddedBuilds builds) : IClassFixture<EmbeddedBuilds>, IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("embedded-restart");

    private string DataDir => Path.Combine(_root, "data");

    /// <summary>
    /// The embedded default on the test's own data directory, building three CPythons (the two pip installs with among
    /// them): the restart is the point here; the whole default matrix is built by the production mode's C extension test.
    /// </summary>
    private Dictionary<string, string> Settings => new(BuilderInstance.Embedded(DataDir))
    {
        ["Builder__Build__Pythons__0"] = "cp39",
        ["Builder__Build__Pythons__1"] = "cp311",
        ["Builder__Build__Pythons__2"] = "cp312",
    };

    public void Dispose() => TestPaths.DeleteDirectory(_root);

    [Fact]
    public async Task A_build_interrupted_by_a_restart_finishes_after_the_next_start_and_pip_installs_it()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "cext"), PythonProjects.CExtension("fastadd", "2.0.0"), "v2.0.0");
        long id;
        string stateAtStop;
        await using (var first = await BuilderProcess.StartWebAsync(Settings))
        {
            var client = BuilderInstance.Client(first);
            var repository = await client.RegisterAsync("acme/fastadd", git.CloneUrl);
            id = await client.PushTagAsync(repository, git);
            stateAtStop = (await client.GetBuildAsync(id)).State;
            await first.StopAsync();
        }

        // The stop came before the build could finish: it was still queued (or just started).
        Assert.Contains(stateAtStop, new[] { "queued", "running" });

        await using var second = await BuilderProcess.StartWebAsync(Settings);
        var client2 = BuilderInstance.Client(second);
        var build = await client2.WaitForBuildAsync(id);

        await ReleaseAssertions.AssertPublishedAsync(client2, build, "fastadd", "2.0.0");
        Assert.True(ReleaseAssertions.WheelCount(build, "_x86_64.whl") >= 3);
        Assert.Contains($"Build {id} was unfinished at the last stop; enqueued again", second.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(DataDir, "builder.db")), "the embedded database lives in the data directory");
        Assert.True(File.Exists(Path.Combine(DataDir, "files", "fastadd", "fastadd-2.0.0.tar.gz")), "files live in the data directory");

        await ReleaseAssertions.AssertPipInstallsAsync(client2, "fastadd", "2.0.0", "import fastadd; print(fastadd.add(2, 3))", "5");
    }

    [Fact]
    public async Task A_pure_package_is_built_and_served_by_one_process()
    {
        var client = builds.Client;
        var build = await builds.BuildAsync("acme/tools");

        // The tag "v0.3.0-rc.1" normalizes to the PEP 440 version "0.3.0rc1"; the project name to "acme-tools".
        await ReleaseAssertions.AssertPublishedAsync(client, build, "acme-tools", "0.3.0rc1");
        Assert.Equal(1, ReleaseAssertions.WheelCount(build, ".whl"));
        await ReleaseAssertions.AssertPipInstallsAsync(client, "acme-tools", "0.3.0rc1", "import acme_tools; print(acme_tools.greet('x'))", "hello x");

        // Each file's provenance verifies with the test's own code; the key that signed it is the one the probe looked for.
        var verified = await ReleaseAssertions.AssertProvenanceAsync(client, build, "acme-tools", "acme/tools", builds.Git("acme/tools"));
        Assert.Equal(2, verified.Count);
        Assert.All(verified, file => Assert.Equal(builds.SigningCertificate, Assert.Single(file.Attestations).Certificate.RawData));
    }

    [Fact]
    public async Task The_independent_verifier_refuses_a_changed_file_a_changed_statement_and_another_CA()
    {
        var client = builds.Client;
        var build = await builds.BuildAsync("acme/tools");
        Assert.True(build.State == "succeeded", $"build {build.Id} {build.State}: {build.Error}");
        var ca = await IndependentVerifier.FetchCaAsync(client.Http.BaseAddress!);
        var wheel = Assert.Single(await IndependentVerifier.ReadJsonPageAsync(client.Http, "acme-tools"), f => f.Filename.EndsWith(".whl", StringComparison.Ordinal));
        var verified = await IndependentVerifier.VerifyFileAsync(client.Http, wheel, ca);

        // One byte of the file changed: the subject's digest no longer matches.
        var changed = verified.Content.ToArray();
        changed[changed.Length / 2] ^= 0x01;
        var refused = Assert.Throws<ProvenanceRejectedException>(() => IndependentVerifier.VerifyProvenance(verified.ProvenanceJson, wheel.Filename, changed, ca));
        Assert.StartsWith("the subject's sha256 is", refused.Message, StringComparison.Ordinal);

        // The statement's bytes altered (another tag) under the same signature.
        var provenance = JsonNode.Parse(verified.ProvenanceJson)!;
        var envelope = provenance["attestation_bundles"]![0]!["attestations"]![0]!["envelope"]!;
        var statement = Encoding.UTF8.GetString(Convert.FromBase64String(envelope["statement"]!.GetValue<string>()));
        Assert.Contains("refs/tags/v0.3.0-rc.1", statement, StringComparison.Ordinal);
        envelope["statement"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(statement.Replace("refs/tags/v0.3.0-rc.1", "refs/tags/v0.3.0-rc.2", StringComparison.Ordinal)));
        refused = Assert.Throws<ProvenanceRejectedException>(() => IndependentVerifier.VerifyProvenance(provenance.ToJsonString(), wheel.Filename, verified.Content, ca));
        Assert.Equal("the signature does not verify over the statement's DSSE pre-authentication encoding", refused.Message);

        // Pinned to another installation's CA (made here the same way: ECDSA P-256, CA:TRUE).
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Another installation's CA", otherKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var other = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        refused = Assert.Throws<ProvenanceRejectedException>(() => IndependentVerifier.VerifyProvenance(verified.ProvenanceJson, wheel.Filename, verified.Content, other));
        Assert.Contains("does not chain to the CA CN=Another installation's CA", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_build_finds_nothing_of_the_provenance_signing_key_in_its_container()
    {
        var build = await builds.BuildAsync("acme/tools");
        Assert.True(build.State == "succeeded", $"build {build.Id} {build.State}: {build.Error}");

        var report = KeyProbe.Read(await builds.Client.GetLogAsync(build.Id));
        Assert.True(report.Findings.Count == 0, "the build container holds:\n" + string.Join("\n", report.Findings));
        // The search covered the image, the source and the build's own files, binaries included, and the environments.
        Assert.True(report.Files >= 1000 && report.Bytes >= 10_000_000, $"searched only {report.Files} files ({report.Bytes} bytes)");
        Assert.True(report.Environments >= 2, $"searched only {report.Environments} environments");
        Assert.True(report.ControlIn is ( >= 1, >= 1, >= 1), $"the control word was not found everywhere it was put: {report.ControlIn}");
    }

    [Fact]
    public async Task A_project_whose_build_fails_is_failed_with_its_log_kept_and_nothing_published()
    {
        var client = builds.Client;
        var build = await builds.BuildAsync("acme/broken");

        Assert.Equal("failed", build.State);
        Assert.False(string.IsNullOrEmpty(build.Error));
        var log = await client.GetLogAsync(build.Id);
        Assert.Contains("SyntaxError", log, StringComparison.Ordinal);
        Assert.Contains("[builder] FAILED", log, StringComparison.Ordinal);
        Assert.Empty(build.Json.GetProperty("files").EnumerateArray());
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.Http.GetAsync("/simple/broken-pkg/")).StatusCode);
        Assert.DoesNotContain("broken-pkg", await client.Http.GetStringAsync("/simple/"), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(builds.DataDir, "files", "broken-pkg")), "nothing stored for a failed build");
    }

    [Fact]
    public async Task A_tag_whose_version_differs_from_the_metadata_fails_and_names_both_versions()
    {
        var client = builds.Client;
        var build = await builds.BuildAsync("acme/drifting");

        Assert.Equal("failed", build.State);
        Assert.Contains("1.0.0", build.Error, StringComparison.Ordinal);
        Assert.Contains("1.0.1", build.Error, StringComparison.Ordinal);
        var log = await client.GetLogAsync(build.Id);
        Assert.Contains("version mismatch: tag 'v1.0.0' says version 1.0.0, but the built metadata", log, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.Http.GetAsync("/simple/drifting/")).StatusCode);
    }
}
