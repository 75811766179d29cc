using Builder.Web.Ui;

namespace Builder.Tests.Integration.Ui;

/// <summary>ANSI escapes of build output as HTML spans with classes; everything else escaped or removed.</summary>
public sealed class AnsiHtmlTests
{
    private const string E = "\u001b";

    [Theory]
    [InlineData(E + "[31mred" + E + "[0m plain", "<span class=\"a-fg1\">red</span> plain")]
    [InlineData(E + "[1;92mok", "<span class=\"a-bold a-fg10\">ok</span>")]
    [InlineData(E + "[37mw" + E + "[97mW", "<span class=\"a-fg7\">w</span><span class=\"a-fg15\">W</span>")]
    [InlineData(E + "[44mX" + E + "[49mY", "<span class=\"a-bg4\">X</span>Y")]
    [InlineData(E + "[101;30mX", "<span class=\"a-fg0 a-bg9\">X</span>")]
    [InlineData(E + "[2mdim" + E + "[3mboth", "<span class=\"a-dim\">dim</span><span class=\"a-dim a-italic\">both</span>")]
    [InlineData(E + "[4munder" + E + "[mplain", "<span class=\"a-underline\">under</span>plain")]
    public void SGR_colours_and_styles_become_classes(string line, string html) => Assert.Equal(html, AnsiHtml.ToHtml(line));

    [Fact]
    public void Each_reset_turns_off_only_its_own_style()
    {
        var line = E + "[1;2;3;4;33;44mA" + E + "[22mB" + E + "[23mC" + E + "[24mD" + E + "[39mE" + E + "[49mF";
        Assert.Equal(
            "<span class=\"a-bold a-dim a-italic a-underline a-fg3 a-bg4\">A</span>"
            + "<span class=\"a-italic a-underline a-fg3 a-bg4\">B</span>"
            + "<span class=\"a-underline a-fg3 a-bg4\">C</span>"
            + "<span class=\"a-fg3 a-bg4\">D</span>"
            + "<span class=\"a-bg4\">E</span>"
            + "F",
            AnsiHtml.ToHtml(line));
    }

    [Theory]
    [InlineData("38;5;9", "a-fg9")] // below 16: itself
    [InlineData("38;5;196", "a-fg9")] // (255, 0, 0)
    [InlineData("38;5;46", "a-fg10")] // (0, 255, 0)
    [InlineData("38;5;21", "a-fg4")] // (0, 0, 255): nearer xterm's blue (0, 0, 238) than its bright blue (92, 92, 255)
    [InlineData("38;5;231", "a-fg15")] // white
    [InlineData("38;5;244", "a-fg8")] // grey 128
    [InlineData("48;5;232", "a-bg0")] // grey 8
    [InlineData("48;5;226", "a-bg11")] // (255, 255, 0)
    [InlineData("38;2;255;0;0", "a-fg9")]
    [InlineData("38;2;250;250;250", "a-fg15")]
    [InlineData("48;2;0;0;0", "a-bg0")]
    [InlineData("38;2;200;0;0", "a-fg1")]
    [InlineData("38:5:196", "a-fg9")] // the colon (ITU) forms
    [InlineData("38:2::0:255:0", "a-fg10")]
    [InlineData("38:2:0:255:0", "a-fg10")]
    [InlineData("48:2:1:0:0:238", "a-bg4")] // with a colour space id
    [InlineData("38;5;300;1", "a-bold")] // out of range: ignored, the rest applies
    [InlineData("4:3", "a-underline")] // curly underline: underlined
    public void Colours_of_256_and_true_colour_become_the_nearest_of_the_16(string sgr, string classes) =>
        Assert.Equal($"<span class=\"{classes}\">X</span>", AnsiHtml.ToHtml(E + "[" + sgr + "mX"));

    [Theory]
    [InlineData("38;5")] // no index: the rest of the SGR is ignored
    [InlineData("38;2;1;2")]
    [InlineData("4:0")] // underline off
    [InlineData("5;7;9")] // blink, inverse, strike: not shown
    public void Incomplete_or_unsupported_SGR_codes_leave_the_text_plain(string sgr) =>
        Assert.Equal("X", AnsiHtml.ToHtml(E + "[" + sgr + "mX"));

    [Fact]
    public void The_nearest_colour_is_measured_on_xterms_palette()
    {
        Assert.Equal(0, AnsiHtml.Nearest16(16));
        Assert.Equal(15, AnsiHtml.Nearest16(231)); // (255, 255, 255)
        Assert.Equal(7, AnsiHtml.Nearest16(255)); // grey 238: nearer (229, 229, 229) than (255, 255, 255)
        Assert.Equal(8, AnsiHtml.Nearest16(243)); // grey 118
        Assert.Equal(3, AnsiHtml.Nearest16(255, 135, 0)); // orange
        Assert.Equal(12, AnsiHtml.Nearest16(92, 92, 250));
        for (var n = 0; n < 16; n++)
        {
            Assert.Equal(n, AnsiHtml.Nearest16(n));
        }
    }

    [Theory]
    [InlineData(E + "[2K" + E + "[1Gtext", "text")] // erase line, cursor to column 1
    [InlineData(E + "[?25lhidden cursor" + E + "[?25h", "hidden cursor")] // private modes
    [InlineData(E + "[>4;2mkeys", "keys")] // a private SGR-like sequence is not an SGR
    [InlineData(E + "[1 qcursor shape", "cursor shape")] // with an intermediate byte
    [InlineData(E + "]0;window title\u0007after", "after")] // OSC to BEL
    [InlineData(E + "]8;;https://example.org/" + E + "\\link" + E + "]8;;" + E + "\\", "link")] // OSC 8 hyperlink to ST
    [InlineData(E + "]0;never ends", "")]
    [InlineData(E + "Pq#0;2;0;0;0" + E + "\\x", "x")] // DCS (sixel)
    [InlineData(E + "_apc" + E + "\\x", "x")]
    [InlineData(E + "(Bcharset", "charset")]
    [InlineData(E + "7saved" + E + "8", "saved")]
    [InlineData("lone " + E, "lone ")]
    [InlineData(E + "\u0001x", "x")] // ESC before a control character: both dropped
    [InlineData(E + "[31", "")] // cut short by the end of the line
    [InlineData(E + "[31\u00e9t\u00e9", "\u00e9t\u00e9")] // cut short by a character no CSI has: that one is text
    [InlineData("a\bb\u0007c\u0000d\u007fe", "abcde")] // control characters
    [InlineData("tab\there", "tab\there")]
    [InlineData("\u009b1mX", "<span class=\"a-bold\">X</span>")] // 8-bit CSI
    [InlineData("\u009d0;title\u009cX", "X")] // 8-bit OSC and ST
    [InlineData("\u0085next", "next")] // other C1 controls
    public void Other_escape_sequences_and_control_characters_are_removed(string line, string html) =>
        Assert.Equal(html, AnsiHtml.ToHtml(line));

    [Fact]
    public void Text_is_html_encoded_wherever_it_is()
    {
        var html = AnsiHtml.ToHtml("<script>alert('x')</script> & \"q\" " + E + "[31m<img src=x onerror=alert(1)>" + E + "[0m");
        Assert.Equal(
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot; <span class=\"a-fg1\">&lt;img src=x onerror=alert(1)&gt;</span>",
            html);
        // An escape sequence cannot put markup back together: "<" + CSI + "script>" is text.
        Assert.Equal("&lt;script&gt;", AnsiHtml.ToHtml("<" + E + "[0mscript>"));
    }

    [Fact]
    public void Non_ascii_text_stays_as_it_is()
    {
        Assert.Equal("h\u00e9llo \u2501\u2501\u2501 \u65e5\u672c", AnsiHtml.ToHtml("h\u00e9llo \u2501\u2501\u2501 \u65e5\u672c"));
        // A lone surrogate (a line cut in the middle of a character) cannot be written as UTF-8: the replacement character.
        Assert.Equal("x&#xFFFD;", AnsiHtml.ToHtml("x\ud83d"));
    }

    [Fact]
    public void Spans_are_opened_only_around_text_and_closed_at_the_end_of_the_line()
    {
        Assert.Equal("X", AnsiHtml.ToHtml(E + "[31m" + E + "[0mX"));
        Assert.Equal(string.Empty, AnsiHtml.ToHtml(E + "[1;31m"));
        Assert.Equal("a<span class=\"a-bold\">bc</span>", AnsiHtml.ToHtml("a" + E + "[1mb" + E + "[1mc"));
        Assert.Equal("<span class=\"a-fg2\">a</span>", AnsiHtml.ToHtml(E + "[32ma" + E + "[K"));
    }

    [Fact]
    public void Long_text_is_written_whole()
    {
        var text = string.Concat(Enumerable.Repeat("0123456789<", 500));
        Assert.Equal(text.Replace("<", "&lt;", StringComparison.Ordinal), AnsiHtml.ToHtml(text));
    }

    [Fact]
    public void Plain_text_drops_every_escape_sequence()
    {
        Assert.Equal("red plain <b>", AnsiHtml.ToPlainText(E + "[31mred" + E + "[0m plain " + E + "]0;t\u0007<b>"));
    }
}
