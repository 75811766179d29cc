using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Builder.Tests.Integration.Access;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Lifecycle;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Provenance;

/// <summary>
/// Provenance as the index serves it (PEP 740), for releases the real publish job published (the test host runs the
/// real plan, part and publish jobs; its builder makes the wheel): the JSON <c>provenance</c> URL and the HTML
/// <c>data-provenance</c>, the provenance object verified with this test's own code against the CA from
/// <c>/api/provenance/ca.pem</c>, uploads without provenance, the file's access rule, and a key rotation.
/// </summary>
public sealed partial class ProvenanceIndexTests
{
    [Fact]
    public async Task A_built_file_links_a_provenance_object_whose_attestation_verifies_against_the_published_CA()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: false);
        var repository = await host.RepositoryAsync("acme/attested");
        var (build, sha256) = await PublishAsync(host, repository, "v1.2.0", "acme-attested", "1.2.0");

        var page = await JsonPageAsync(host.Http, "acme-attested");
        var file = Assert.Single(page.GetProperty("files").EnumerateArray());
        var filename = file.GetProperty("filename").GetString()!;
        var provenanceUrl = file.GetProperty("provenance").GetString()!;
        Assert.Equal($"../../integrity/acme-attested/1.2.0/{filename}/provenance", provenanceUrl);
        Assert.Equal(provenanceUrl, DataProvenance(await HtmlPageAsync(host.Http, "acme-attested"), filename));

        var ca = await CaAsync(host);
        var resolved = new Uri(new Uri(host.Http.BaseAddress!, "/simple/acme-attested/"), provenanceUrl);
        using var response = await GetProvenanceAsync(host.Http, resolved.AbsolutePath, "application/vnd.pypi.integrity.v1+json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.pypi.integrity.v1+json", response.Content.Headers.ContentType!.MediaType);
        var provenance = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, provenance.GetProperty("version").GetInt32());
        var bundle = Assert.Single(provenance.GetProperty("attestation_bundles").EnumerateArray());
        var publisher = bundle.GetProperty("publisher");
        Assert.Equal("builder", publisher.GetProperty("kind").GetString());
        Assert.Equal("acme/attested", publisher.GetProperty("repository").GetString());
        Assert.Equal("v1.2.0", publisher.GetProperty("tag").GetString());
        Assert.Equal(new string('c', 40), publisher.GetProperty("commit").GetString());

        var bytes = await host.Http.GetByteArrayAsync($"/files/acme-attested/{filename}");
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        var statement = Verify(Assert.Single(bundle.GetProperty("attestations").EnumerateArray()), ca, filename, bytes);
        var predicate = statement.GetProperty("predicate");
        Assert.Equal("refs/tags/v1.2.0", predicate.GetProperty("buildDefinition").GetProperty("externalParameters").GetProperty("ref").GetString());
        Assert.Equal("github", predicate.GetProperty("buildDefinition").GetProperty("externalParameters").GetProperty("forge").GetString());
        var source = predicate.GetProperty("buildDefinition").GetProperty("resolvedDependencies")[0];
        Assert.Equal(new string('c', 40), source.GetProperty("digest").GetProperty("gitCommit").GetString());
        Assert.Equal("x86_64", predicate.GetProperty("buildDefinition").GetProperty("internalParameters").GetProperty("architecture").GetString());
        Assert.Equal($"/builds/{build}", predicate.GetProperty("runDetails").GetProperty("metadata").GetProperty("invocationId").GetString());
        Assert.EndsWith($"/api/builds/{build}/log?follow=false&target=py3-none-any",
            predicate.GetProperty("runDetails").GetProperty("byproducts")[0].GetProperty("uri").GetString(), StringComparison.Ordinal);

        // The verify command checks the downloaded file against this server, pinned to its CA: OK; one byte changed: FAILED.
        var downloads = TestPaths.NewTempDirectory("provenance-verify");
        try
        {
            var local = Path.Combine(downloads, filename);
            await File.WriteAllBytesAsync(local, await host.Http.GetByteArrayAsync($"/files/acme-attested/{filename}"));
            var pinned = Path.Combine(downloads, "ca.pem");
            await File.WriteAllTextAsync(pinned, ca.ExportCertificatePem());
            var (exit, output) = await VerifyAsync(host, local, pinned);
            Assert.True(exit == 0, output);
            Assert.Contains($"OK {filename}: acme-attested 1.2.0 from ", output, StringComparison.Ordinal);
            Assert.Contains($" built by {new Uri(host.Http.BaseAddress!, $"/builds/{build}").AbsoluteUri}", output, StringComparison.Ordinal);

            var altered = await File.ReadAllBytesAsync(local);
            altered[^1] ^= 1;
            await File.WriteAllBytesAsync(local, altered);
            (exit, output) = await VerifyAsync(host, local, pinned);
            Assert.True(exit == 1, output);
            Assert.Contains($"FAILED {filename}: ", output, StringComparison.Ordinal);
        }
        finally
        {
            TestPaths.DeleteDirectory(downloads);
        }

        // application/json is served too; anything else is refused.
        using var asJson = await GetProvenanceAsync(host.Http, resolved.AbsolutePath, "application/json");
        Assert.Equal("application/json", asJson.Content.Headers.ContentType!.MediaType);
        using var asHtml = await GetProvenanceAsync(host.Http, resolved.AbsolutePath, "text/html");
        Assert.Equal(HttpStatusCode.NotAcceptable, asHtml.StatusCode);
    }

    [Fact]
    public async Task An_uploaded_file_has_no_provenance_and_a_reader_of_other_projects_gets_the_404_of_a_file_that_does_not_exist()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: false);
        var (_, _) = await PublishAsync(host, await host.RepositoryAsync("acme/built"), "v2.0", "acme-built", "2.0");
        var uploadDir = TestPaths.NewTempDirectory("provenance-upload");
        try
        {
            await AccessClientHelpers.PublishAsync(host.Http, Distributions.Wheel(uploadDir, "acme-uploaded", "1.0"), "acme-uploaded", "1.0");
        }
        finally
        {
            TestPaths.DeleteDirectory(uploadDir);
        }

        var uploaded = Assert.Single((await JsonPageAsync(host.Http, "acme-uploaded")).GetProperty("files").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, uploaded.GetProperty("provenance").ValueKind);
        Assert.DoesNotContain("data-provenance", await HtmlPageAsync(host.Http, "acme-uploaded"), StringComparison.Ordinal);
        using (var none = await GetProvenanceAsync(host.Http, $"/integrity/acme-uploaded/1.0/{uploaded.GetProperty("filename").GetString()}/provenance", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        }

        var built = Assert.Single((await JsonPageAsync(host.Http, "acme-built")).GetProperty("files").EnumerateArray());
        var path = $"/integrity/acme-built/2.0/{built.GetProperty("filename").GetString()}/provenance";
        var reader = await AccessClientHelpers.CreateTokenAsync(host.Http, new { name = "other-reader", scopes = new[] { "read" }, projects = new[] { "acme-uploaded" } });
        var asReader = await AnswerAsync(host.Http, path, new AuthenticationHeaderValue("Bearer", reader.Secret));
        using (var admin = await GetProvenanceAsync(host.Http, path, null))
        {
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        }

        // The same URL once the file is gone: the answer a principal that may not read the project got, byte for byte.
        using (var delete = await host.Http.DeleteAsync("/api/projects/acme-built/releases/2.0"))
        {
            Assert.True(delete.IsSuccessStatusCode, await delete.Content.ReadAsStringAsync());
        }

        var gone = await AnswerAsync(host.Http, path, null);
        Assert.Equal(HttpStatusCode.NotFound, asReader.Status);
        Assert.Equal(gone, asReader);
    }

    [Fact]
    public async Task After_provenance_rotate_new_files_are_signed_by_a_new_key_and_old_and_new_both_verify_against_the_same_CA()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: false);
        var repository = await host.RepositoryAsync("acme/rotated");
        var (_, before) = await PublishAsync(host, repository, "v1.0", "acme-rotated", "1.0");

        // The real command, in its own process, on the running server's data directory: the server signs with the new
        // key from its next signature on, without a restart.
        var environment = new Dictionary<string, string>(BuilderProcess.RuntimeSettings)
        {
            ["Builder__DataDir"] = host.Factory.DataDir,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Builder__AdminToken"] = string.Empty,
        };
        var rotate = await Shell.RunAsync("dotnet", [TestPaths.WebAssembly, "provenance", "rotate"], Path.GetDirectoryName(TestPaths.WebAssembly), environment, TimeSpan.FromMinutes(2));
        Assert.True(rotate.ExitCode == 0, rotate.Output);
        Assert.Matches(NewCertificateLine(), rotate.StandardOutput);

        var (_, after) = await PublishAsync(host, repository, "v1.1", "acme-rotated", "1.1");

        var ca = await CaAsync(host);
        var certificates = new List<X509Certificate2>();
        foreach (var (version, sha256) in new[] { ("1.0", before), ("1.1", after) })
        {
            var file = (await JsonPageAsync(host.Http, "acme-rotated")).GetProperty("files").EnumerateArray().Single(f => f.GetProperty("filename").GetString()!.Contains($"-{version}-", StringComparison.Ordinal));
            var resolved = new Uri(new Uri(host.Http.BaseAddress!, "/simple/acme-rotated/"), file.GetProperty("provenance").GetString()!);
            using var response = await GetProvenanceAsync(host.Http, resolved.AbsolutePath, null);
            var attestation = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("attestation_bundles")[0].GetProperty("attestations")[0];
            var bytes = await host.Http.GetByteArrayAsync($"/files/acme-rotated/{file.GetProperty("filename").GetString()}");
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Verify(attestation, ca, file.GetProperty("filename").GetString()!, bytes);
            certificates.Add(X509CertificateLoader.LoadCertificate(Convert.FromBase64String(attestation.GetProperty("verification_material").GetProperty("certificate").GetString()!)));
        }

        Assert.NotEqual(certificates[0].Thumbprint, certificates[1].Thumbprint);
        Assert.Equal(certificates[0].Issuer, certificates[1].Issuer);
        using var audit = await host.Http.GetAsync("/api/audit?action=provenance:key_rotated");
        Assert.Contains("provenance:key_rotated", await audit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output)> VerifyAsync(LifecycleHost host, string file, string ca)
    {
        var output = new StringWriter();
        var exit = await Builder.Web.Provenance.VerifyCommand.RunAsync(["--url", host.Http.BaseAddress!.AbsoluteUri, "--ca", ca, file], BuilderInstance.AdminToken,
            output, output, host.Factory.Server.CreateHandler());
        return (exit, output.ToString());
    }

    [Fact]
    public async Task Processes_making_the_first_keys_at_once_agree_on_one_CA()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: false);
        var environment = new Dictionary<string, string>(BuilderProcess.RuntimeSettings)
        {
            ["Builder__DataDir"] = host.Factory.DataDir,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Builder__AdminToken"] = string.Empty,
        };

        // A new installation: three commands and the server all find no CA and make the keys at the same moment.
        var rotations = Enumerable.Range(0, 3).Select(_ => Shell.RunAsync("dotnet", [TestPaths.WebAssembly, "provenance", "rotate"],
            Path.GetDirectoryName(TestPaths.WebAssembly), environment, TimeSpan.FromMinutes(2))).ToList();
        var served = await CaAsync(host);
        foreach (var rotation in await Task.WhenAll(rotations))
        {
            Assert.True(rotation.ExitCode == 0, rotation.Output);
            Assert.Contains($"issued by {served.Subject};", rotation.StandardOutput, StringComparison.Ordinal);
        }

        var kinds = await host.WithAsync(sp => sp.GetRequiredService<Data.BuilderDbContext>().ProvenanceKeys.Select(k => k.Kind).ToListAsync());
        Assert.Equal(1, kinds.Count(k => k == "ca"));
    }

    [Fact]
    public async Task An_imported_CA_certifies_the_signing_key_and_is_the_one_served()
    {
        var files = TestPaths.NewTempDirectory("provenance-ca");
        try
        {
            // The operator's own CA (PEM files), imported when the installation has none yet.
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=Acme provenance CA", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            using var ours = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
            await File.WriteAllTextAsync(Path.Combine(files, "ca.pem"), ours.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(files, "ca.key"), key.ExportPkcs8PrivateKeyPem());

            await using var host = await LifecycleHost.StartAsync(postgres: false, new Dictionary<string, string?>
            {
                ["Builder:Provenance:CaCertificateFile"] = Path.Combine(files, "ca.pem"),
                ["Builder:Provenance:CaKeyFile"] = Path.Combine(files, "ca.key"),
            });
            var (_, sha256) = await PublishAsync(host, await host.RepositoryAsync("acme/imported"), "v3.0", "acme-imported", "3.0");

            var served = await CaAsync(host);
            Assert.Equal(ours.Thumbprint, served.Thumbprint);
            var file = Assert.Single((await JsonPageAsync(host.Http, "acme-imported")).GetProperty("files").EnumerateArray());
            var filename = file.GetProperty("filename").GetString()!;
            var resolved = new Uri(new Uri(host.Http.BaseAddress!, "/simple/acme-imported/"), file.GetProperty("provenance").GetString()!);
            using var response = await GetProvenanceAsync(host.Http, resolved.AbsolutePath, null);
            var attestation = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("attestation_bundles")[0].GetProperty("attestations")[0];
            var bytes = await host.Http.GetByteArrayAsync($"/files/acme-imported/{filename}");
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Verify(attestation, ours, filename, bytes);
        }
        finally
        {
            TestPaths.DeleteDirectory(files);
        }
    }

    /// <summary>Plans, builds (one py3-none-any wheel) and publishes a tag; the build's id and the wheel's sha256.</summary>
    private static async Task<(long Build, string Sha256)> PublishAsync(LifecycleHost host, long repository, string tag, string project, string version)
    {
        var build = await host.QueueAsync(repository, tag);
        var wheels = new WheelMaker(project, version);
        await host.RunPartAsync((await host.PlannedPartAsync(build)).Id, wheels);
        await host.PublishAsync(build);
        var state = await host.BuildAsync(build);
        Assert.True(state.State == Core.Builds.BuildState.Succeeded, $"build {build}: {state.State} {state.Error}");
        return (build, wheels.LastSha256!);
    }

    /// <summary>The attestation checked by the tests' own verifier (<see cref="IndependentVerifier"/>, not Builder's code) against the file's bytes; its statement.</summary>
    private static JsonElement Verify(JsonElement attestation, X509Certificate2 ca, string filename, byte[] file) =>
        IndependentVerifier.VerifyAttestation(attestation, filename, file, ca).Statement;

    /// <summary>The CA certificate as anyone gets it: no credentials (it is public, and verifiers pin it).</summary>
    internal static async Task<X509Certificate2> CaAsync(LifecycleHost host)
    {
        using var anonymous = host.Factory.CreateClient();
        using var response = await anonymous.GetAsync("/api/provenance/ca.pem");
        var pem = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, pem);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", pem, StringComparison.Ordinal);
        return X509Certificate2.CreateFromPem(pem);
    }

    private static async Task<JsonElement> JsonPageAsync(HttpClient http, string project)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/simple/{project}/");
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private static async Task<string> HtmlPageAsync(HttpClient http, string project)
    {
        using var response = await http.GetAsync($"/simple/{project}/");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    private static string? DataProvenance(string html, string filename) =>
        DataProvenanceAttribute().Matches(html).FirstOrDefault(m => m.Groups["name"].Value == filename)?.Groups["url"].Value;

    private static async Task<HttpResponseMessage> GetProvenanceAsync(HttpClient http, string path, string? accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        return await http.SendAsync(request);
    }

    private sealed record Answer(HttpStatusCode Status, string? ContentType, string Body);

    private static async Task<Answer> AnswerAsync(HttpClient http, string path, AuthenticationHeaderValue? credentials)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (credentials is not null)
        {
            request.Headers.Authorization = credentials;
        }

        using var response = await http.SendAsync(request);
        // Every problem names its request (traceId): the rest must be the same.
        return new Answer(response.StatusCode, response.Content.Headers.ContentType?.ToString(), TraceId().Replace(await response.Content.ReadAsStringAsync(), "\"traceId\":\"…\""));
    }

    [GeneratedRegex("\"traceId\":\"[^\"]*\"")]
    private static partial Regex TraceId();

    [GeneratedRegex("<a href=\"[^\"]*\"[^>]*? data-provenance=\"(?<url>[^\"]*)\"[^>]*>(?<name>[^<]*)</a>")]
    private static partial Regex DataProvenanceAttribute();

    [GeneratedRegex(@"^new signing certificate: CN=Builder provenance signing key [^,]+, sha256 fingerprint [0-9a-f]{64}, issued by CN=Builder provenance CA [0-9a-f]{8}; used from the next signature on\n", RegexOptions.Multiline)]
    private static partial Regex NewCertificateLine();
}
