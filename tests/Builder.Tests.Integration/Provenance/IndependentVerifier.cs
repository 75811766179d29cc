using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Builder.Tests.Integration.Provenance;

/// <summary>Why a provenance object, an attestation or a file did not verify.</summary>
public sealed class ProvenanceRejectedException(string reason) : Exception(reason);

/// <summary>A file as the PEP 691 JSON page lists it, its addresses resolved against the page's URL.</summary>
/// <param name="RawProvenance">The page's <c>provenance</c> value as written (relative or absolute; null: none).</param>
public sealed record IndexFile(string Filename, Uri Url, string Sha256, string? RawProvenance, Uri? Provenance);

/// <summary>What one verified attestation states (its in-toto statement with a SLSA v1 predicate), read from the signed bytes.</summary>
public sealed record VerifiedAttestation(
    X509Certificate2 Certificate,
    JsonElement Statement,
    string? BuildType,
    string? Repository,
    string? Forge,
    string? Ref,
    string? GitCommit,
    string? Architecture,
    string? Identifier,
    string? Image,
    string? ImageDigest,
    string? ImageDependencyUri,
    string? ImageDependencySha256,
    string? BuilderId,
    string? InvocationId,
    DateTimeOffset? StartedOn,
    DateTimeOffset? FinishedOn,
    IReadOnlyList<string> Byproducts);

/// <summary>A file downloaded from the index whose provenance object verified: its bytes, the object as served, its publisher and each attestation.</summary>
public sealed record VerifiedFile(IndexFile File, byte[] Content, string Sha256, string ProvenanceJson, JsonElement Publisher, IReadOnlyList<VerifiedAttestation> Attestations);

/// <summary>
/// Verifies Builder's provenance the way a client that trusts none of Builder's code would (issue 24's acceptance): only
/// the formats (PEP 740 attestation objects, DSSE v1's pre-authentication encoding, in-toto v1 statements, SLSA v1) and
/// .NET's standard cryptography — no type of Builder's is used here, so a defect shared by Builder's signer and its own
/// verifier cannot hide. Failures are <see cref="ProvenanceRejectedException"/>s naming the reason, so tests can also
/// show what is refused.
/// </summary>
public static partial class IndependentVerifier
{
    public const string PayloadType = "application/vnd.in-toto+json";
    public const string IntegrityMediaType = "application/vnd.pypi.integrity.v1+json";
    public const string SimpleJsonMediaType = "application/vnd.pypi.simple.v1+json";
    public const string StatementType = "https://in-toto.io/Statement/v1";
    public const string SlsaProvenance = "https://slsa.dev/provenance/v1";

    private const string CodeSigning = "1.3.6.1.5.5.7.3.3";
    private const string NistP256 = "1.2.840.10045.3.1.7";

    /// <summary>
    /// DSSE v1's pre-authentication encoding: <c>"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body</c>, LEN the byte
    /// length in ASCII decimal (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md).
    /// </summary>
    public static byte[] PreAuthenticationEncoding(string payloadType, byte[] body)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        using var pae = new MemoryStream();
        pae.Write(Encoding.ASCII.GetBytes("DSSEv1 " + type.Length.ToString(CultureInfo.InvariantCulture) + " "));
        pae.Write(type);
        pae.Write(Encoding.ASCII.GetBytes(" " + body.Length.ToString(CultureInfo.InvariantCulture) + " "));
        pae.Write(body);
        return pae.ToArray();
    }

    /// <summary>The CA certificate at <c>/api/provenance/ca.pem</c>, asked for without credentials (it is public).</summary>
    public static async Task<X509Certificate2> FetchCaAsync(Uri baseAddress)
    {
        using var anonymous = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var response = await anonymous.GetAsync("api/provenance/ca.pem");
        var pem = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new ProvenanceRejectedException($"GET /api/provenance/ca.pem without credentials: {(int)response.StatusCode} {pem}");
        }

        var ca = X509Certificate2.CreateFromPem(pem);
        if (ca.Extensions.OfType<X509BasicConstraintsExtension>().SingleOrDefault() is not { CertificateAuthority: true })
        {
            throw new ProvenanceRejectedException($"the CA certificate {ca.Subject} is not a CA (basicConstraints CA:TRUE)");
        }

        if (ca.SubjectName.RawData.AsSpan().SequenceEqual(ca.IssuerName.RawData) is false)
        {
            throw new ProvenanceRejectedException($"the CA certificate {ca.Subject} is not self-signed: issued by {ca.Issuer}");
        }

        return ca;
    }

    /// <summary>The files of <paramref name="project"/>'s PEP 691 JSON page, addresses resolved against the page URL (as pip does).</summary>
    public static async Task<IReadOnlyList<IndexFile>> ReadJsonPageAsync(HttpClient http, string project)
    {
        var page = new Uri(http.BaseAddress!, $"simple/{project}/");
        using var request = new HttpRequestMessage(HttpMethod.Get, page);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(SimpleJsonMediaType));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new ProvenanceRejectedException($"GET {page}: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        return [.. json.RootElement.GetProperty("files").EnumerateArray().Select(file =>
        {
            // PEP 740: "provenance" is present on every file, a URL or null.
            if (!file.TryGetProperty("provenance", out var provenance) || provenance.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                throw new ProvenanceRejectedException($"{page}: a file without a \"provenance\" string or null: {file}");
            }

            var raw = provenance.GetString();
            return new IndexFile(
                file.GetProperty("filename").GetString()!,
                new Uri(page, file.GetProperty("url").GetString()!),
                file.GetProperty("hashes").GetProperty("sha256").GetString()!,
                raw,
                raw is null ? null : new Uri(page, raw));
        })];
    }

    /// <summary>Each link of <paramref name="project"/>'s PEP 503 HTML page: its text (the file name) and its <c>data-provenance</c> (null: none).</summary>
    public static async Task<IReadOnlyDictionary<string, string?>> ReadHtmlProvenanceAsync(HttpClient http, string project)
    {
        var page = new Uri(http.BaseAddress!, $"simple/{project}/");
        using var request = new HttpRequestMessage(HttpMethod.Get, page);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new ProvenanceRejectedException($"GET {page}: {(int)response.StatusCode} {body}");
        }

        return AnchorPattern().Matches(body).ToDictionary(
            m => WebUtility.HtmlDecode(m.Groups["text"].Value),
            m => DataProvenancePattern().Match(m.Groups["attributes"].Value) is { Success: true } p ? WebUtility.HtmlDecode(p.Groups["url"].Value) : null,
            StringComparer.Ordinal);
    }

    /// <summary>
    /// Downloads <paramref name="file"/> and its provenance object (PEP 740's media type) and verifies every attestation
    /// against <paramref name="ca"/>; the file's bytes must also match the page's sha256.
    /// </summary>
    public static async Task<VerifiedFile> VerifyFileAsync(HttpClient http, IndexFile file, X509Certificate2 ca)
    {
        if (file.Provenance is null)
        {
            throw new ProvenanceRejectedException($"{file.Filename}: the index page names no provenance for it");
        }

        var bytes = await http.GetByteArrayAsync(file.Url);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (sha256 != file.Sha256)
        {
            throw new ProvenanceRejectedException($"{file.Filename}: the download's sha256 is {sha256}, the page says {file.Sha256}");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, file.Provenance);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(IntegrityMediaType));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentType?.MediaType != IntegrityMediaType)
        {
            throw new ProvenanceRejectedException(
                $"GET {file.Provenance}: {(int)response.StatusCode} {response.Content.Headers.ContentType}, not 200 {IntegrityMediaType}: {body}");
        }

        var (publisher, attestations) = VerifyProvenance(body, file.Filename, bytes, ca);
        return new VerifiedFile(file, bytes, sha256, body, publisher, attestations);
    }

    /// <summary>
    /// A provenance object (PEP 740: <c>{"version": 1, "attestation_bundles": [{"publisher", "attestations"}]}</c>) for
    /// the file named <paramref name="filename"/> with <paramref name="file"/>'s bytes: exactly one bundle, each of its
    /// attestations verified.
    /// </summary>
    public static (JsonElement Publisher, IReadOnlyList<VerifiedAttestation> Attestations) VerifyProvenance(string provenanceJson, string filename, byte[] file, X509Certificate2 ca)
    {
        var root = Parse(provenanceJson, "the provenance object");
        Require(Number(root, "version") == 1, $"provenance object version {root.GetPropertyOrNull("version")}, not 1");
        var bundles = Array(root, "attestation_bundles");
        Require(bundles.Count == 1, $"{bundles.Count} attestation bundles, not one");
        var bundle = bundles[0];
        var attestations = Array(bundle, "attestations");
        Require(attestations.Count > 0, "an attestation bundle without attestations");
        var publisher = bundle.GetPropertyOrNull("publisher") ?? throw new ProvenanceRejectedException("an attestation bundle without a publisher");
        return (publisher.Clone(), [.. attestations.Select(a => VerifyAttestation(a, filename, file, ca))]);
    }

    /// <summary>
    /// One PEP 740 attestation object (version 1): the signature (DER ECDSA P-256, SHA-256) over the DSSE PAE of the
    /// statement's exact bytes, made by the key of a code-signing certificate that chains to <paramref name="ca"/>; the
    /// statement an in-toto v1 statement with one subject, <paramref name="filename"/> with <paramref name="file"/>'s sha256.
    /// </summary>
    public static VerifiedAttestation VerifyAttestation(JsonElement attestation, string filename, byte[] file, X509Certificate2 ca)
    {
        Require(Number(attestation, "version") == 1, $"attestation version {attestation.GetPropertyOrNull("version")}, not 1");
        var material = attestation.GetPropertyOrNull("verification_material") ?? throw new ProvenanceRejectedException("an attestation without verification_material");
        var envelope = attestation.GetPropertyOrNull("envelope") ?? throw new ProvenanceRejectedException("an attestation without an envelope");
        var certificate = LoadCertificate(Base64(material, "certificate"));
        var statementBytes = Base64(envelope, "statement");
        var signature = Base64(envelope, "signature");

        using (var key = certificate.GetECDsaPublicKey() ?? throw new ProvenanceRejectedException($"the certificate {certificate.Subject} has no ECDSA key"))
        {
            Require(key.ExportParameters(false).Curve.Oid.Value == NistP256, $"the certificate {certificate.Subject}'s key is not on P-256");
            Require(key.VerifyData(PreAuthenticationEncoding(PayloadType, statementBytes), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
                "the signature does not verify over the statement's DSSE pre-authentication encoding");
        }

        VerifyChain(certificate, ca);

        var statement = Parse(statementBytes, "the statement");
        Require(Text(statement, "_type") == StatementType, $"statement _type {Text(statement, "_type")}, not {StatementType}");
        Require(Text(statement, "predicateType") == SlsaProvenance, $"predicateType {Text(statement, "predicateType")}, not {SlsaProvenance}");
        var subjects = Array(statement, "subject");
        Require(subjects.Count == 1, $"{subjects.Count} subjects, not exactly one");
        Require(Text(subjects[0], "name") == filename, $"the subject is {Text(subjects[0], "name")}, not {filename}");
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(file));
        Require(Text(subjects[0].GetPropertyOrNull("digest"), "sha256") == sha256,
            $"the subject's sha256 is {Text(subjects[0].GetPropertyOrNull("digest"), "sha256")}, the file's is {sha256}");

        var predicate = statement.GetPropertyOrNull("predicate");
        var definition = predicate?.GetPropertyOrNull("buildDefinition");
        var external = definition?.GetPropertyOrNull("externalParameters");
        var internalParameters = definition?.GetPropertyOrNull("internalParameters");
        var dependencies = definition?.GetPropertyOrNull("resolvedDependencies") is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray().ToList() : [];
        var git = dependencies.FirstOrDefault(d => Text(d, "uri")?.StartsWith("git+", StringComparison.Ordinal) == true);
        var image = dependencies.FirstOrDefault(d => Text(d, "uri")?.StartsWith("docker-image://", StringComparison.Ordinal) == true);
        var run = predicate?.GetPropertyOrNull("runDetails");
        var metadata = run?.GetPropertyOrNull("metadata");
        var byproducts = run?.GetPropertyOrNull("byproducts") is { ValueKind: JsonValueKind.Array } made ? made.EnumerateArray().Select(b => Text(b, "name") ?? "").ToList() : [];
        return new VerifiedAttestation(
            certificate,
            statement.Clone(),
            Text(definition, "buildType"),
            Text(external, "repository"),
            Text(external, "forge"),
            Text(external, "ref"),
            Text(git.ValueKind == JsonValueKind.Object ? git.GetPropertyOrNull("digest") : null, "gitCommit"),
            Text(internalParameters, "architecture"),
            Text(internalParameters, "identifier"),
            Text(internalParameters, "image"),
            Text(internalParameters, "imageDigest"),
            image.ValueKind == JsonValueKind.Object ? Text(image, "uri") : null,
            Text(image.ValueKind == JsonValueKind.Object ? image.GetPropertyOrNull("digest") : null, "sha256"),
            Text(run?.GetPropertyOrNull("builder"), "id"),
            Text(metadata, "invocationId"),
            Rfc3339(Text(metadata, "startedOn")),
            Rfc3339(Text(metadata, "finishedOn")),
            byproducts);
    }

    /// <summary>The signing certificate chains to <paramref name="ca"/> alone (no system roots, no revocation, no downloads) and may sign code.</summary>
    private static void VerifyChain(X509Certificate2 certificate, X509Certificate2 ca)
    {
        Require(certificate.Extensions.OfType<X509BasicConstraintsExtension>().SingleOrDefault() is not { CertificateAuthority: true },
            $"the signing certificate {certificate.Subject} is a CA");
        Require(certificate.Extensions.OfType<X509KeyUsageExtension>().SingleOrDefault() is { } usage && usage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature),
            $"the signing certificate {certificate.Subject} is not for digital signatures");
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(CodeSigning));
        if (!chain.Build(certificate))
        {
            throw new ProvenanceRejectedException($"the certificate {certificate.Subject} does not chain to the CA {ca.Subject}: "
                + string.Join("; ", chain.ChainStatus.Select(s => $"{s.Status} {s.StatusInformation.Trim()}")));
        }

        var root = chain.ChainElements[^1].Certificate;
        Require(root.RawData.AsSpan().SequenceEqual(ca.RawData), $"the chain of {certificate.Subject} ends at {root.Subject}, not at the pinned CA");
    }

    private static X509Certificate2 LoadCertificate(byte[] der)
    {
        try
        {
            return X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException ex)
        {
            throw new ProvenanceRejectedException($"verification_material.certificate is not a DER X.509 certificate: {ex.Message}");
        }
    }

    private static byte[] Base64(JsonElement parent, string name)
    {
        var text = Text(parent, name) ?? throw new ProvenanceRejectedException($"no \"{name}\" string");
        try
        {
            // The standard alphabet, padded (PEP 740 and DSSE).
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new ProvenanceRejectedException($"\"{name}\" is not standard base64");
        }
    }

    private static JsonElement Parse(string json, string what) => Parse(Encoding.UTF8.GetBytes(json), what);

    private static JsonElement Parse(byte[] json, string what)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ProvenanceRejectedException($"{what} is not JSON: {ex.Message}");
        }
    }

    private static List<JsonElement> Array(JsonElement parent, string name) =>
        parent.GetPropertyOrNull(name) is { ValueKind: JsonValueKind.Array } array ? [.. array.EnumerateArray()] : throw new ProvenanceRejectedException($"no \"{name}\" array");

    private static long? Number(JsonElement parent, string name) =>
        parent.GetPropertyOrNull(name) is { ValueKind: JsonValueKind.Number } number && number.TryGetInt64(out var value) ? value : null;

    private static string? Text(JsonElement? parent, string name) =>
        parent?.GetPropertyOrNull(name) is { ValueKind: JsonValueKind.String } text ? text.GetString() : null;

    private static JsonElement? GetPropertyOrNull(this JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) ? value : null;

    /// <summary>RFC 3339 date-time (a 'T', seconds, an offset or 'Z'); null when missing or malformed.</summary>
    private static DateTimeOffset? Rfc3339(string? text) =>
        text is not null && Rfc3339Pattern().IsMatch(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at) ? at : null;

    private static void Require(bool condition, string reason)
    {
        if (!condition)
        {
            throw new ProvenanceRejectedException(reason);
        }
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339Pattern();

    [GeneratedRegex("<a (?<attributes>[^>]*)>(?<text>[^<]*)</a>")]
    private static partial Regex AnchorPattern();

    [GeneratedRegex("data-provenance=\"(?<url>[^\"]*)\"")]
    private static partial Regex DataProvenancePattern();
}
