using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Builder.Core.Builds;
using Builder.Web.Api;
using Microsoft.AspNetCore.Html;

namespace Builder.Web.Ui;

/// <summary>How a step of the build log went, as the build page shows it (its CSS class: <c>state-</c> and the lower-case name).</summary>
public enum LogStepState
{
    /// <summary>Not known from the build's targets and parts (folded).</summary>
    Unknown,

    /// <summary>The step's part is still running or queued (open).</summary>
    Running,

    /// <summary>Folded.</summary>
    Succeeded,

    /// <summary>Open.</summary>
    Failed,

    /// <summary>The step's part or the build was cancelled (folded).</summary>
    Cancelled,
}

/// <summary>One line of the log: its number in the whole raw log (1-based: <c>#L123</c>) and what it shows (with its ANSI escapes).</summary>
public readonly record struct LogLine(int Number, ReadOnlyMemory<char> Text);

/// <summary>One step's lines (<see cref="LogLinePrefix"/> says which lines are a step's).</summary>
public sealed class LogSection
{
    internal LogSection(string key, string id, string source, string? step)
    {
        Key = key;
        Id = id;
        Source = source;
        Step = step;
    }

    /// <summary><c>x86_64 cp311-cp311 wheel</c>, <c>builder</c>: also the section's title.</summary>
    public string Key { get; }

    /// <summary>The anchor id: <c>s-x86_64-cp311-cp311-wheel</c>.</summary>
    public string Id { get; }

    /// <summary>The first bracket's name: <c>x86_64</c>, <c>builder</c>, <c>x86_64 part 5</c>.</summary>
    public string Source { get; }

    /// <summary>The second bracket's name (<c>cp311-cp311 wheel</c>); null for a line with one.</summary>
    public string? Step { get; }

    public LogStepState State { get; internal set; }

    /// <summary>How long the step took, when the build records it (a target's seconds, a part's or the build's run).</summary>
    public TimeSpan? Duration { get; internal set; }

    public IReadOnlyList<LogLine> Lines => LineList;

    /// <summary>Failed and running steps are shown open, the others folded.</summary>
    public bool IsOpen => State is LogStepState.Failed or LogStepState.Running;

    /// <summary>The CSS class of <see cref="State"/>: <c>state-failed</c>.</summary>
    public string StateClass => "state-" + StateName(State);

    internal List<LogLine> LineList { get; } = [];

    internal static string StateName(LogStepState state) => state switch
    {
        LogStepState.Running => "running",
        LogStepState.Succeeded => "succeeded",
        LogStepState.Failed => "failed",
        LogStepState.Cancelled => "cancelled",
        _ => "unknown",
    };
}

/// <summary>
/// A build's log as the build page shows it: one section per step (<see cref="LogLinePrefix"/>), each with the lines'
/// numbers in the raw log and the step's state, rendered as folding <c>&lt;details&gt;</c> (<see cref="WriteHtml(TextWriter, int?)"/>).
/// Ui/Assets/js/log.js then follows the build from <see cref="LastChunkId"/> on and adds to the same markup.
/// </summary>
/// <remarks>
/// <para>States, from the build (with its <see cref="Build.Targets"/> and <see cref="Build.Parts"/> loaded):</para>
/// <list type="bullet">
/// <item><c>builder</c>: the build's state (queued counts as running); its duration is the build's.</item>
/// <item><c>git</c>, <c>plan</c>: succeeded once the build has parts (the plan made them); before that, the one of the two
/// with the latest line has the build's state and an earlier one succeeded.</item>
/// <item><c>{arch} part {id}</c> (the part's own lines): that part's state and run time.</item>
/// <item><c>{arch} {step}</c>: the target whose own step it is (its wheel, test or sdist step: the mapping of
/// <see cref="LogTargetFilter.RoleOf"/>, on that architecture's targets) says succeeded or failed, with its seconds;
/// else a wheel target the step is part of (before-build, repair); else the driver's <c>error</c> step is failed and
/// its <c>done</c> step succeeded.</item>
/// <item>Any other step of an architecture (setup, matrix, relay, ...; <c>[x86_64] ...</c> lines) comes from that
/// architecture's parts: running while one runs or is queued, succeeded when all did, cancelled when cancelled; when
/// one failed, the latest of these steps is failed if no target of the architecture failed (the container stopped
/// there), the others unknown.</item>
/// <item>Anything else (the lines before a prefix; a source that is no architecture of the build's parts): unknown.</item>
/// </list>
/// </remarks>
public sealed partial class BuildLogView
{
    private static readonly HtmlEncoder Encoder = HtmlText.Encoder;

    private BuildLogView(List<LogSection> sections, int lineCount, long lastChunkId)
    {
        Sections = sections;
        LineCount = lineCount;
        LastChunkId = lastChunkId;
    }

    /// <summary>The steps in the order they first appear.</summary>
    public IReadOnlyList<LogSection> Sections { get; }

    /// <summary>The lines of the log: the last line's number.</summary>
    public int LineCount { get; }

    /// <summary>
    /// The id of the last chunk read (0: none). The page hands it to Ui/Assets/js/log.js (<c>data-last-event-id</c>),
    /// which follows the log from there: <c>GET /api/builds/{id}/log?lastEventId=</c> sends only the chunks after it.
    /// </summary>
    public long LastChunkId { get; }

    /// <summary>
    /// The view of a build's stored log: its chunks (<c>db.BuildLogChunks.Where(c =&gt; c.BuildId == id)</c>, any
    /// order; they are read by id, as the raw log is) and the build, with its targets and parts, for the steps' states.
    /// </summary>
    public static BuildLogView Create(IEnumerable<BuildLogChunk> chunks, Build build)
    {
        var parser = new Parser();
        var last = 0L;
        string? carry = null;
        foreach (var chunk in chunks.OrderBy(c => c.Id))
        {
            last = Math.Max(last, chunk.Id);
            if (chunk.Text.Length == 0)
            {
                continue;
            }

            // Chunks hold whole lines; one that does not end in a line feed is joined to the next, as in the raw log.
            var text = carry is null ? chunk.Text : carry + chunk.Text;
            carry = null;
            var start = 0;
            while (start < text.Length)
            {
                var feed = text.IndexOf('\n', start);
                if (feed < 0)
                {
                    carry = text[start..];
                    break;
                }

                parser.Add(text.AsMemory(start, feed - start));
                start = feed + 1;
            }
        }

        if (carry is not null)
        {
            parser.Add(carry.AsMemory());
        }

        States.Assign(parser.Sections, build);
        return new BuildLogView(parser.Sections, parser.LineCount, last);
    }

    /// <summary>
    /// The sections as HTML: a <c>&lt;div class="log-sections" data-line-count="N" data-last-event-id="ID"&gt;</c> of
    /// <c>&lt;details id="s-..." class="log-step state-..." data-key="..." [open]&gt;</c>, each a
    /// <c>&lt;summary&gt;</c> (<c>step-title</c>, <c>step-state</c>, <c>step-duration</c> spans) and an
    /// <c>&lt;ol class="log-lines"&gt;</c> of <c>&lt;li id="L123"&gt;&lt;a href="#L123" class="ln"&gt;123&lt;/a&gt;&lt;span
    /// class="lt"&gt;...&lt;/span&gt;&lt;/li&gt;</c> (the text through <see cref="AnsiHtml"/>).
    /// </summary>
    public void WriteHtml(TextWriter writer) => WriteHtml(writer, null);

    /// <summary>
    /// <see cref="WriteHtml(TextWriter)"/>, with each folded (succeeded, cancelled or unknown) section longer than
    /// <paramref name="foldedLineLimit"/> cut to its last that many lines after a line saying how many came before
    /// and linking to <c>?full=1</c> (the page rendered whole) and the raw log: a huge log stays a light page.
    /// </summary>
    public void WriteHtml(TextWriter writer, int? foldedLineLimit)
    {
        writer.Write("<div class=\"log-sections\" data-line-count=\"");
        WriteNumber(writer, LineCount);
        writer.Write("\" data-last-event-id=\"");
        WriteNumber(writer, LastChunkId);
        writer.Write("\">\n");
        foreach (var section in Sections)
        {
            WriteSection(writer, section, section.IsOpen ? null : foldedLineLimit);
        }

        writer.Write("</div>\n");
    }

    /// <summary><see cref="WriteHtml(TextWriter)"/> for a Razor page (<c>@Model.Log.ToHtml()</c>): written straight to the response.</summary>
    public IHtmlContent ToHtml() => new WrittenHtml(WriteHtml);

    /// <summary><see cref="WriteHtml(TextWriter, int?)"/> for a Razor page.</summary>
    public IHtmlContent ToHtml(int? foldedLineLimit) => new WrittenHtml(writer => WriteHtml(writer, foldedLineLimit));

    private static void WriteSection(TextWriter writer, LogSection section, int? lineLimit)
    {
        // Ids, keys and state names are encoded like any text: a key is whatever a log line's brackets held.
        writer.Write("<details id=\"");
        Encoder.Encode(writer, section.Id);
        writer.Write("\" class=\"log-step ");
        writer.Write(section.StateClass);
        writer.Write("\" data-key=\"");
        Encoder.Encode(writer, section.Key);
        writer.Write(section.IsOpen ? "\" open>" : "\">");
        writer.Write("<summary><span class=\"step-title\">");
        Encoder.Encode(writer, section.Key);
        writer.Write("</span> <span class=\"step-state\">");
        writer.Write(LogSection.StateName(section.State));
        writer.Write("</span>");
        if (section.Duration is { } duration)
        {
            writer.Write(" <span class=\"step-duration\">");
            writer.Write(FormatDuration(duration));
            writer.Write("</span>");
        }

        writer.Write("</summary><ol class=\"log-lines\">\n");
        var lines = section.Lines;
        var skip = lineLimit is { } limit && lines.Count > limit ? lines.Count - limit : 0;
        if (skip > 0)
        {
            writer.Write("<li class=\"log-omitted\"><span class=\"lt\">");
            WriteNumber(writer, skip);
            writer.Write(" earlier lines of this step are not shown: <a href=\"?full=1#L");
            WriteNumber(writer, lines[skip].Number);
            writer.Write("\">show the whole log</a></span></li>\n");
        }

        foreach (var line in lines.Skip(skip))
        {
            writer.Write("<li id=\"L");
            WriteNumber(writer, line.Number);
            writer.Write("\"><a href=\"#L");
            WriteNumber(writer, line.Number);
            writer.Write("\" class=\"ln\">");
            WriteNumber(writer, line.Number);
            writer.Write("</a><span class=\"lt\">");
            AnsiHtml.Write(writer, line.Text.Span);
            writer.Write("</span></li>\n");
        }

        writer.Write("</ol></details>\n");
    }

    /// <summary>A step's duration as the summary shows it: <c>0.4 s</c>, <c>12 s</c>, <c>3 min 05 s</c>, <c>1 h 02 min</c>.</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        var seconds = Math.Max(0, duration.TotalSeconds);
        return seconds switch
        {
            < 10 => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.0} s"),
            < 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds:0} s"),
            < 3600 => string.Create(CultureInfo.InvariantCulture, $"{(int)seconds / 60} min {(int)seconds % 60:00} s"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{(int)seconds / 3600} h {(int)seconds / 60 % 60:00} min"),
        };
    }

    private static void WriteNumber(TextWriter writer, long number)
    {
        Span<char> digits = stackalloc char[20];
        number.TryFormat(digits, out var written, provider: CultureInfo.InvariantCulture);
        writer.Write(digits[..written]);
    }

    /// <summary>Puts each line in its section (<see cref="LogLinePrefix"/>); sections found by the prefix's text, without a string per line.</summary>
    private sealed class Parser
    {
        private readonly Dictionary<string, LogSection> _byPrefix = new(StringComparer.Ordinal);
        private readonly Dictionary<string, LogSection> _byKey = new(StringComparer.Ordinal);
        private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
        private LogSection? _last;

        public List<LogSection> Sections { get; } = [];

        public int LineCount { get; private set; }

        public void Add(ReadOnlyMemory<char> raw)
        {
            var line = raw.Span.TrimEnd('\r');
            raw = raw[..line.Length];
            LineCount++;
            LogSection section;
            int textStart;
            if (LogLinePrefix.TryParse(line, out var source, out var step, out textStart))
            {
                var prefix = line[..(step is { } s ? s.End.Value + 1 : source.End.Value + 1)];
                if (!_byPrefix.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(prefix, out var found))
                {
                    found = Section(LogLinePrefix.Key(line, source, step), line[source].ToString(), step is { } st ? line[st].ToString() : null);
                    _byPrefix[prefix.ToString()] = found;
                }

                section = found;
            }
            else
            {
                textStart = 0;
                section = _last ?? Section(LogLinePrefix.NoPrefixKey, LogLinePrefix.NoPrefixKey, null);
            }

            section.LineList.Add(new LogLine(LineCount, raw[LogLinePrefix.ShownTextStart(line, textStart)..]));
            _last = section;
        }

        private LogSection Section(string key, string source, string? step)
        {
            if (_byKey.TryGetValue(key, out var section))
            {
                return section;
            }

            var id = LogLinePrefix.Unique(LogLinePrefix.Slug(key), _ids);
            _ids.Add(id);
            section = new LogSection(key, id, source, step);
            _byKey[key] = section;
            Sections.Add(section);
            return section;
        }
    }

    /// <summary>The sections' states and durations from the build (see the remarks of <see cref="BuildLogView"/>).</summary>
    private static class States
    {
        public static void Assign(List<LogSection> sections, Build build)
        {
            var targets = build.Targets
                .Select(t => (Target: t, Filter: LogTargetFilter.TryParse(t.Name, out var filter) ? filter : null))
                .Where(t => t.Filter is not null)
                .ToList();
            var fromParts = new List<(LogSection Section, string Architecture)>();
            foreach (var section in sections)
            {
                var architecture = section.Source.Split(' ')[0];
                if (section.Source == "builder")
                {
                    section.State = Of(build.State);
                    section.Duration = build.FinishedAt - build.StartedAt;
                }
                else if (section.Source is "git" or "plan")
                {
                    section.State = build.Parts.Count > 0 || sections.Any(s => s.Source is "git" or "plan" && LastLine(s) > LastLine(section))
                        ? LogStepState.Succeeded
                        : Of(build.State);
                }
                else if (PartSource().Match(section.Source) is { Success: true } own)
                {
                    var id = long.Parse(own.Groups["id"].Value, NumberStyles.None, CultureInfo.InvariantCulture);
                    var part = build.Parts.FirstOrDefault(p => p.Id == id);
                    section.State = part is null ? LogStepState.Unknown : Of(part.State);
                    section.Duration = part?.FinishedAt - part?.StartedAt;
                }
                else if (section.Step is { } step && section.Source == architecture && FromTargets(section, architecture, step, targets))
                {
                    // Set by its targets.
                }
                else if (section.Step is "error" or "done" && section.Source == architecture)
                {
                    // The driver's last words: "[error] ..." when it failed, "[done] ..." when it did not.
                    section.State = section.Step == "error" ? LogStepState.Failed : LogStepState.Succeeded;
                }
                else
                {
                    fromParts.Add((section, architecture));
                }
            }

            foreach (var group in fromParts.GroupBy(s => s.Architecture, StringComparer.Ordinal))
            {
                var parts = build.Parts.Where(p => p.Architecture == group.Key).ToList();
                var state = parts.Count == 0 ? LogStepState.Unknown
                    : parts.Any(p => p.State is BuildState.Running or BuildState.Queued) ? LogStepState.Running
                    : parts.All(p => p.State == BuildState.Succeeded) ? LogStepState.Succeeded
                    : parts.Any(p => p.State == BuildState.Failed) ? LogStepState.Failed
                    : LogStepState.Cancelled;
                var latest = group.MaxBy(s => LastLine(s.Section)).Section;
                var failureKnown = targets.Any(t => t.Target.Architecture == group.Key && !t.Target.Succeeded);
                foreach (var (section, _) in group)
                {
                    section.State = state != LogStepState.Failed ? state
                        : section == latest && !failureKnown ? LogStepState.Failed
                        : LogStepState.Unknown;
                }
            }
        }

        /// <summary>The state of the target whose own step this is, else of one the step is part of; false when none is.</summary>
        private static bool FromTargets(LogSection section, string architecture, string step, List<(BuildTarget Target, LogTargetFilter? Filter)> targets)
        {
            var own = new List<BuildTarget>();
            var part = new List<BuildTarget>();
            foreach (var (target, filter) in targets)
            {
                if (target.Architecture != architecture)
                {
                    continue;
                }

                switch (filter!.RoleOf(architecture, step))
                {
                    case LogStepRole.Own:
                        own.Add(target);
                        break;
                    case LogStepRole.Part:
                        part.Add(target);
                        break;
                }
            }

            var of = own.Count > 0 ? own : part;
            if (of.Count == 0)
            {
                return false;
            }

            section.State = of.All(t => t.Succeeded) ? LogStepState.Succeeded : LogStepState.Failed;
            if (own.Count > 0 && own[0].Seconds > 0)
            {
                section.Duration = TimeSpan.FromSeconds(own[0].Seconds);
            }

            return true;
        }

        private static int LastLine(LogSection section) => section.Lines.Count == 0 ? 0 : section.Lines[^1].Number;

        private static LogStepState Of(BuildState state) => state switch
        {
            BuildState.Queued or BuildState.Running => LogStepState.Running,
            BuildState.Succeeded => LogStepState.Succeeded,
            BuildState.Failed => LogStepState.Failed,
            BuildState.Cancelled => LogStepState.Cancelled,
            _ => LogStepState.Unknown,
        };
    }

    // BuildPartJob's own lines: "[x86_64 part 5] started on ...".
    [GeneratedRegex("^[^ ]+ part (?<id>[0-9]{1,18})$")]
    private static partial Regex PartSource();

    /// <summary>HTML written by a method when the page renders it.</summary>
    private sealed class WrittenHtml(Action<TextWriter> write) : IHtmlContent
    {
        public void WriteTo(TextWriter writer, HtmlEncoder encoder) => write(writer);
    }
}
