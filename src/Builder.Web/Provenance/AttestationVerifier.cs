using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Builder.Access.Provenance;

namespace Builder.Web.Provenance;

/// <summary>What a verified statement says made a file: facts read from the signed statement, never from the unsigned publisher.</summary>
internal sealed record BuildOrigin(string Repository, string Tag, string Commit, string Build);

/// <summary>The answer for one file: verified with its origin, or failed with the reason a user can act on.</summary>
internal abstract record AttestationOutcome
{
    private AttestationOutcome()
    {
    }

    public sealed record Verified(BuildOrigin Origin) : AttestationOutcome;

    public sealed record Failed(string Reason) : AttestationOutcome;
}

/// <summary>
/// The offline check of a PEP 740 provenance object against a local file and a CA the caller trusts, with no HTTP and
/// no trust in the server that handed the object out: the `verify` command and the tests share it, and the README's
/// openssl recipe does the same checks by hand. An attestation verifies when its certificate chains to the CA and may
/// sign code, its signature is valid over the DSSE PAE of the statement, and the statement is an in-toto v1 statement
/// with the SLSA v1 predicate whose only subject is this file's name and sha256.
/// </summary>
internal sealed class AttestationVerifier(X509Certificate2 ca)
{
    public const string StatementType = "https://in-toto.io/Statement/v1";
    public const string PredicateType = "https://slsa.dev/provenance/v1";
    public const string CodeSigningOid = "1.3.6.1.5.5.7.3.3";
    private const string P256Oid = "1.2.840.10045.3.1.7";
    private const string TagRefPrefix = "refs/tags/";

    // A statement is signed JSON: a name given twice would let two readers (this one, jq in the README's recipe) see two
    // different statements under one signature.
    private static readonly JsonDocumentOptions StatementOptions = new() { AllowDuplicateProperties = false };

    /// <summary>
    /// Checks every attestation of every bundle of a provenance object (GET /integrity/.../provenance); the file verifies
    /// when one of them does. Failed: the reasons of each attestation that did not.
    /// </summary>
    public AttestationOutcome VerifyProvenance(JsonElement provenance, string filename, string sha256)
    {
        if (!IsVersionOne(provenance) || !provenance.TryGetProperty("attestation_bundles", out var bundles) || bundles.ValueKind != JsonValueKind.Array)
        {
            return new AttestationOutcome.Failed("the provenance object is not PEP 740's (version 1 with attestation_bundles)");
        }

        var reasons = new List<string>();
        foreach (var bundle in bundles.EnumerateArray())
        {
            if (bundle.ValueKind != JsonValueKind.Object || !bundle.TryGetProperty("attestations", out var attestations) || attestations.ValueKind != JsonValueKind.Array)
            {
                reasons.Add("an attestation bundle without attestations");
                continue;
            }

            foreach (var attestation in attestations.EnumerateArray())
            {
                switch (Verify(attestation, filename, sha256))
                {
                    case AttestationOutcome.Verified verified:
                        return verified;
                    case AttestationOutcome.Failed failed:
                        reasons.Add(failed.Reason);
                        break;
                }
            }
        }

        return new AttestationOutcome.Failed(reasons.Count == 0 ? "the provenance object has no attestation" : string.Join("; ", reasons.Distinct(StringComparer.Ordinal)));
    }

    /// <summary>Checks one PEP 740 attestation object (version 1) for the file <paramref name="filename"/> whose sha256 is <paramref name="sha256"/> (lower hex).</summary>
    public AttestationOutcome Verify(JsonElement attestation, string filename, string sha256)
    {
        if (!TryReadAttestation(attestation, out var certificateBytes, out var statement, out var signature, out var malformed))
        {
            return new AttestationOutcome.Failed($"the attestation is not a PEP 740 attestation object (version 1): {malformed}");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(certificateBytes);
        }
        catch (CryptographicException)
        {
            return new AttestationOutcome.Failed("the attestation's certificate is not a DER X.509 certificate");
        }

        using (certificate)
        {
            if (ChainProblem(certificate) is { } chainProblem)
            {
                return new AttestationOutcome.Failed(chainProblem);
            }

            using var key = certificate.GetECDsaPublicKey();
            if (key is null || key.ExportParameters(includePrivateParameters: false).Curve.Oid.Value != P256Oid)
            {
                return new AttestationOutcome.Failed("the certificate's key is not ECDSA P-256");
            }

            // DSSE v1 §Protocol: the signature covers PAE(payloadType, payload), never the payload alone.
            if (!key.VerifyData(Attestations.PreAuthenticationEncoding(Attestations.PayloadType, statement), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
            {
                return new AttestationOutcome.Failed("signature invalid: it does not verify over the statement with the certificate's key (the statement or the signature was altered)");
            }
        }

        return CheckStatement(statement, filename, sha256);
    }

    private static bool TryReadAttestation(JsonElement attestation, out byte[] certificate, out byte[] statement, out byte[] signature, out string problem)
    {
        certificate = statement = signature = [];
        problem = string.Empty;
        if (!IsVersionOne(attestation))
        {
            problem = "no version 1";
            return false;
        }

        return TryReadBase64(attestation, "verification_material", "certificate", out certificate, ref problem)
            && TryReadBase64(attestation, "envelope", "statement", out statement, ref problem)
            && TryReadBase64(attestation, "envelope", "signature", out signature, ref problem);
    }

    private static bool IsVersionOne(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.Number
        && version.TryGetInt32(out var number) && number == 1;

    private static bool TryReadBase64(JsonElement attestation, string section, string name, out byte[] bytes, ref string problem)
    {
        bytes = [];
        if (!attestation.TryGetProperty(section, out var parent) || parent.ValueKind != JsonValueKind.Object
            || !parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            problem = $"no {section}.{name}";
            return false;
        }

        try
        {
            bytes = Convert.FromBase64String(value.GetString()!);
            return true;
        }
        catch (FormatException)
        {
            problem = $"{section}.{name} is not base64";
            return false;
        }
    }

    /// <summary>
    /// Null when <paramref name="certificate"/> was issued by the CA and may sign code. The chain is checked at a moment
    /// within the certificate's own validity, not now: `provenance rotate` replaces the signing certificate, and what it
    /// signed before stays valid as long as the CA does.
    /// </summary>
    private string? ChainProblem(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = certificate.NotBefore > ca.NotBefore ? certificate.NotBefore : ca.NotBefore;
        var built = chain.Build(certificate);
        // Only the pinned CA may be the root, and nothing may stand between it and the signing certificate.
        if (!built || chain.ChainElements.Count != 2 || !chain.ChainElements[1].Certificate.RawDataMemory.Span.SequenceEqual(ca.RawDataMemory.Span))
        {
            var status = string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct(StringComparer.Ordinal));
            return $"certificate not issued by the CA ({ca.Subject}): the certificate is {certificate.Subject}, issued by {certificate.Issuer}"
                + (status.Length == 0 ? string.Empty : $" ({status})");
        }

        // Checked here rather than as the chain's application policy, which lets a certificate without the extension pass
        // and would report a wrong one as a broken chain.
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SingleOrDefault();
        if (usages is null || !usages.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == CodeSigningOid))
        {
            return "the certificate is not for code signing (no codeSigning extended key usage)";
        }

        return null;
    }

    private static AttestationOutcome CheckStatement(byte[] bytes, string filename, string sha256)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, StatementOptions);
        }
        catch (JsonException)
        {
            return new AttestationOutcome.Failed("the statement is not JSON (or names a field twice)");
        }

        using (document)
        {
            var statement = document.RootElement;
            if (statement.ValueKind != JsonValueKind.Object || Text(statement, "_type") != StatementType)
            {
                return new AttestationOutcome.Failed($"the statement is not an in-toto v1 statement (_type {StatementType})");
            }

            if (Text(statement, "predicateType") is var predicateType && predicateType != PredicateType)
            {
                return new AttestationOutcome.Failed($"the statement's predicateType is {predicateType ?? "missing"}, not {PredicateType}");
            }

            if (!statement.TryGetProperty("subject", out var subjects) || subjects.ValueKind != JsonValueKind.Array || subjects.GetArrayLength() != 1)
            {
                return new AttestationOutcome.Failed("the statement does not have exactly one subject");
            }

            var subject = subjects[0];
            if (Text(subject, "name") is var name && name != filename)
            {
                return new AttestationOutcome.Failed($"the statement is about {name ?? "no file name"}, not {filename}");
            }

            var signed = subject.ValueKind == JsonValueKind.Object && subject.TryGetProperty("digest", out var digest) ? Text(digest, "sha256") : null;
            if (!string.Equals(signed, sha256, StringComparison.Ordinal))
            {
                return new AttestationOutcome.Failed($"digest differs: the file's sha256 is {sha256}, the statement's is {signed ?? "missing"}");
            }

            return Origin(statement) is { } origin
                ? new AttestationOutcome.Verified(origin)
                : new AttestationOutcome.Failed("the statement does not name the repository, tag, commit and build that made the file");
        }
    }

    /// <summary>The repository, tag, commit and build URL of an SLSA v1 predicate as Builder fills it (README, "Provenance").</summary>
    private static BuildOrigin? Origin(JsonElement statement)
    {
        if (!statement.TryGetProperty("predicate", out var predicate) || predicate.ValueKind != JsonValueKind.Object
            || !TryGetPath(predicate, out var parameters, "buildDefinition", "externalParameters")
            || !TryGetPath(predicate, out var metadata, "runDetails", "metadata"))
        {
            return null;
        }

        var repository = Text(parameters, "repository");
        var reference = Text(parameters, "ref");
        var build = Text(metadata, "invocationId");
        string? commit = null;
        if (predicate.GetProperty("buildDefinition").TryGetProperty("resolvedDependencies", out var dependencies) && dependencies.ValueKind == JsonValueKind.Array)
        {
            commit = dependencies.EnumerateArray()
                .Select(d => d.ValueKind == JsonValueKind.Object && d.TryGetProperty("digest", out var digest) ? Text(digest, "gitCommit") : null)
                .FirstOrDefault(c => c is not null);
        }

        if (repository is null || reference is null || !reference.StartsWith(TagRefPrefix, StringComparison.Ordinal) || commit is null || build is null)
        {
            return null;
        }

        return new BuildOrigin(repository, reference[TagRefPrefix.Length..], commit, build);
    }

    private static bool TryGetPath(JsonElement element, out JsonElement found, params string[] names)
    {
        found = element;
        foreach (var name in names)
        {
            if (found.ValueKind != JsonValueKind.Object || !found.TryGetProperty(name, out found))
            {
                return false;
            }
        }

        return found.ValueKind == JsonValueKind.Object;
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
