using System.Globalization;
using System.Text;
using Builder.Core.Builds;
using Builder.Tests.Integration.Infrastructure;
using Builder.Web.Ui;
using Jint;
using Jint.Native;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// Ui/Assets/js/log.js continues in the browser what BuildLogView and AnsiHtml render on the server: its rules, run here
/// (Jint, without a DOM: the script only defines them then), must give the same sections, texts, anchors and spans for
/// the same lines, the ones of the other tests and many random ones.
/// </summary>
public sealed class LogScriptMirrorTests
{
    private const string E = "\u001b";

    private static readonly Lazy<Engine> Script = new(() =>
    {
        var engine = new Engine();
        engine.Execute(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "src", "Builder.Web", "Ui", "Assets", "js", "log.js")));
        return engine;
    });

    private static JsValue Call(string function, params object[] arguments)
    {
        var engine = Script.Value;
        var builderLog = engine.GetValue("BuilderLog");
        return engine.Invoke(builderLog.Get(function), arguments);
    }

    /// <summary>What the browser gets of a raw line: carriage returns that end it dropped, the others line feeds (SSE data fields).</summary>
    private static string AsStreamed(string rawLine) => rawLine.TrimEnd('\r').Replace('\r', '\n');

    /// <summary>The HTML the script's runs make, written like AnsiHtml writes its spans.</summary>
    private static string ScriptHtml(string line)
    {
        using var html = new StringWriter(CultureInfo.InvariantCulture);
        var runs = Call("ansiRuns", line).AsArray();
        for (uint i = 0; i < runs.Length; i++)
        {
            var run = runs[i];
            var classes = run.Get("cls").AsString();
            html.Write(classes.Length == 0 ? string.Empty : $"<span class=\"{classes}\">");
            HtmlText.Write(html, run.Get("text").AsString());
            html.Write(classes.Length == 0 ? string.Empty : "</span>");
        }

        return html.ToString();
    }

    private static readonly string[] AnsiSamples =
    [
        E + "[31mred" + E + "[0m plain", E + "[1;92mok", E + "[1;2;3;4;33;44mA" + E + "[22mB" + E + "[23mC" + E + "[24mD" + E + "[39mE" + E + "[49mF",
        E + "[38;5;196mX", E + "[38;5;21mX", E + "[48;5;232mX", E + "[38;2;255;0;0mX", E + "[38:2::0:255:0mX", E + "[48:2:1:0:0:238mX",
        E + "[38;5;300;1mX", E + "[4:3mX", E + "[4:0mX", E + "[38;5mX", E + "[2K" + E + "[1Gtext", E + "[?25lx", E + "[>4;2mkeys",
        E + "]0;title\u0007after", E + "]8;;https://example.org/" + E + "\\link" + E + "]8;;" + E + "\\", E + "Pq#0" + E + "\\x", E + "(Bx",
        "lone " + E, E + "[31\u00e9t\u00e9", "a\bb\u0007c\u0000d\u007fe", "tab\there", "\u009b1mX", "\u009d0;t\u009cX", "\u0085next",
        "<script>alert('x')</script> & \"q\"", "a" + E + "[1mb" + E + "[1mc", E + "[31m" + E + "[0mX", "h\u00e9llo \u2501\u2501 \u65e5\u672c",
    ];

    [Fact]
    public void Ansi_spans_are_the_same_as_the_servers()
    {
        foreach (var line in AnsiSamples.Concat(RandomLines(seed: 1, count: 3000, Alphabet.Ansi)))
        {
            Assert.True(AnsiHtml.ToHtml(line) == ScriptHtml(line), $"line {Escape(line)}: server {AnsiHtml.ToHtml(line)}, script {ScriptHtml(line)}");
        }
    }

    [Fact]
    public void Sections_texts_and_anchors_are_the_same_as_the_servers()
    {
        var lines = new List<string>
        {
            "[builder] build 7", "[git] cloning", "[plan] x", "[x86_64] [cp311-cp311 wheel] " + E + "[32mok", "[x86_64] [setup] a", "continued",
            "[x86_64 part 5] started", "[builder] [x] y", "[x86_64]", "[x86_64] [cp311-cp311 wheel]", "[x86_64] [wheel]x", "[x86_64] [] x",
            "[[odd] x", "[x86_64]x", "[] x", "[a\tb] x", " [builder] x", "[builder] 10%\r[builder] 50%\r", "[x86_64] [a b] 1", "[x86_64] [a-b] 2",
            "[x86_64 a] [b] 3", "[log] 4", "[y] [a-b-2] 6", "[y] [a b] 7", "[y] [a.b] 8", "[  Weird -- KEY!! ] x", "[\u00e9t\u00e9 2] x", "[***] x",
            "[x86_64] [a\r] x", "[x86_64] [a]\rb", "[builder]\r",
        };
        lines.AddRange(RandomLines(seed: 2, count: 3000, Alphabet.Prefixes));
        var chunk = new BuildLogChunk { Id = 1, BuildId = 7, Text = string.Join('\n', lines) + "\n" };
        var view = BuildLogView.Create([chunk], new Build { Tag = "v1", CommitSha = "a", State = BuildState.Succeeded });
        var server = view.Sections.SelectMany(s => s.Lines.Select(l => (l.Number, s.Key, s.Id, Text: l.Text.ToString()))).OrderBy(l => l.Number).ToList();

        // The script's side, line by line as its flush() and section() do it.
        Script.Value.Execute("""
            globalThis.mirrorSection = (() => {
              const ids = new Set();
              const byKey = new Map();
              return (key) => {
                if (!byKey.has(key)) {
                  const id = BuilderLog.uniqueId(BuilderLog.slug(key), ids);
                  ids.add(id);
                  byKey.set(key, id);
                }
                return byKey.get(key);
              };
            })();
            """);
        var sectionIds = new HashSet<string>(StringComparer.Ordinal);
        string? lastKey = null;
        for (var i = 0; i < lines.Count; i++)
        {
            var parsed = Call("parseLine", AsStreamed(lines[i]));
            var parsedKey = parsed.Get("key");
            var key = parsedKey.IsNull() ? lastKey ?? LogLinePrefix.NoPrefixKey : parsedKey.AsString();
            lastKey = key;
            var id = Script.Value.Invoke(Script.Value.GetValue("mirrorSection"), key).AsString();
            sectionIds.Add(id);

            var expected = server[i];
            var text = parsed.Get("text").AsString();
            Assert.True(
                (expected.Number, expected.Key, expected.Id, expected.Text) == (i + 1, key, id, text),
                $"line {Escape(lines[i])}: server ({expected.Key}, {expected.Id}, {Escape(expected.Text)}), script ({key}, {id}, {Escape(text)})");
        }

        Assert.Equal(view.Sections.Count, sectionIds.Count);
    }

    private enum Alphabet
    {
        Ansi,
        Prefixes,
    }

    private static IEnumerable<string> RandomLines(int seed, int count, Alphabet alphabet)
    {
        string[] pieces = alphabet == Alphabet.Ansi
            ? [E, E + "[", E + "]", "[", "]", "0", "1", "3", "4", "5", "8", "9", "38", "48", "2", ";", ":", "m", "K", "?", ">", " ", "\u0007", "\\",
                "a", "<", "&", "\t", "\u009b", "\u009c", "\u009d", "(", "P", "\u00e9", "\u007f", "\r", "\u0001"]
            : ["[", "]", " ", "x86_64", "builder", "git", "plan", "cp311-cp311 wheel", "part 5", "a", "A-b", "\r", "\t", "_", ".", "\u00e9", "log", "]x"];
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var line = new StringBuilder();
            var length = random.Next(0, 14);
            for (var j = 0; j < length; j++)
            {
                line.Append(pieces[random.Next(pieces.Length)]);
            }

            // Lines never hold a line feed; the prefix tests want most lines to start with a bracket.
            yield return (alphabet == Alphabet.Prefixes && random.Next(4) > 0 ? "[" : string.Empty) + line.ToString().Replace("\n", string.Empty, StringComparison.Ordinal);
        }
    }

    private static string Escape(string text) =>
        string.Concat(text.Select(c => c < ' ' || c is >= '\u007f' and <= '\u009f' ? $"\\u{(int)c:x4}" : c.ToString(CultureInfo.InvariantCulture)));
}
