using System.Text.Json;
using System.Text.Json.Serialization;

namespace Builder.Web.Http;

/// <summary>
/// Every string a route reads from a JSON body is text without NUL (U+0000): PostgreSQL stores none in text (a value
/// with one was a 500 where it reached the database), and no name, reason, address or secret has one. The refusal is
/// a <see cref="JsonException"/> at the field, which <see cref="BadRequestHandler"/> answers as a 400 naming it.
/// </summary>
internal sealed class TextWithoutNul : JsonConverter<string>
{
    public const string Refusal = "must not contain a NUL character (\\u0000)";

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        return text is not null && text.Contains('\0', StringComparison.Ordinal) ? throw new JsonException(Refusal) : text;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
