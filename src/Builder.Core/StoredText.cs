namespace Builder.Core;

/// <summary>
/// The one way text Builder does not control (a webhook payload's fields, a client's user name or user agent) is cut to
/// what a record, the audit log or the server log keeps of it: at most a given number of characters, the cut marked
/// with '…' and never splitting a surrogate pair (PostgreSQL refuses half a character). Text that must be kept whole
/// is refused instead when it is too long or has control characters (<see cref="Problem"/>).
/// </summary>
public static class StoredText
{
    /// <summary>
    /// What is wrong with a text field a client sends to be stored whole (a name, a URL, a secret), or null: more than
    /// <paramref name="max"/> characters, or control characters (line breaks and tabs allowed with <paramref name="lines"/>).
    /// </summary>
    public static string? Problem(string field, string? value, int max, bool lines = false) =>
        value is null ? null
        : value.Length > max ? $"'{field}' is longer than {max} characters"
        : value.Any(c => char.IsControl(c) && !(lines && c is '\r' or '\n' or '\t')) ? $"'{field}' has control characters"
        : null;

    /// <summary><paramref name="text"/>, or its first characters and '…' when longer than <paramref name="limit"/>.</summary>
    public static string? Cut(string? text, int limit)
    {
        if (text is null || text.Length <= limit)
        {
            return text;
        }

        var end = limit - 1;
        if (end > 0 && char.IsHighSurrogate(text[end - 1]))
        {
            end--;
        }

        return string.Concat(text.AsSpan(0, end), "…");
    }

    /// <summary>
    /// <see cref="Cut"/>, with control characters (line breaks, NUL, escapes) shown as U+FFFD: a payload's field becomes
    /// one line of a log or a sentence, and cannot start a forged log line or be refused by the database.
    /// </summary>
    public static string? Line(string? text, int limit)
    {
        var cut = Cut(text, limit);
        return cut is null || !cut.Any(char.IsControl) ? cut : string.Create(cut.Length, cut, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '\uFFFD' : source[i];
            }
        });
    }
}
