using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Builder.Web.Ui;

/// <summary>Text into HTML: encoded by <see cref="HtmlEncoder"/>, except that tabs and line feeds stay as they are.</summary>
internal static class HtmlText
{
    // Every character outside <, >, &, quotes (and the few others HtmlEncoder always encodes) stays as it is: logs and
    // descriptions are mostly ASCII, but box drawing and other scripts would otherwise be several times their size.
    public static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>Writes the text encoded; a tab or line feed (which HtmlEncoder would write as <c>&amp;#x9;</c>) as itself.</summary>
    public static void Write(TextWriter writer, ReadOnlySpan<char> text)
    {
        Span<char> buffer = stackalloc char[512];
        while (!text.IsEmpty)
        {
            var space = text.IndexOfAny('\t', '\n');
            var part = space < 0 ? text : text[..space];
            while (!part.IsEmpty)
            {
                var status = Encoder.Encode(part, buffer, out var consumed, out var written, isFinalBlock: true);
                writer.Write(buffer[..written]);
                part = part[consumed..];
                if (status != OperationStatus.DestinationTooSmall)
                {
                    break;
                }
            }

            if (space < 0)
            {
                return;
            }

            writer.Write(text[space]);
            text = text[(space + 1)..];
        }
    }
}
