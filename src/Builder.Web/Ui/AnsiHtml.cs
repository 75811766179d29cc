using System.Text;

namespace Builder.Web.Ui;

/// <summary>
/// One log line with ANSI escape sequences as HTML: the text HTML-encoded, its SGR styles as
/// <c>&lt;span class="..."&gt;</c> (never a style attribute: the pages' Content-Security-Policy allows none), every other
/// escape sequence and control character removed. Each line starts unstyled (a style does not carry over to the next).
/// </summary>
/// <remarks>
/// <para>Classes: <c>a-bold</c> (SGR 1), <c>a-dim</c> (2), <c>a-italic</c> (3), <c>a-underline</c> (4, and 4:1..4:5),
/// <c>a-fg0</c>..<c>a-fg15</c> (30-37, 90-97), <c>a-bg0</c>..<c>a-bg15</c> (40-47, 100-107). 256-colour (38;5;n, 48;5;n)
/// and true colours (38;2;r;g;b, also the colon forms 38:5:n, 38:2::r:g:b and 38:2:r:g:b) become the nearest of the 16
/// (<see cref="Nearest16(int, int, int)"/>). Resets: 0 (or an empty SGR), 22 (bold and dim), 23, 24 (and 4:0), 39, 49. Other SGR
/// codes (blink, inverse, strike, ...) are ignored.</para>
/// <para>Removed: CSI sequences other than SGR (cursor moves, erase, private modes), OSC (titles, hyperlinks; to BEL or
/// ST), DCS/SOS/PM/APC strings, two-character escapes (<c>ESC 7</c>, <c>ESC ( B</c>), a lone ESC, the 8-bit C1 forms
/// of these, and control characters other than tab. Ui/Assets/js/log.js does the same in the browser.</para>
/// </remarks>
public static class AnsiHtml
{
    private const char Esc = '\u001b';

    /// <summary>The HTML of one line.</summary>
    public static string ToHtml(string line)
    {
        using var writer = new StringWriter(new StringBuilder(line.Length + 16), System.Globalization.CultureInfo.InvariantCulture);
        Write(writer, line);
        return writer.ToString();
    }

    /// <summary>Writes the HTML of one line (no line break).</summary>
    public static void Write(TextWriter writer, ReadOnlySpan<char> line)
    {
        var current = Style.Plain; // what the open span (if any) shows
        var pending = Style.Plain; // what the next text is to show
        var run = 0;
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (c >= ' ' ? c is not ('\u007f' or (>= '\u0080' and <= '\u009f')) : c == '\t')
            {
                i++;
                continue;
            }

            WriteText(writer, line[run..i], ref current, pending);
            i = Skip(line, i, ref pending);
            run = i;
        }

        WriteText(writer, line[run..], ref current, pending);
        if (!current.IsPlain)
        {
            writer.Write("</span>");
        }
    }

    /// <summary>The line without its escape sequences and control characters (tab kept).</summary>
    public static string ToPlainText(string line)
    {
        var text = new StringBuilder(line.Length);
        var ignored = Style.Plain;
        var run = 0;
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (c >= ' ' ? c is not ('\u007f' or (>= '\u0080' and <= '\u009f')) : c == '\t')
            {
                i++;
                continue;
            }

            text.Append(line, run, i - run);
            i = Skip(line, i, ref ignored);
            run = i;
        }

        return text.Append(line, run, line.Length - run).ToString();
    }

    private static void WriteText(TextWriter writer, ReadOnlySpan<char> text, ref Style current, Style pending)
    {
        if (text.IsEmpty)
        {
            return;
        }

        if (pending != current)
        {
            if (!current.IsPlain)
            {
                writer.Write("</span>");
            }

            if (!pending.IsPlain)
            {
                writer.Write(pending.OpenTag);
            }

            current = pending;
        }

        HtmlText.Write(writer, text);
    }

    /// <summary>Skips the control character or escape sequence at <paramref name="i"/>; returns where text goes on.</summary>
    private static int Skip(ReadOnlySpan<char> line, int i, ref Style style)
    {
        var c = line[i];
        if (c == Esc)
        {
            if (i + 1 >= line.Length)
            {
                return i + 1;
            }

            var next = line[i + 1];
            switch (next)
            {
                case '[':
                    return Csi(line, i + 2, ref style);
                case ']' or 'P' or 'X' or '^' or '_':
                    return ControlString(line, i + 2);
            }

            // ESC, intermediates (0x20-0x2F), a final (0x30-0x7E): "ESC ( B", "ESC 7", "ESC =". Anything else ends a lone ESC.
            var j = i + 1;
            while (j < line.Length && line[j] is >= ' ' and <= '/')
            {
                j++;
            }

            return j < line.Length && line[j] is >= '0' and <= '~' ? j + 1 : i + 1;
        }

        return c switch
        {
            '\u009b' => Csi(line, i + 1, ref style),
            '\u009d' or '\u0090' or '\u0098' or '\u009e' or '\u009f' => ControlString(line, i + 1),
            _ => i + 1, // another control character: dropped
        };
    }

    /// <summary>A CSI sequence's parameters and intermediates, then its final byte; an SGR ('m') applies to the style.</summary>
    private static int Csi(ReadOnlySpan<char> line, int start, ref Style style)
    {
        var i = start;
        while (i < line.Length && line[i] is >= '0' and <= '?')
        {
            i++;
        }

        var parameters = line[start..i];
        var intermediates = i;
        while (i < line.Length && line[i] is >= ' ' and <= '/')
        {
            i++;
        }

        if (i >= line.Length || line[i] is not (>= '@' and <= '~'))
        {
            // Cut short (the line ends, or a character that cannot be in a CSI sequence): what was read is dropped.
            return i;
        }

        if (line[i] == 'm' && intermediates == i && parameters.IndexOfAny("<=>?") < 0)
        {
            Sgr(parameters, ref style);
        }

        return i + 1;
    }

    /// <summary>OSC, DCS, SOS, PM, APC: everything up to BEL or ST (ESC \ or 0x9C), or to an ESC that starts something else.</summary>
    private static int ControlString(ReadOnlySpan<char> line, int start)
    {
        for (var i = start; i < line.Length; i++)
        {
            switch (line[i])
            {
                case '\u0007' or '\u009c':
                    return i + 1;
                case Esc:
                    return i + 1 < line.Length && line[i + 1] == '\\' ? i + 2 : i;
            }
        }

        return line.Length;
    }

    // At most this many parameters of one SGR are read (38;2;r;g;b is 5); the rest of a longer one is ignored.
    private const int MaxParameters = 32;

    private static void Sgr(ReadOnlySpan<char> text, ref Style style)
    {
        // Each parameter, and whether a colon (a sub-parameter: 38:5:196) rather than a semicolon came before it.
        Span<int> values = stackalloc int[MaxParameters];
        Span<bool> sub = stackalloc bool[MaxParameters];
        var count = 0;
        var value = 0;
        var colon = false;
        for (var i = 0; i <= text.Length && count < MaxParameters; i++)
        {
            var c = i < text.Length ? text[i] : ';';
            if (c is >= '0' and <= '9')
            {
                value = Math.Min(value * 10 + (c - '0'), 1_000_000);
                continue;
            }

            // ';' or ':' ends a parameter (an empty one is 0); other parameter bytes cannot be in an SGR.
            values[count] = value;
            sub[count] = colon;
            count++;
            value = 0;
            colon = c == ':';
        }

        for (var k = 0; k < count; k++)
        {
            var code = values[k];
            var subs = k + 1;
            while (subs < count && sub[subs])
            {
                subs++;
            }

            // values[(k + 1)..subs] are the code's sub-parameters (colon form).
            var colonArgs = values[(k + 1)..subs];
            switch (code)
            {
                case 0: style = Style.Plain; break;
                case 1: style = style.With(Style.Bold, true); break;
                case 2: style = style.With(Style.Dim, true); break;
                case 3: style = style.With(Style.Italic, true); break;
                case 4: style = style.With(Style.Underline, colonArgs.IsEmpty || colonArgs[0] != 0); break;
                case 22: style = style.With(Style.Bold, false).With(Style.Dim, false); break;
                case 23: style = style.With(Style.Italic, false); break;
                case 24: style = style.With(Style.Underline, false); break;
                case >= 30 and <= 37: style = style with { Foreground = (sbyte)(code - 30) }; break;
                case >= 90 and <= 97: style = style with { Foreground = (sbyte)(code - 90 + 8) }; break;
                case 39: style = style with { Foreground = -1 }; break;
                case >= 40 and <= 47: style = style with { Background = (sbyte)(code - 40) }; break;
                case >= 100 and <= 107: style = style with { Background = (sbyte)(code - 100 + 8) }; break;
                case 49: style = style with { Background = -1 }; break;
                case 38 or 48:
                    int colour;
                    if (!colonArgs.IsEmpty)
                    {
                        colour = ExtendedColour(colonArgs, colonForm: true, out _);
                    }
                    else
                    {
                        colour = ExtendedColour(values[(k + 1)..count], colonForm: false, out var used);
                        subs = k + 1 + used;
                    }

                    if (colour >= 0)
                    {
                        style = code == 38 ? style with { Foreground = (sbyte)colour } : style with { Background = (sbyte)colour };
                    }

                    break;
            }

            k = subs - 1;
        }
    }

    /// <summary>
    /// The nearest of the 16 colours to "5;n" or "2;r;g;b" (colon form: "5:n", "2::r:g:b", "2:cs:r:g:b" or "2:r:g:b");
    /// -1 when they are incomplete or out of range. <paramref name="used"/>: how many parameters the colour took.
    /// </summary>
    private static int ExtendedColour(ReadOnlySpan<int> args, bool colonForm, out int used)
    {
        used = args.Length;
        if (args.IsEmpty)
        {
            return -1;
        }

        switch (args[0])
        {
            case 5 when args.Length >= 2:
                used = 2;
                return args[1] <= 255 ? Nearest16(args[1]) : -1;
            case 2 when args.Length >= 4:
                // Colon form: an optional colour space id before r, g, b ("2::r:g:b" has it empty).
                var rgb = colonForm && args.Length >= 5 ? args[2..5] : args[1..4];
                used = colonForm ? args.Length : 4;
                return rgb[0] <= 255 && rgb[1] <= 255 && rgb[2] <= 255 ? Nearest16(rgb[0], rgb[1], rgb[2]) : -1;
            default:
                // "38;5" without its index, an unknown mode: xterm ignores the rest of the sequence.
                return -1;
        }
    }

    // The 16 colours as xterm shows them by default: what the nearest colour is measured against.
    private static readonly (int R, int G, int B)[] Palette16 =
    [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ];

    private static readonly byte[] Nearest256 = Enumerable.Range(0, 256).Select(n => (byte)(n < 16 ? n : Nearest16(Rgb256(n).R, Rgb256(n).G, Rgb256(n).B))).ToArray();

    /// <summary>Colour <paramref name="index"/> of the 256-colour palette as one of the 16: itself below 16.</summary>
    public static int Nearest16(int index) => Nearest256[index];

    /// <summary>The nearest of xterm's 16 default colours (squared distance in RGB; the first of equals).</summary>
    public static int Nearest16(int r, int g, int b)
    {
        var best = 0;
        var bestDistance = int.MaxValue;
        for (var i = 0; i < Palette16.Length; i++)
        {
            var (pr, pg, pb) = Palette16[i];
            var distance = (r - pr) * (r - pr) + (g - pg) * (g - pg) + (b - pb) * (b - pb);
            if (distance < bestDistance)
            {
                best = i;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>xterm's 256-colour palette above 15: a 6×6×6 cube (16-231), then 24 greys (232-255).</summary>
    private static (int R, int G, int B) Rgb256(int n)
    {
        if (n >= 232)
        {
            var grey = 8 + (n - 232) * 10;
            return (grey, grey, grey);
        }

        var cube = n - 16;
        static int Level(int step) => step == 0 ? 0 : 55 + step * 40;
        return (Level(cube / 36), Level(cube / 6 % 6), Level(cube % 6));
    }

    /// <summary>A text style: flags, and a foreground and background of the 16 colours (-1: the default).</summary>
    private readonly record struct Style(byte Flags, sbyte Foreground, sbyte Background)
    {
        public const byte Bold = 1, Dim = 2, Italic = 4, Underline = 8;

        public static readonly Style Plain = new(0, -1, -1);

        // Every style's opening tag, made once when first used: 16 flag sets × 17 × 17 colours.
        private static readonly string?[] Tags = new string?[16 * 17 * 17];

        public bool IsPlain => this == Plain;

        public Style With(byte flag, bool on) => this with { Flags = (byte)(on ? Flags | flag : Flags & ~flag) };

        public string OpenTag
        {
            get
            {
                var index = (Flags * 17 + Foreground + 1) * 17 + Background + 1;
                return Tags[index] ??= MakeTag();
            }
        }

        /// <summary>The classes, space-separated.</summary>
        public string Classes
        {
            get
            {
                var classes = new List<string>(6);
                if ((Flags & Bold) != 0)
                {
                    classes.Add("a-bold");
                }

                if ((Flags & Dim) != 0)
                {
                    classes.Add("a-dim");
                }

                if ((Flags & Italic) != 0)
                {
                    classes.Add("a-italic");
                }

                if ((Flags & Underline) != 0)
                {
                    classes.Add("a-underline");
                }

                if (Foreground >= 0)
                {
                    classes.Add("a-fg" + Foreground.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                if (Background >= 0)
                {
                    classes.Add("a-bg" + Background.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                return string.Join(' ', classes);
            }
        }

        private string MakeTag() => $"<span class=\"{Classes}\">";
    }
}
