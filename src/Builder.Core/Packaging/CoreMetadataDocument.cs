namespace Builder.Core.Packaging;

/// <summary>
/// All fields of a core metadata file (Core metadata spec), multiple-use ones (Classifier, Requires-Dist,
/// Project-URL) in order, and the description, from the Description field or the message body.
/// </summary>
public sealed class CoreMetadataDocument
{
    private readonly List<KeyValuePair<string, string>> _fields;

    private CoreMetadataDocument(List<KeyValuePair<string, string>> fields, string? body)
    {
        _fields = fields;
        Description = body is { Length: > 0 } ? body : Get("Description");
    }

    public string? Description { get; }

    public string? Get(string name) => _fields.FirstOrDefault(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    public IReadOnlyList<string> GetAll(string name) =>
        _fields.Where(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value).ToList();

    public static CoreMetadataDocument Parse(string text)
    {
        var fields = new List<KeyValuePair<string, string>>();
        var lines = text.TrimStart('\uFEFF').Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var i = 0;
        for (; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0)
            {
                i++;
                break;
            }

            if (char.IsWhiteSpace(line[0]) && fields.Count > 0)
            {
                // Continuation: for Description, setuptools indents continuation lines with 8 spaces and a '|'.
                var last = fields[^1];
                var piece = line.TrimStart();
                if (piece.StartsWith('|'))
                {
                    piece = piece[1..];
                }

                fields[^1] = new(last.Key, last.Value.Length == 0 ? piece : last.Value + "\n" + piece);
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                fields.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
        }

        var body = i < lines.Length ? string.Join('\n', lines[i..]).TrimEnd('\n') : null;
        return new CoreMetadataDocument(fields, body);
    }
}
