using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Builder.Tests.Integration.Provenance;

/// <summary>What a statement says made a file (the fields `verify` prints).</summary>
internal sealed record TestOrigin(
    string Repository = "https://github.com/acme/billing.git",
    string Tag = "v1.4.0",
    string Commit = "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    string Build = "https://builder.example/builds/7");

/// <summary>
/// A certificate authority and signing certificates shaped as provenance-format.md says Builder's are, made with .NET's
/// CertificateRequest, and attestations signed with them the way PEP 740 and DSSE say: written here from the specs,
/// not with Builder's code, so that a test of the verifier checks it against a second reading of the formats.
/// </summary>
internal sealed class TestAuthority : IDisposable
{
    private const string CodeSigning = "1.3.6.1.5.5.7.3.3";

    private TestAuthority(X509Certificate2 ca, X509Certificate2 signer)
    {
        Ca = ca;
        Signer = signer;
    }

    /// <summary>The CA, with its private key.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The current signing certificate, with its private key.</summary>
    public X509Certificate2 Signer { get; }

    public string CaPem => Ca.ExportCertificatePem();

    public static TestAuthority Create(string name)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name} provenance CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var ca = request.CreateSelfSigned(now.AddYears(-3), now.AddYears(10));
        return new TestAuthority(ca, Issue(ca, $"CN={name} provenance signing", now.AddMinutes(-5), now.AddYears(2)));
    }

    /// <summary>A signing certificate issued by <paramref name="issuer"/> (ECDSA P-256, CA:FALSE, digitalSignature, codeSigning unless told).</summary>
    public static X509Certificate2 Issue(X509Certificate2 issuer, string subject, DateTimeOffset notBefore, DateTimeOffset notAfter, bool codeSigning = true)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(codeSigning ? CodeSigning : "1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var issued = request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Another signing certificate of this CA, as `provenance rotate` makes one.</summary>
    public X509Certificate2 Rotate(DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, bool codeSigning = true) =>
        Issue(Ca, "CN=rotated provenance signing", notBefore ?? DateTimeOffset.UtcNow.AddMinutes(-1), notAfter ?? DateTimeOffset.UtcNow.AddYears(2), codeSigning);

    /// <summary>The in-toto v1 statement (SLSA provenance v1 predicate) Builder makes for a file, as provenance-format.md writes it.</summary>
    public static byte[] Statement(string filename, string sha256, TestOrigin origin, string predicateType = "https://slsa.dev/provenance/v1")
    {
        var statement = new JsonObject
        {
            ["_type"] = "https://in-toto.io/Statement/v1",
            ["subject"] = new JsonArray(new JsonObject { ["name"] = filename, ["digest"] = new JsonObject { ["sha256"] = sha256 } }),
            ["predicateType"] = predicateType,
            ["predicate"] = new JsonObject
            {
                ["buildDefinition"] = new JsonObject
                {
                    ["buildType"] = "https://github.com/builder-index/builder/buildtypes/wheel/v1",
                    ["externalParameters"] = new JsonObject { ["repository"] = origin.Repository, ["forge"] = "github", ["ref"] = "refs/tags/" + origin.Tag },
                    ["internalParameters"] = new JsonObject
                    {
                        ["architecture"] = "x86_64",
                        ["identifier"] = "cp312-manylinux_x86_64",
                        ["image"] = "quay.io/pypa/manylinux_2_28_x86_64",
                        ["imageDigest"] = "sha256:" + new string('a', 64),
                        ["builderVersion"] = "1.0.0",
                    },
                    ["resolvedDependencies"] = new JsonArray(
                        new JsonObject { ["uri"] = $"git+{origin.Repository}@refs/tags/{origin.Tag}", ["digest"] = new JsonObject { ["gitCommit"] = origin.Commit } },
                        new JsonObject { ["uri"] = "docker-image://quay.io/pypa/manylinux_2_28_x86_64", ["digest"] = new JsonObject { ["sha256"] = new string('a', 64) } }),
                },
                ["runDetails"] = new JsonObject
                {
                    ["builder"] = new JsonObject { ["id"] = "https://builder.example/" },
                    ["metadata"] = new JsonObject { ["invocationId"] = origin.Build, ["startedOn"] = "2026-01-05T10:00:00Z", ["finishedOn"] = "2026-01-05T10:03:12Z" },
                    ["byproducts"] = new JsonArray(new JsonObject { ["name"] = "cp312-manylinux_x86_64", ["uri"] = origin.Build + "#cp312-manylinux_x86_64" }),
                },
            },
        };
        return Encoding.UTF8.GetBytes(statement.ToJsonString());
    }

    /// <summary>
    /// A PEP 740 attestation object (version 1) of <paramref name="statement"/>, signed by <paramref name="signer"/> (this
    /// authority's current signing certificate by default). <paramref name="served"/> replaces the statement's bytes in
    /// the envelope after signing (an altered statement).
    /// </summary>
    public JsonObject Attest(byte[] statement, X509Certificate2? signer = null, byte[]? served = null)
    {
        signer ??= Signer;
        // DSSE v1 §Signature definition: PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.
        const string type = "application/vnd.in-toto+json";
        var pae = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} {type} {statement.Length} ").Concat(statement).ToArray();
        using var key = signer.GetECDsaPrivateKey()!;
        var signature = key.SignData(pae, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new JsonObject
        {
            ["version"] = 1,
            ["verification_material"] = new JsonObject { ["certificate"] = Convert.ToBase64String(signer.RawData), ["transparency_entries"] = new JsonArray() },
            ["envelope"] = new JsonObject { ["statement"] = Convert.ToBase64String(served ?? statement), ["signature"] = Convert.ToBase64String(signature) },
        };
    }

    /// <summary>The provenance object (PEP 740 §Provenance objects) the integrity route answers for one attestation.</summary>
    public static JsonObject ProvenanceObject(JsonObject attestation, TestOrigin origin) => new()
    {
        ["version"] = 1,
        ["attestation_bundles"] = new JsonArray(new JsonObject
        {
            ["publisher"] = new JsonObject
            {
                ["kind"] = "builder",
                ["repository"] = "acme/billing",
                ["tag"] = origin.Tag,
                ["commit"] = origin.Commit,
                ["build"] = origin.Build,
                ["claims"] = new JsonObject { ["repository"] = "acme/billing", ["tag"] = origin.Tag, ["commit"] = origin.Commit, ["build"] = origin.Build },
            },
            ["attestations"] = new JsonArray(attestation),
        }),
    };

    public void Dispose()
    {
        Ca.Dispose();
        Signer.Dispose();
    }
}
