using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Builder.Access.Provenance;
using Builder.Web.Provenance;

namespace Builder.Tests.Integration.Provenance;

/// <summary>
/// <see cref="AttestationVerifier"/> alone (no HTTP): the checks of a statement that a signature alone does not make
/// (which file, which digest, which predicate), the encoding it signs, and how a provenance object with several
/// attestations is read. Attestations are signed by <see cref="TestAuthority"/>, from the specs.
/// </summary>
public sealed class AttestationVerifierTests : IDisposable
{
    private const string Filename = "acme_billing-1.4.0-cp312-cp312-manylinux_2_28_x86_64.whl";

    private readonly TestAuthority _authority = TestAuthority.Create("unit");
    private readonly string _sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("the wheel's bytes")));
    private readonly TestOrigin _origin = new();

    public void Dispose() => _authority.Dispose();

    private AttestationOutcome Verify(JsonObject attestation) =>
        new AttestationVerifier(_authority.Ca).Verify(JsonSerializer.SerializeToElement(attestation), Filename, _sha256);

    private static string Reason(AttestationOutcome outcome) => Assert.IsType<AttestationOutcome.Failed>(outcome).Reason;

    [Fact]
    public void The_encoding_signed_is_DSSE_v1s_pre_authentication_encoding()
    {
        // DSSE v1 protocol.md's example, and the payload type of in-toto statements.
        Assert.Equal("DSSEv1 29 http://example.com/HelloWorld 11 hello world",
            Encoding.UTF8.GetString(Attestations.PreAuthenticationEncoding("http://example.com/HelloWorld", "hello world"u8)));
        Assert.Equal("DSSEv1 28 application/vnd.in-toto+json 2 é",
            Encoding.UTF8.GetString(Attestations.PreAuthenticationEncoding(Attestations.PayloadType, "é"u8)));
    }

    [Fact]
    public void A_signed_statement_about_the_file_verifies_with_its_origin()
    {
        var outcome = Verify(_authority.Attest(TestAuthority.Statement(Filename, _sha256, _origin)));

        var verified = Assert.IsType<AttestationOutcome.Verified>(outcome);
        Assert.Equal(new BuildOrigin(_origin.Repository, _origin.Tag, _origin.Commit, _origin.Build), verified.Origin);
    }

    [Fact]
    public void A_signed_statement_about_another_file_or_digest_or_predicate_fails_naming_it()
    {
        Assert.Equal($"the statement is about acme_billing-1.4.0.tar.gz, not {Filename}",
            Reason(Verify(_authority.Attest(TestAuthority.Statement("acme_billing-1.4.0.tar.gz", _sha256, _origin)))));
        var other = new string('0', 64);
        Assert.Equal($"digest differs: the file's sha256 is {_sha256}, the statement's is {other}",
            Reason(Verify(_authority.Attest(TestAuthority.Statement(Filename, other, _origin)))));
        Assert.Equal("the statement's predicateType is https://slsa.dev/provenance/v0.2, not https://slsa.dev/provenance/v1",
            Reason(Verify(_authority.Attest(TestAuthority.Statement(Filename, _sha256, _origin, "https://slsa.dev/provenance/v0.2")))));
    }

    [Fact]
    public void A_statement_with_two_subjects_or_a_repeated_field_fails()
    {
        var statement = JsonNode.Parse(TestAuthority.Statement(Filename, _sha256, _origin))!.AsObject();
        statement["subject"]!.AsArray().Add(new JsonObject { ["name"] = "acme_billing-1.4.0.tar.gz", ["digest"] = new JsonObject { ["sha256"] = _sha256 } });
        Assert.Equal("the statement does not have exactly one subject", Reason(Verify(_authority.Attest(Encoding.UTF8.GetBytes(statement.ToJsonString())))));

        // A second "subject" after the real one: readers that keep the last (jq) and the first would disagree.
        var text = Encoding.UTF8.GetString(TestAuthority.Statement(Filename, _sha256, _origin));
        var second = new JsonObject { ["subject"] = new JsonArray(new JsonObject { ["name"] = Filename, ["digest"] = new JsonObject { ["sha256"] = new string('1', 64) } }) };
        var repeated = text[..^1] + "," + second.ToJsonString()[1..];
        Assert.StartsWith("the statement is not JSON", Reason(Verify(_authority.Attest(Encoding.UTF8.GetBytes(repeated)))), StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_attestation_fails_saying_what_is_missing()
    {
        var attestation = _authority.Attest(TestAuthority.Statement(Filename, _sha256, _origin));
        attestation["envelope"]!["signature"] = "not base64!";
        Assert.Equal("the attestation is not a PEP 740 attestation object (version 1): envelope.signature is not base64", Reason(Verify(attestation)));

        attestation["version"] = 2;
        Assert.Equal("the attestation is not a PEP 740 attestation object (version 1): no version 1", Reason(Verify(attestation)));
    }

    [Fact]
    public void A_provenance_object_verifies_when_one_of_its_attestations_does()
    {
        var verifier = new AttestationVerifier(_authority.Ca);
        var statement = TestAuthority.Statement(Filename, _sha256, _origin);
        var altered = _authority.Attest(statement, served: Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(statement).Replace("v1.4.0", "v9.9.9", StringComparison.Ordinal)));
        var good = _authority.Attest(statement);

        var provenance = TestAuthority.ProvenanceObject(altered, _origin);
        Assert.StartsWith("signature invalid", Reason(verifier.VerifyProvenance(JsonSerializer.SerializeToElement(provenance), Filename, _sha256)), StringComparison.Ordinal);

        provenance["attestation_bundles"]![0]!["attestations"]!.AsArray().Add(good);
        Assert.IsType<AttestationOutcome.Verified>(verifier.VerifyProvenance(JsonSerializer.SerializeToElement(provenance), Filename, _sha256));

        Assert.Equal("the provenance object has no attestation",
            Reason(verifier.VerifyProvenance(JsonSerializer.SerializeToElement(new JsonObject { ["version"] = 1, ["attestation_bundles"] = new JsonArray() }), Filename, _sha256)));
    }
}
