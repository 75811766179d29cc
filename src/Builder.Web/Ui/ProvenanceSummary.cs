using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Builder.Web.Api;

namespace Builder.Web.Ui;

/// <summary>
/// What a file's provenance object says, as the file rows show it: the publisher's claims (repository, tag, commit,
/// build) and, from the signed statement, where the file was built (architecture, target, image by digest). Read from
/// the provenance object Builder served (<c>/integrity/.../provenance</c>), so the page shows what a verifier checks;
/// the signature itself is the verifier's business, not the page's.
/// </summary>
/// <param name="Repository">The repository's name on its forge (<c>acme/billing</c>).</param>
/// <param name="Build">The build's address as the statement names it (<c>/builds/7</c>, or under <c>Builder:PublicUrl</c>).</param>
/// <param name="Identifier">The target that built the file: a cibuildwheel identifier or <c>sdist</c>; null when the statement names none.</param>
public sealed partial record ProvenanceSummary(
    string Repository, string Tag, string Commit, string Build, string? Architecture, string? Identifier, string? Image, string? ImageDigest)
{
    /// <summary>Where the file came from, as a row shows it: <c>acme/billing@v1.2.0</c>.</summary>
    public string Source => $"{Repository}@{Tag}";

    /// <summary>The commit as people quote it: its first 12 hex digits.</summary>
    public string ShortCommit => Commit.Length > 12 ? Commit[..12] : Commit;

    /// <summary>The build's number, from its address (<c>.../builds/7</c>); null when the address has none.</summary>
    public long? BuildId =>
        BuildNumber().Match(Build) is { Success: true } match && long.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>
    /// The build page at the log section of the step that built the file (<c>/builds/7#s-x86_64-cp312-cp312-wheel</c>);
    /// the build page itself when the statement names no target.
    /// </summary>
    public string LogLink => LogTargetFilter.SectionAnchor(Identifier, Architecture) is { } anchor ? $"{Build}#{anchor}" : Build;

    /// <summary>
    /// Reads a provenance object (PEP 740: <c>{"version": 1, "attestation_bundles": [{"publisher": ..., "attestations":
    /// [...]}]}</c>): the first bundle's publisher and its first attestation's statement (base64 of the in-toto
    /// statement's bytes; SLSA v1's <c>buildDefinition.internalParameters</c>).
    /// </summary>
    /// <exception cref="FormatException">The object is not one Builder writes (a publisher without its claims, a statement that is not base64 JSON).</exception>
    public static ProvenanceSummary Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var bundle = document.RootElement.GetProperty("attestation_bundles")[0];
            var publisher = bundle.GetProperty("publisher");
            var statement = bundle.GetProperty("attestations")[0].GetProperty("envelope").GetProperty("statement").GetString()
                ?? throw new FormatException("the attestation's statement is null");
            using var signed = JsonDocument.Parse(Convert.FromBase64String(statement));
            var parameters = signed.RootElement.TryGetProperty("predicate", out var predicate)
                && predicate.TryGetProperty("buildDefinition", out var definition)
                && definition.TryGetProperty("internalParameters", out var internalParameters)
                && internalParameters.ValueKind == JsonValueKind.Object ? internalParameters : default;
            return new ProvenanceSummary(
                Text(publisher, "repository"),
                Text(publisher, "tag"),
                Text(publisher, "commit"),
                Text(publisher, "build"),
                OptionalText(parameters, "architecture"),
                OptionalText(parameters, "identifier"),
                OptionalText(parameters, "image"),
                OptionalText(parameters, "imageDigest"));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new FormatException($"not a provenance object Builder writes: {ex.Message}", ex);
        }
    }

    private static string Text(JsonElement element, string name) =>
        element.GetProperty(name).GetString() ?? throw new FormatException($"the publisher's '{name}' is null");

    private static string? OptionalText(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    [GeneratedRegex("/builds/([0-9]+)$")]
    private static partial Regex BuildNumber();
}
