using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Builder.Access.Provenance;

/// <summary>
/// PEP 740 attestation objects (version 1): an in-toto statement signed as a DSSE envelope, with the certificate that
/// verifies it; and the provenance object that serves them (its attestation bundles, each with its publisher).
/// </summary>
public static class Attestations
{
    /// <summary>The DSSE payload type of an in-toto statement.</summary>
    public const string PayloadType = "application/vnd.in-toto+json";

    /// <summary>The media type of the provenance object (PEP 740's Integrity API).</summary>
    public const string MediaType = "application/vnd.pypi.integrity.v1+json";

    /// <summary>
    /// DSSE v1's pre-authentication encoding, what the signature covers:
    /// <c>"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body</c>, lengths in ASCII decimal bytes.
    /// </summary>
    public static byte[] PreAuthenticationEncoding(string payloadType, ReadOnlySpan<byte> body)
    {
        var header = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"DSSEv1 {Encoding.UTF8.GetByteCount(payloadType)} {payloadType} {body.Length} "));
        return [.. header, .. body];
    }

    /// <summary>The attestation object of <paramref name="statement"/> (its exact bytes), signed by <paramref name="signer"/>.</summary>
    public static JsonObject Attest(byte[] statement, ProvenanceSigner signer) => new()
    {
        ["version"] = 1,
        ["verification_material"] = new JsonObject
        {
            ["certificate"] = Convert.ToBase64String(signer.Certificate.RawData),
            ["transparency_entries"] = new JsonArray(),
        },
        ["envelope"] = new JsonObject
        {
            ["statement"] = Convert.ToBase64String(statement),
            ["signature"] = Convert.ToBase64String(signer.Sign(PreAuthenticationEncoding(PayloadType, statement))),
        },
    };

    /// <summary>The provenance object: one bundle, <paramref name="publisher"/> and its attestations.</summary>
    public static string Provenance(JsonObject publisher, params JsonObject[] attestations) => new JsonObject
    {
        ["version"] = 1,
        ["attestation_bundles"] = new JsonArray(new JsonObject
        {
            ["publisher"] = publisher,
            ["attestations"] = new JsonArray([.. attestations]),
        }),
    }.ToJsonString();
}
