using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Provenance;

/// <summary>
/// The README's "Checking an attestation with openssl alone", run line for line with bash, jq, base64, openssl and
/// sha256sum on a provenance object the test signed: the recipe cannot rot, and it is the independent implementation of
/// the checks <c>verify</c> makes (it accepts what Builder's verifier accepts and refuses a changed file, an altered
/// statement, another CA and a certificate not for code signing).
/// </summary>
public sealed class OpensslRecipeTests : IDisposable
{
    private const string Heading = "#### Checking an attestation with openssl alone";

    private readonly string _root = TestPaths.NewTempDirectory("openssl-recipe");
    private readonly TestAuthority _authority = TestAuthority.Create("recipe");
    private readonly TestOrigin _origin = new(Tag: "v2.0.1", Build: "https://builder.example/builds/42");

    public void Dispose()
    {
        _authority.Dispose();
        TestPaths.DeleteDirectory(_root);
    }

    /// <summary>The first sh block after the heading in README.md, exactly as written there.</summary>
    private static string Recipe()
    {
        var lines = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        var heading = Array.IndexOf(lines, Heading);
        Assert.True(heading >= 0, $"README.md has no '{Heading}'");
        var start = Array.IndexOf(lines, "```sh", heading) + 1;
        var end = Array.IndexOf(lines, "```", start);
        Assert.True(start > 0 && end > start, "the recipe's sh block is not closed");
        return string.Join('\n', lines[start..end]) + "\n";
    }

    /// <summary>Writes the file, its provenance object and the CA into a fresh folder and runs the recipe there with bash -e.</summary>
    private async Task<ShellResult> RunRecipeAsync(string folderName, byte[] file, byte[] signedFile, X509Certificate2? signer = null, string? caPem = null,
        Func<byte[], byte[]>? alterStatement = null)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_root, folderName)).FullName;
        const string name = "acme_billing-2.0.1-py3-none-any.whl";
        var path = Path.Combine(folder, name);
        await File.WriteAllBytesAsync(path, file);
        var statement = TestAuthority.Statement(name, Convert.ToHexStringLower(SHA256.HashData(signedFile)), _origin);
        var provenance = TestAuthority.ProvenanceObject(_authority.Attest(statement, signer, alterStatement?.Invoke(statement)), _origin);
        await File.WriteAllTextAsync(Path.Combine(folder, "provenance.json"), provenance.ToJsonString());
        await File.WriteAllTextAsync(Path.Combine(folder, "ca.pem"), caPem ?? _authority.CaPem);
        return await Shell.RunAsync("bash", ["-euo", "pipefail", "-c", Recipe()], folder, new Dictionary<string, string> { ["FILE"] = path });
    }

    private static byte[] WheelBytes(string root)
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, "dist")).FullName;
        return File.ReadAllBytes(Distributions.Wheel(folder, "acme-billing", "2.0.1", payloadBytes: 2048));
    }

    [Fact]
    public async Task The_recipe_accepts_a_signed_file_and_prints_what_made_it()
    {
        var wheel = WheelBytes(_root);

        var result = await RunRecipeAsync("good", wheel, wheel);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("cert.pem: OK", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Code Signing", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Verified OK", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(wheel)), result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"ref\": \"refs/tags/v2.0.1\"", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"\"commit\": \"{_origin.Commit}\"", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"\"build\": \"{_origin.Build}\"", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_recipe_refuses_a_file_with_one_byte_changed()
    {
        var wheel = WheelBytes(_root);
        var changed = wheel.ToArray();
        changed[changed.Length / 3] ^= 0x01;

        var result = await RunRecipeAsync("changed", changed, wheel);

        Assert.NotEqual(0, result.ExitCode);
        // Everything up to the digest check passed: only the subject's digest differs.
        Assert.Contains("Verified OK", result.StandardOutput, StringComparison.Ordinal);
        Assert.EndsWith("false\n", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_recipe_refuses_an_altered_statement()
    {
        var wheel = WheelBytes(_root);

        var result = await RunRecipeAsync("altered", wheel, wheel,
            alterStatement: statement => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(statement).Replace("v2.0.1", "v2.0.2", StringComparison.Ordinal)));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("cert.pem: OK", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Verification failure", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_recipe_refuses_another_installations_CA_and_a_certificate_not_for_code_signing()
    {
        var wheel = WheelBytes(_root);
        using var other = TestAuthority.Create("other installation");

        var foreign = await RunRecipeAsync("other-ca", wheel, wheel, caPem: other.CaPem);
        Assert.NotEqual(0, foreign.ExitCode);
        Assert.DoesNotContain("cert.pem: OK", foreign.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Verified OK", foreign.StandardOutput, StringComparison.Ordinal);

        using var notForCode = _authority.Rotate(codeSigning: false);
        var serverCertificate = await RunRecipeAsync("not-code-signing", wheel, wheel, signer: notForCode);
        Assert.NotEqual(0, serverCertificate.ExitCode);
        Assert.Contains("cert.pem: OK", serverCertificate.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Verified OK", serverCertificate.StandardOutput, StringComparison.Ordinal);
    }
}
