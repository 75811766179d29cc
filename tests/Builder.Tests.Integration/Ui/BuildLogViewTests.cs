using System.Globalization;
using System.Text.RegularExpressions;
using Builder.Core.Builds;
using Builder.Web.Ui;

namespace Builder.Tests.Integration.Ui;

/// <summary>The build page's log: sections per step with the raw log's line numbers, their states, and the HTML.</summary>
public sealed partial class BuildLogViewTests
{
    private const string E = "\u001b";
    private static readonly DateTimeOffset T0 = new(2025, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static Build NewBuild(BuildState state) => new() { Id = 7, Tag = "v1.0.0", CommitSha = new string('a', 40), State = state };

    private static BuildPart Part(long id, string architecture, BuildState state, double? seconds = null) => new()
    {
        Id = id,
        Architecture = architecture,
        Identifiers = $"cp311-manylinux_{architecture} cp312-manylinux_{architecture}",
        State = state,
        StartedAt = seconds is null ? null : T0,
        FinishedAt = seconds is null ? null : T0.AddSeconds(seconds.Value),
    };

    private static BuildTarget Target(string name, bool succeeded, double seconds, string architecture = "x86_64") =>
        new() { Name = name, Architecture = architecture, Succeeded = succeeded, Seconds = seconds, PartId = 5 };

    private static List<BuildLogChunk> Chunks(params (long Id, string Text)[] chunks) =>
        [.. chunks.Select(c => new BuildLogChunk { Id = c.Id, BuildId = 7, Text = c.Text })];

    // A failed build: part 5 built the sdist and cp311 (tested), and failed on cp312.
    private static readonly List<BuildLogChunk> FailedLog = Chunks(
        (10, "[builder] build 7: acme/fastadd tag v1.0.0 (aaaa), attempt 1\n"
            + "[git] cloning https://forge.invalid/acme/fastadd.git\n"
            + "[git] checked out v1.0.0 at aaaa\n"
            + "[plan] pyproject.toml [tool.cibuildwheel]\n"
            + "[plan] x86_64: cp311-manylinux_x86_64, cp312-manylinux_x86_64\n"
            + "[builder] part 5 (x86_64: cp311-manylinux_x86_64, cp312-manylinux_x86_64, sdist) queued on build-x86_64\n"),
        (11, string.Empty),
        (12, "[x86_64 part 5] started on worker-1, attempt 1\n"
            + "[git] cloning https://forge.invalid/acme/fastadd.git\n"
            + "[x86_64] [setup] driver on Python 3.12\n"
            + "[x86_64] [sdist] $ python -m build --sdist\n"
            + "[x86_64] [cp311-cp311 wheel] " + E + "[32mbuilding" + E + "[0m <fastadd>\n"
            + "[x86_64] [cp312-cp312 wheel] building\n"
            + "[x86_64] [cp311-cp311 repair] repaired fastadd-1.0.0-cp311-cp311-linux_x86_64.whl\n"
            + "[x86_64] [cp312-cp312 wheel] error: <stdio.h> not found\n"),
        (15, "[x86_64] [cp311-cp311 test] 10%\r50%\r100%\r\n"
            + "[x86_64] [error] cp312-cp312 wheel: gcc failed\n"
            + "[builder] FAILED: x86_64: cp312-cp312 wheel: gcc failed\n"
            + "last output:\n"
            + "  [cp312-cp312 wheel] error: <stdio.h> not found\n"),
        (16, string.Empty));

    private static Build FailedBuild()
    {
        var build = NewBuild(BuildState.Failed);
        build.StartedAt = T0;
        build.FinishedAt = T0.AddSeconds(95);
        build.Parts.Add(Part(5, "x86_64", BuildState.Failed, seconds: 80));
        build.Targets.AddRange([
            Target("sdist", true, 3.2),
            Target("cp311-manylinux_x86_64", true, 12.4),
            Target("cp312-manylinux_x86_64", false, 4),
            Target("cp311-manylinux_x86_64 test", true, 2),
        ]);
        return build;
    }

    [Fact]
    public void Each_step_is_a_section_in_order_of_appearance_with_the_raw_logs_line_numbers()
    {
        var view = BuildLogView.Create(FailedLog, FailedBuild());

        Assert.Equal(19, view.LineCount);
        Assert.Equal(16, view.LastChunkId); // the end marker's id: the stream resumes after it
        Assert.Equal(
            [
                ("builder", "s-builder", "1 6 17 18 19"),
                ("git", "s-git", "2 3 8"),
                ("plan", "s-plan", "4 5"),
                ("x86_64 part 5", "s-x86_64-part-5", "7"),
                ("x86_64 setup", "s-x86_64-setup", "9"),
                ("x86_64 sdist", "s-x86_64-sdist", "10"),
                ("x86_64 cp311-cp311 wheel", "s-x86_64-cp311-cp311-wheel", "11"),
                ("x86_64 cp312-cp312 wheel", "s-x86_64-cp312-cp312-wheel", "12 14"),
                ("x86_64 cp311-cp311 repair", "s-x86_64-cp311-cp311-repair", "13"),
                ("x86_64 cp311-cp311 test", "s-x86_64-cp311-cp311-test", "15"),
                ("x86_64 error", "s-x86_64-error", "16"),
            ],
            view.Sections.Select(s => (s.Key, s.Id, Numbers(s))).ToList());

        // What a line shows: after its prefix; a progress bar's last state; continuation lines whole.
        var text = view.Sections.SelectMany(s => s.Lines).ToDictionary(l => l.Number, l => l.Text.ToString());
        Assert.Equal("build 7: acme/fastadd tag v1.0.0 (aaaa), attempt 1", text[1]);
        Assert.Equal("pyproject.toml [tool.cibuildwheel]", text[4]);
        Assert.Equal(E + "[32mbuilding" + E + "[0m <fastadd>", text[11]);
        Assert.Equal("100%", text[15]);
        Assert.Equal("last output:", text[18]);
        Assert.Equal("  [cp312-cp312 wheel] error: <stdio.h> not found", text[19]);
    }

    [Fact]
    public void States_come_from_the_builds_targets_and_parts()
    {
        var view = BuildLogView.Create(FailedLog, FailedBuild());

        Assert.Equal(
            [
                ("builder", LogStepState.Failed, "1 min 35 s"),
                ("git", LogStepState.Succeeded, null),
                ("plan", LogStepState.Succeeded, null),
                ("x86_64 part 5", LogStepState.Failed, "1 min 20 s"),
                ("x86_64 setup", LogStepState.Unknown, null), // the part failed, in a step its targets name
                ("x86_64 sdist", LogStepState.Succeeded, "3.2 s"),
                ("x86_64 cp311-cp311 wheel", LogStepState.Succeeded, "12 s"),
                ("x86_64 cp312-cp312 wheel", LogStepState.Failed, "4.0 s"),
                ("x86_64 cp311-cp311 repair", LogStepState.Succeeded, null), // part of the cp311 wheel's build
                ("x86_64 cp311-cp311 test", LogStepState.Succeeded, "2.0 s"), // the test target, not the wheel's
                ("x86_64 error", LogStepState.Failed, null),
            ],
            view.Sections.Select(s => (s.Key, s.State, s.Duration is { } d ? BuildLogView.FormatDuration(d) : null)).ToList());
    }

    [Fact]
    public void A_test_step_takes_the_state_of_its_test_target_only()
    {
        var build = FailedBuild();
        build.Targets.RemoveAll(t => t.Name.EndsWith(" test", StringComparison.Ordinal));
        build.Targets.Add(Target("cp311-manylinux_x86_64 test", false, 1.5));
        var view = BuildLogView.Create(FailedLog, build);
        Assert.Equal(LogStepState.Succeeded, view.Sections.Single(s => s.Key == "x86_64 cp311-cp311 wheel").State);
        Assert.Equal(LogStepState.Failed, view.Sections.Single(s => s.Key == "x86_64 cp311-cp311 test").State);

        // Without a test target (the test container ended without a result), the wheel's success says nothing of it.
        build.Targets.RemoveAll(t => t.Name.EndsWith(" test", StringComparison.Ordinal));
        view = BuildLogView.Create(FailedLog, build);
        Assert.Equal(LogStepState.Unknown, view.Sections.Single(s => s.Key == "x86_64 cp311-cp311 test").State);
    }

    [Fact]
    public void When_a_part_failed_and_no_target_says_where_its_latest_other_step_failed()
    {
        // The container ended without a result line: no targets at all.
        var build = NewBuild(BuildState.Failed);
        build.Parts.Add(Part(5, "x86_64", BuildState.Failed));
        var view = BuildLogView.Create(
            Chunks((1, "[x86_64] [setup] driver\n[x86_64] [cp311-cp311 wheel] building\n[x86_64] [setup] late setup line\n[x86_64] [cp312-cp312 wheel] killed\n")),
            build);
        Assert.Equal(
            [("x86_64 setup", LogStepState.Unknown), ("x86_64 cp311-cp311 wheel", LogStepState.Unknown), ("x86_64 cp312-cp312 wheel", LogStepState.Failed)],
            view.Sections.Select(s => (s.Key, s.State)).ToList());
    }

    [Fact]
    public void Free_threaded_and_regular_interpreters_are_told_apart()
    {
        var build = NewBuild(BuildState.Succeeded);
        build.Parts.Add(Part(5, "x86_64", BuildState.Succeeded));
        build.Targets.AddRange([Target("cp313-manylinux_x86_64", true, 10), Target("cp313t-manylinux_x86_64", false, 20)]);
        var view = BuildLogView.Create(Chunks((1, "[x86_64] [cp313-cp313t wheel] t\n[x86_64] [cp313-cp313 wheel] r\n")), build);
        Assert.Equal(
            [("x86_64 cp313-cp313t wheel", LogStepState.Failed, 20.0), ("x86_64 cp313-cp313 wheel", LogStepState.Succeeded, 10.0)],
            view.Sections.Select(s => (s.Key, s.State, s.Duration!.Value.TotalSeconds)).ToList());
    }

    [Fact]
    public void While_a_part_runs_its_steps_are_running_and_the_job_steps_before_it_succeeded()
    {
        var build = NewBuild(BuildState.Running);
        build.Parts.AddRange([Part(5, "x86_64", BuildState.Running), Part(6, "aarch64", BuildState.Succeeded, seconds: 30)]);
        var view = BuildLogView.Create(
            Chunks((1, "[builder] build 7\n[git] cloning\n[plan] x86_64: cp311\n[x86_64 part 5] started\n[x86_64] [setup] driver\n"
                + "[x86_64] [cp311-cp311 wheel] building\n[aarch64] [setup] driver\n[aarch64 part 6] done: a.whl\n")),
            build);
        Assert.Equal(
            [
                ("builder", LogStepState.Running),
                ("git", LogStepState.Succeeded),
                ("plan", LogStepState.Succeeded),
                ("x86_64 part 5", LogStepState.Running),
                ("x86_64 setup", LogStepState.Running),
                ("x86_64 cp311-cp311 wheel", LogStepState.Running),
                ("aarch64 setup", LogStepState.Succeeded),
                ("aarch64 part 6", LogStepState.Succeeded),
            ],
            view.Sections.Select(s => (s.Key, s.State)).ToList());
        Assert.Null(view.Sections.Single(s => s.Key == "builder").Duration);
        Assert.Equal(TimeSpan.FromSeconds(30), view.Sections.Single(s => s.Key == "aarch64 part 6").Duration);
    }

    [Fact]
    public void Before_there_are_parts_the_latest_job_step_has_the_builds_state()
    {
        var planning = NewBuild(BuildState.Running);
        Assert.Equal(
            [("builder", LogStepState.Running), ("git", LogStepState.Succeeded), ("plan", LogStepState.Running)],
            BuildLogView.Create(Chunks((1, "[builder] build 7\n[git] cloning\n[git] checked out\n[plan] reading\n")), planning)
                .Sections.Select(s => (s.Key, s.State)).ToList());

        var cloneFailed = NewBuild(BuildState.Failed);
        Assert.Equal(
            [("builder", LogStepState.Failed), ("git", LogStepState.Failed)],
            BuildLogView.Create(Chunks((1, "[builder] build 7\n[git] cloning\n[builder] FAILED: clone failed\n")), cloneFailed)
                .Sections.Select(s => (s.Key, s.State)).ToList());
    }

    [Fact]
    public void Cancelled_parts_and_unknown_sources_are_folded()
    {
        var build = NewBuild(BuildState.Cancelled);
        build.Parts.Add(Part(5, "x86_64", BuildState.Cancelled));
        var view = BuildLogView.Create(Chunks((1, "[x86_64] [setup] driver\n[x86_64 test] skipped: test-skip\n[relay] what\n[x86_64 part 9] gone\n")), build);
        Assert.Equal(
            [
                ("x86_64 setup", LogStepState.Cancelled),
                ("x86_64 test", LogStepState.Cancelled),
                ("relay", LogStepState.Unknown),
                ("x86_64 part 9", LogStepState.Unknown), // no such part
            ],
            view.Sections.Select(s => (s.Key, s.State)).ToList());
        Assert.All(view.Sections, s => Assert.False(s.IsOpen));
    }

    [Fact]
    public void Lines_are_numbered_as_in_the_raw_log_whatever_the_chunks()
    {
        // Read by id, whatever order they come in; a chunk without its last line feed is joined to the next, as the raw
        // log is their concatenation; CRLF is one line end; lines before any prefix are in section "log".
        var view = BuildLogView.Create(
            Chunks((30, "[git] b\r\n"), (20, "before any prefix\n\n[builder] a "), (25, "still a\n"), (40, "[builder] no line feed at the end")),
            NewBuild(BuildState.Succeeded));
        var raw = "before any prefix\n\n[builder] a still a\n[git] b\r\n[builder] no line feed at the end";
        Assert.Equal(raw.Split('\n').Length, view.LineCount);
        Assert.Equal(40, view.LastChunkId);
        Assert.Equal(
            [("log", 1, "before any prefix"), ("log", 2, string.Empty), ("builder", 3, "a still a"), ("git", 4, "b"), ("builder", 5, "no line feed at the end")],
            view.Sections.SelectMany(s => s.Lines.Select(l => (s.Key, l.Number, l.Text.ToString()))).OrderBy(l => l.Number).ToList());
        Assert.Equal(LogStepState.Unknown, view.Sections[0].State);
    }

    [Fact]
    public void An_empty_log_has_no_sections()
    {
        var view = BuildLogView.Create([], NewBuild(BuildState.Queued));
        Assert.Empty(view.Sections);
        Assert.Equal(0, view.LineCount);
        Assert.Equal(0, view.LastChunkId);
        Assert.Equal("<div class=\"log-sections\" data-line-count=\"0\" data-last-event-id=\"0\">\n</div>\n", Html(view));
    }

    [Theory]
    [InlineData("[builder] [x] y", "builder", "[x] y")] // the job's sources have no step
    [InlineData("[x86_64]", "x86_64", "")]
    [InlineData("[x86_64] [cp311-cp311 wheel]", "x86_64 cp311-cp311 wheel", "")]
    [InlineData("[x86_64] [cp311-cp311 wheel] ", "x86_64 cp311-cp311 wheel", "")]
    [InlineData("[x86_64] [cp311-cp311 wheel]  two spaces", "x86_64 cp311-cp311 wheel", " two spaces")]
    [InlineData("[x86_64] [wheel]x", "x86_64", "[wheel]x")] // a bracket is followed by a space or the end
    [InlineData("[x86_64] [] x", "x86_64", "[] x")]
    [InlineData("[x86_64 part 5] started", "x86_64 part 5", "started")]
    [InlineData("[[odd] x", "[odd", "x")]
    [InlineData("[x86_64]x", null, "[x86_64]x")]
    [InlineData("[] x", null, "[] x")]
    [InlineData("[a\tb] x", null, "[a\tb] x")] // a control character in a name: no prefix
    [InlineData(" [builder] x", null, " [builder] x")]
    [InlineData("[builder] 10%\r[builder] 50%", "builder", "[builder] 50%")]
    public void A_lines_prefix_names_its_section(string line, string? key, string text)
    {
        var view = BuildLogView.Create(Chunks((1, "[first] line\n" + line + "\n")), NewBuild(BuildState.Succeeded));
        var section = view.Sections.Single(s => s.Lines.Any(l => l.Number == 2));
        Assert.Equal(key ?? "first", section.Key);
        Assert.Equal(text, section.Lines.Single(l => l.Number == 2).Text.ToString());
    }

    [Theory]
    [InlineData("x86_64 cp311-cp311 wheel", "s-x86_64-cp311-cp311-wheel")]
    [InlineData("x86_64 part 5", "s-x86_64-part-5")]
    [InlineData("  Weird -- KEY!! ", "s-weird-key")]
    [InlineData("\u00e9t\u00e9 2", "s-t-2")]
    [InlineData("***", "s-log")]
    [InlineData("\"><script>", "s-script")]
    public void A_sections_anchor_is_a_slug_of_its_key(string key, string id)
    {
        var view = BuildLogView.Create(Chunks((1, $"[{key}] x\n")), NewBuild(BuildState.Succeeded));
        Assert.Equal(id, view.Sections.Single().Id);
    }

    [Fact]
    public void Keys_with_the_same_slug_get_numbered_anchors()
    {
        var view = BuildLogView.Create(
            Chunks((1, "[x86_64] [a b] 1\n[x86_64] [a-b] 2\n[x86_64 a] [b] 3\n[log] 4\n[x86_64] [a b] 5\n[y] [a-b-2] 6\n[y] [a b] 7\n[y] [a.b] 8\n")),
            NewBuild(BuildState.Succeeded));
        Assert.Equal(
            [
                ("x86_64 a b", "s-x86_64-a-b", "1 3 5"), // "[x86_64 a] [b]" has the same key: the same section
                ("x86_64 a-b", "s-x86_64-a-b-2", "2"),
                ("log", "s-log", "4"),
                ("y a-b-2", "s-y-a-b-2", "6"),
                ("y a b", "s-y-a-b", "7"),
                ("y a.b", "s-y-a-b-3", "8"), // s-y-a-b-2 is another key's own slug
            ],
            view.Sections.Select(s => (s.Key, s.Id, Numbers(s))).ToList());
    }

    [Fact]
    public void Html_folds_succeeded_steps_and_opens_failed_and_running_ones()
    {
        var html = Html(BuildLogView.Create(FailedLog, FailedBuild()));

        Assert.Contains("<details id=\"s-x86_64-cp312-cp312-wheel\" class=\"log-step state-failed\" data-key=\"x86_64 cp312-cp312 wheel\" open>", html, StringComparison.Ordinal);
        Assert.Contains("<details id=\"s-x86_64-cp311-cp311-wheel\" class=\"log-step state-succeeded\" data-key=\"x86_64 cp311-cp311 wheel\">", html, StringComparison.Ordinal);
        Assert.Contains("<details id=\"s-x86_64-setup\" class=\"log-step state-unknown\" data-key=\"x86_64 setup\">", html, StringComparison.Ordinal);
        Assert.Contains(
            "<summary><span class=\"step-title\">x86_64 cp311-cp311 wheel</span> <span class=\"step-state\">succeeded</span> <span class=\"step-duration\">12 s</span></summary>",
            html, StringComparison.Ordinal);
        Assert.Contains(
            "<li id=\"L11\"><a href=\"#L11\" class=\"ln\">11</a><span class=\"lt\"><span class=\"a-fg2\">building</span> &lt;fastadd&gt;</span></li>",
            html, StringComparison.Ordinal);
        Assert.Contains("<div class=\"log-sections\" data-line-count=\"19\" data-last-event-id=\"16\">", html, StringComparison.Ordinal);
        Assert.Equal(11, CountOf(html, "<details "));
        Assert.Equal(4, CountOf(html, " open>")); // builder, part 5, cp312 wheel, error
        Assert.Equal(19, CountOf(html, "<li id=\"L"));
        Assert.DoesNotContain("<stdio.h>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("style=", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_of_a_small_log_is_exactly_this()
    {
        var build = NewBuild(BuildState.Running);
        build.Parts.Add(Part(5, "x86_64", BuildState.Running));
        var view = BuildLogView.Create(Chunks((3, "[builder] build 7\n[x86_64] [setup] <ok> & \"done\"\n")), build);
        Assert.Equal(
            "<div class=\"log-sections\" data-line-count=\"2\" data-last-event-id=\"3\">\n"
            + "<details id=\"s-builder\" class=\"log-step state-running\" data-key=\"builder\" open><summary><span class=\"step-title\">builder</span> <span class=\"step-state\">running</span></summary><ol class=\"log-lines\">\n"
            + "<li id=\"L1\"><a href=\"#L1\" class=\"ln\">1</a><span class=\"lt\">build 7</span></li>\n"
            + "</ol></details>\n"
            + "<details id=\"s-x86_64-setup\" class=\"log-step state-running\" data-key=\"x86_64 setup\" open><summary><span class=\"step-title\">x86_64 setup</span> <span class=\"step-state\">running</span></summary><ol class=\"log-lines\">\n"
            + "<li id=\"L2\"><a href=\"#L2\" class=\"ln\">2</a><span class=\"lt\">&lt;ok&gt; &amp; &quot;done&quot;</span></li>\n"
            + "</ol></details>\n"
            + "</div>\n",
            Html(view));
    }

    [Fact]
    public void Markup_in_keys_and_lines_is_escaped()
    {
        var html = Html(BuildLogView.Create(Chunks((1, "[x86_64] [a\"<b>] <script>alert(1)</script>\n[<img src=x onerror=alert(1)>] x\n")), NewBuild(BuildState.Failed)));
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", html, StringComparison.Ordinal);
        Assert.Contains("data-key=\"x86_64 a&quot;&lt;b&gt;\"", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        // Only the view's own tags are left.
        Assert.Empty(Tags().Matches(html).Select(m => m.Groups[1].Value).Except(["div", "details", "summary", "span", "ol", "li", "a"]));
    }

    [Theory]
    [InlineData(0.4, "0.4 s")]
    [InlineData(9.96, "10.0 s")]
    [InlineData(12.4, "12 s")]
    [InlineData(185, "3 min 05 s")]
    [InlineData(3725, "1 h 02 min")]
    public void Durations_read_like_this(double seconds, string text) => Assert.Equal(text, BuildLogView.FormatDuration(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void The_html_content_writes_the_same_html()
    {
        var view = BuildLogView.Create(FailedLog, FailedBuild());
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        view.ToHtml().WriteTo(writer, System.Text.Encodings.Web.HtmlEncoder.Default);
        Assert.Equal(Html(view), writer.ToString());
    }

    private static string Html(BuildLogView view)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        view.WriteHtml(writer);
        return writer.ToString();
    }

    private static string Numbers(LogSection section) => string.Join(' ', section.Lines.Select(l => l.Number));

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;

    [GeneratedRegex("<([a-z]+)")]
    private static partial Regex Tags();

    [Fact]
    public void A_line_limit_cuts_folded_steps_to_their_last_lines_and_leaves_open_steps_whole()
    {
        var text = new System.Text.StringBuilder();
        for (var i = 1; i <= 1000; i++)
        {
            text.Append("[x86_64] [cp311-cp311 wheel] compiling ").Append(i).Append('\n');
        }

        for (var i = 1; i <= 300; i++)
        {
            text.Append("[x86_64] [cp312-cp312 wheel] error ").Append(i).Append('\n');
        }

        var build = NewBuild(BuildState.Failed);
        build.Parts.Add(Part(5, "x86_64", BuildState.Failed));
        build.Targets.AddRange([Target("cp311-manylinux_x86_64", true, 10), Target("cp312-manylinux_x86_64", false, 2)]);
        var view = BuildLogView.Create(Chunks((1, text.ToString())), build);

        var whole = Render(view, null);
        var cut = Render(view, 50);

        Assert.Contains("id=\"L1\"", whole, StringComparison.Ordinal);
        // The succeeded step keeps its last 50 lines (951-1000) after a line saying what is left out and linking to it.
        Assert.DoesNotContain("id=\"L950\"", cut, StringComparison.Ordinal);
        Assert.Contains("id=\"L951\"", cut, StringComparison.Ordinal);
        Assert.Contains("id=\"L1000\"", cut, StringComparison.Ordinal);
        Assert.Contains("950 earlier lines of this step are not shown: <a href=\"?full=1#L951\">", cut, StringComparison.Ordinal);
        // The failed step is open and whole.
        Assert.Contains("id=\"L1001\"", cut, StringComparison.Ordinal);
        Assert.Contains("id=\"L1300\"", cut, StringComparison.Ordinal);
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(cut, "log-omitted"));
        Assert.Equal(50 + 300, System.Text.RegularExpressions.Regex.Count(cut, "<li id=\"L"));
    }

    private static string Render(BuildLogView view, int? limit)
    {
        using var writer = new StringWriter();
        view.WriteHtml(writer, limit);
        return writer.ToString();
    }
}
