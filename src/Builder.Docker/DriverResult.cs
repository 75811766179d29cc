using System.Text.Json;
using System.Text.Json.Serialization;

namespace Builder.Docker;

/// <summary>The last line the container-side driver prints: <c>BUILDER-RESULT {json}</c> (see build-images/README.md).</summary>
internal sealed record DriverResult(
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("pure")] bool? Pure,
    [property: JsonPropertyName("requiresPython")] string? RequiresPython,
    [property: JsonPropertyName("steps")] IReadOnlyList<DriverStep>? Steps)
{
    public const string Marker = "BUILDER-RESULT ";

    public static DriverResult? TryParse(string line)
    {
        if (!line.StartsWith(Marker, StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<DriverResult>(line.AsSpan(Marker.Length));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

internal sealed record DriverStep(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("ok")] bool Ok,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("files")] IReadOnlyList<string>? Files,
    [property: JsonPropertyName("skipped")] string? Skipped);
