using System.Security.Cryptography.X509Certificates;
using System.Text;
using Builder.Tests.Integration.Infrastructure;
using Builder.Web.Provenance;

namespace Builder.Tests.Integration.Provenance;

/// <summary>
/// <c>Builder.Web verify --url URL [--ca FILE] FILE...</c> against an index on loopback that serves real files' provenance
/// signed by a CA the test made: a good file verifies and the line says where it came from; a changed byte, an altered
/// statement, another installation's CA and a file without provenance each fail, naming why.
/// </summary>
public sealed class VerifyCommandTests : IAsyncLifetime
{
    private const string Token = "bld_verify-test-token";
    private const string Project = "acme-billing";
    private const string Version = "1.4.0";

    private readonly string _root = TestPaths.NewTempDirectory("verify");
    private readonly TestAuthority _authority = TestAuthority.Create("alpha");
    private readonly TestAuthority _other = TestAuthority.Create("other installation");
    private readonly TestOrigin _origin = new();
    private ProvenanceIndexServer _index = null!;
    private string _wheel = null!;
    private string _sdist = null!;
    private string _caFile = null!;

    public async Task InitializeAsync()
    {
        _index = await ProvenanceIndexServer.StartAsync(Token, _authority.CaPem);
        var dist = Directory.CreateDirectory(Path.Combine(_root, "dist")).FullName;
        _wheel = Distributions.Wheel(dist, Project, Version, payloadBytes: 4096);
        _sdist = Distributions.Sdist(dist, Project, Version);
        _caFile = Path.Combine(_root, "ca.pem");
        await File.WriteAllTextAsync(_caFile, _authority.CaPem);
    }

    public async Task DisposeAsync()
    {
        await _index.DisposeAsync();
        _authority.Dispose();
        _other.Dispose();
        TestPaths.DeleteDirectory(_root);
    }

    /// <summary>Lists <paramref name="path"/> on the index with an attestation of its real sha256.</summary>
    private void Publish(string path, X509Certificate2? signer = null, bool absolute = false, Func<byte[], byte[]>? alter = null)
    {
        var name = Path.GetFileName(path);
        var sha256 = Distributions.Sha256(path);
        var statement = TestAuthority.Statement(name, sha256, _origin);
        var attestation = _authority.Attest(statement, signer, alter?.Invoke(statement));
        _index.Publish(Project, Version, name, sha256, TestAuthority.ProvenanceObject(attestation, _origin), absolute);
    }

    private static async Task<(int Code, string Output, string Error)> VerifyAsync(string? token, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await VerifyCommand.RunAsync(args, token, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private string OkLine(string path) =>
        $"OK {Path.GetFileName(path)}: {Project} {Version} from {_origin.Repository}@{_origin.Tag} ({_origin.Commit}) built by {_origin.Build}";

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Files_verify_against_the_pinned_CA_and_each_line_says_where_it_came_from()
    {
        Publish(_wheel);
        Publish(_sdist, absolute: true);

        var result = await VerifyAsync(Token, "--url", _index.Url, "--ca", _caFile, _wheel, _sdist);

        Assert.True(result.Code == 0, result.Output + result.Error);
        Assert.Equal([OkLine(_wheel), OkLine(_sdist)], Lines(result.Output));
        Assert.Equal(string.Empty, result.Error);
        // The token went as pip sends it to the page (once for both files) and to each provenance object.
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("__token__:" + Token));
        Assert.Equal([basic, basic, basic], _index.Authorizations);
    }

    [Fact]
    public async Task Without_a_pinned_CA_the_served_one_is_used_with_a_warning()
    {
        Publish(_wheel);

        var result = await VerifyAsync(Token, "--url", _index.Url, _wheel);

        Assert.True(result.Code == 0, result.Output + result.Error);
        Assert.Equal([OkLine(_wheel)], Lines(result.Output));
        Assert.Contains("warning: the CA was not pinned", result.Error, StringComparison.Ordinal);

        // The warning is earned: the server that serves the files also chooses the CA they are checked against.
        _index.CaPem = _other.CaPem;
        var swapped = await VerifyAsync(Token, "--url", _index.Url, _wheel);
        Assert.Equal(1, swapped.Code);
        Assert.StartsWith($"FAILED {Path.GetFileName(_wheel)}: certificate not issued by the CA", swapped.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_with_one_byte_changed_fails_naming_both_digests()
    {
        Publish(_wheel);
        var changed = Path.Combine(Directory.CreateDirectory(Path.Combine(_root, "changed")).FullName, Path.GetFileName(_wheel));
        var bytes = await File.ReadAllBytesAsync(_wheel);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(changed, bytes);

        var result = await VerifyAsync(Token, "--url", _index.Url, "--ca", _caFile, _wheel, changed);

        Assert.Equal(1, result.Code);
        Assert.Equal(
            [OkLine(_wheel), $"FAILED {Path.GetFileName(changed)}: digest differs: the file's sha256 is {Distributions.Sha256(changed)}, the statement's is {Distributions.Sha256(_wheel)}"],
            Lines(result.Output));
    }

    [Fact]
    public async Task A_statement_whose_bytes_were_altered_fails_its_signature()
    {
        // The served statement names another tag; the signature is the one made over the original bytes.
        Publish(_wheel, alter: statement => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(statement).Replace("v1.4.0", "v1.4.1", StringComparison.Ordinal)));

        var result = await VerifyAsync(Token, "--url", _index.Url, "--ca", _caFile, _wheel);

        Assert.Equal(1, result.Code);
        Assert.StartsWith($"FAILED {Path.GetFileName(_wheel)}: signature invalid", result.Output, StringComparison.Ordinal);
        Assert.Single(Lines(result.Output));
    }

    [Fact]
    public async Task Pinned_to_another_installations_CA_the_file_fails()
    {
        Publish(_wheel);
        var otherCa = Path.Combine(_root, "other-ca.pem");
        await File.WriteAllTextAsync(otherCa, _other.CaPem);

        var result = await VerifyAsync(Token, "--url", _index.Url, "--ca", otherCa, _wheel);

        Assert.Equal(1, result.Code);
        Assert.StartsWith($"FAILED {Path.GetFileName(_wheel)}: certificate not issued by the CA (CN=other installation provenance CA)", result.Output, StringComparison.Ordinal);

        // A signing certificate the other installation issued does not pass for one of this CA either.
        using var foreign = TestAuthority.Issue(_other.Ca, "CN=alpha provenance signing", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddYears(1));
        Publish(_sdist, signer: foreign);
        var forged = await VerifyAsync(Token, "--url", _index.Url, "--ca", _caFile, _sdist);
        Assert.Equal(1, forged.Code);
        Assert.StartsWith($"FAILED {Path.GetFileName(_sdist)}: certificate not issued by the CA (CN=alpha provenance CA)", forged.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_without_provenance_fails_saying_so()
    {
        _index.Publish(Project, Version, Path.GetFileName(_wheel), Distributions.Sha256(_wheel), provenance: null);

        var result = await VerifyAsync(Token, "--url", _index.Url, "--ca", _caFile, _wheel);

        Assert.Equal(1, result.Code);
        Assert.Equal([$"FAILED {Path.GetFileName(_wheel)}: no provenance (uploaded or imported)"], Lines(result.Output));
    }

    [Fact]
    public async Task Files_signed_before_and_after_a_rotation_verify_against_the_same_CA()
    {
        // The wheel was signed by a certificate that has expired since; the sdist by the one that replaced it.
        using var expired = _authority.Rotate(DateTimeOffset.UtcNow.AddYears(-2), DateTimeOffset.UtcNow.AddYears(-1));
        using var current = _authority.Rotate();
        Publish(_wheel, signer: expired);
        Publish(_sdist, signer: current);

        var result = await VerifyAsync(Token, "--url", _index.Url, "--ca", _caFile, _wheel, _sdist);

        Assert.True(result.Code == 0, result.Output + result.Error);
        Assert.Equal([OkLine(_wheel), OkLine(_sdist)], Lines(result.Output));
    }

    [Fact]
    public async Task A_certificate_of_the_CA_that_may_not_sign_code_fails()
    {
        using var serverCertificate = _authority.Rotate(codeSigning: false);
        Publish(_wheel, signer: serverCertificate);

        var result = await VerifyAsync(Token, "--url", _index.Url, "--ca", _caFile, _wheel);

        Assert.Equal(1, result.Code);
        Assert.StartsWith($"FAILED {Path.GetFileName(_wheel)}: ", result.Output, StringComparison.Ordinal);
        Assert.Contains("code signing", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_token_or_the_file_on_the_index_it_fails_saying_what_the_index_answered()
    {
        Publish(_wheel);

        var anonymous = await VerifyAsync(null, "--url", _index.Url, "--ca", _caFile, _wheel);
        Assert.Equal(1, anonymous.Code);
        Assert.Equal([$"FAILED {Path.GetFileName(_wheel)}: {_index.Url}simple/{Project}/ answered 401: set BUILDER_TOKEN to a token that may read it"], Lines(anonymous.Output));

        var unlisted = await VerifyAsync(Token, "--url", _index.Url, "--ca", _caFile, _sdist);
        Assert.Equal(1, unlisted.Code);
        Assert.Equal([$"FAILED {Path.GetFileName(_sdist)}: not on the index ({_index.Url}simple/{Project}/ does not list it)"], Lines(unlisted.Output));

        var unknown = Distributions.Wheel(Path.Combine(_root, "dist"), "Other.Lib", "1.0");
        var otherProject = await VerifyAsync(Token, "--url", _index.Url, "--ca", _caFile, unknown);
        Assert.Equal(1, otherProject.Code);
        Assert.Equal([$"FAILED {Path.GetFileName(unknown)}: {_index.Url}simple/other-lib/ answered 404 (unknown, or not readable with this token)"], Lines(otherProject.Output));
    }

    [Theory]
    [InlineData("--ca", "ca.pem", "dist/file.whl")]
    [InlineData("--url", "INDEX")]
    [InlineData("--url", "ftp://127.0.0.1/", "dist/file.whl")]
    [InlineData("--url", "INDEX", "--ca", "missing.pem", "dist/file.whl")]
    [InlineData("--url", "INDEX", "--ca", "dist/file.whl", "dist/file.whl")]
    [InlineData("--url", "INDEX", "--sign", "dist/file.whl")]
    public async Task Usage_errors_exit_2_before_anything_is_asked(params string[] args)
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "dist", "file.whl"), "not a certificate");
        string[] resolved = [.. args.Select(a => a == "INDEX" ? _index.Url : a.Contains('.', StringComparison.Ordinal) && !a.Contains("://", StringComparison.Ordinal) ? Path.Combine(_root, a) : a)];

        var result = await VerifyAsync(Token, resolved);

        Assert.Equal(2, result.Code);
        Assert.Contains("usage: ", result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Output);
        Assert.Empty(_index.Authorizations);
    }
}
