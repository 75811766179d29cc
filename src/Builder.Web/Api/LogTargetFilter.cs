using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Builder.Core.Configuration;
using Builder.Web.Ui;

namespace Builder.Web.Api;

/// <summary>
/// Selects one target's lines of a build log (<c>?target=</c>). Every container line carries its architecture, then its
/// step: <c>[x86_64] [cp311-cp311 wheel] ...</c>, so a target is matched on those prefixes, never on the text after them.
/// The same mapping tells the build page which target a step of the log belongs to (<see cref="RoleOf"/>).
/// </summary>
internal sealed partial class LogTargetFilter
{
    // "x86_64" for an architecture; null for sdist, which is the step of whichever architecture built it.
    private readonly string? _architecture;

    // "[x86_64] ", what the architecture's lines start with.
    private readonly string? _linePrefix;

    // "cp311-cp311" or "cp311-cp311 test" (a step is this, or this and " " and more: "cp313-cp313" is no step of
    // "cp313-cp313t wheel"), "sdist", or null.
    private readonly string? _step;

    // A wheel target (not its test): its interpreter's other steps (before-build, repair) are part of it, its test step
    // is not (that is a target of its own).
    private readonly bool _wheel;

    private LogTargetFilter(string? architecture, string? step, bool wheel)
    {
        _architecture = architecture;
        _linePrefix = architecture is null ? null : $"[{architecture}] ";
        _step = step;
        _wheel = wheel;
    }

    public static readonly string Usage =
        $"'target' is an architecture ({string.Join(", ", BuildOptions.KnownArchitectures)}), a target name of the build "
        + "(a wheel identifier such as cp311-manylinux_x86_64, the same with ' test', or sdist)";

    // The driver's step names (build-images/driver/builder_driver.py): "{interpreter} wheel" builds a wheel (its
    // before-build and repair steps are "{interpreter} before-build" and "{interpreter} repair"); the tester's is
    // "{interpreter} test".
    private const string WheelStep = " wheel";
    private const string TestStep = " test";

    /// <summary>
    /// <c>x86_64</c>: every line of that architecture; <c>cp311-manylinux_x86_64</c> (cibuildwheel's identifier; also
    /// musllinux, and <c>cp313t</c> for free-threaded): the lines of that interpreter's steps on that architecture
    /// (before-build, wheel, repair, test); <c>cp311-manylinux_x86_64 test</c>: its test step only; <c>sdist</c>: the
    /// sdist step's lines, whichever architecture built it. These are the target names of <c>GET /api/builds/{id}</c>.
    /// </summary>
    public static bool TryParse(string? target, [NotNullWhen(true)] out LogTargetFilter? filter)
    {
        filter = null;
        if (string.IsNullOrEmpty(target))
        {
            return false;
        }

        if (target == "sdist")
        {
            filter = new LogTargetFilter(architecture: null, step: "sdist", wheel: false);
            return true;
        }

        if (BuildOptions.KnownArchitectures.Contains(target, StringComparer.Ordinal))
        {
            filter = new LogTargetFilter(target, step: null, wheel: false);
            return true;
        }

        var identifier = Identifier().Match(target);
        var architecture = identifier.Groups["arch"].Value;
        if (!identifier.Success || !BuildOptions.KnownArchitectures.Contains(architecture, StringComparer.Ordinal))
        {
            return false;
        }

        // cp311 → the interpreter directory's tag cp311-cp311; cp313t → cp313-cp313t (manylinux's /opt/python names).
        var version = identifier.Groups["version"].Value;
        var abi = "cp" + version + identifier.Groups["threading"].Value;
        var test = identifier.Groups["test"].Success;
        filter = new LogTargetFilter(architecture, $"cp{version}-{abi}{(test ? TestStep : string.Empty)}", wheel: !test);
        return true;
    }

    /// <summary>The line is one of the target's (a container line whose architecture and step are the target's).</summary>
    public bool Matches(string line)
    {
        int stepStart;
        if (_linePrefix is not null)
        {
            if (!line.StartsWith(_linePrefix, StringComparison.Ordinal))
            {
                return false;
            }

            stepStart = _linePrefix.Length;
        }
        else
        {
            // Any "[arch] " first: container lines always carry one; "[builder] ..." lines have no step after it.
            var space = line.IndexOf("] ", StringComparison.Ordinal);
            if (!line.StartsWith('[') || space < 0)
            {
                return false;
            }

            stepStart = space + 2;
        }

        if (_step is null)
        {
            return true;
        }

        var rest = line.AsSpan(stepStart);
        return rest.Length > _step.Length + 1 && rest[0] == '[' && StartsStep(rest[1..], _step);
    }

    /// <summary>
    /// How the step <paramref name="step"/> of the container log of <paramref name="architecture"/> (the line prefix
    /// <c>[x86_64] [cp311-cp311 wheel]</c>: <c>x86_64</c>, <c>cp311-cp311 wheel</c>) belongs to the target:
    /// <see cref="LogStepRole.Own"/> for the step that is the target (a wheel target's wheel step, a test target's test
    /// step, the sdist step), <see cref="LogStepRole.Part"/> for the other steps of a wheel's build (before-build,
    /// repair; every step, for an architecture), <see cref="LogStepRole.None"/> otherwise, the interpreter's test step
    /// included (<see cref="Matches"/> keeps its lines, but it is a target of its own).
    /// </summary>
    public LogStepRole RoleOf(string architecture, string step)
    {
        if (_architecture is not null && architecture != _architecture)
        {
            return LogStepRole.None;
        }

        if (_step is null)
        {
            return LogStepRole.Part;
        }

        if (!StartsStep(step, _step))
        {
            return LogStepRole.None;
        }

        if (!_wheel)
        {
            return LogStepRole.Own;
        }

        var rest = step.AsSpan(_step.Length);
        return rest.SequenceEqual(WheelStep) ? LogStepRole.Own
            : StartsStep(rest, TestStep) ? LogStepRole.None
            : LogStepRole.Part;
    }

    /// <summary>
    /// The build page's log section of the target's own step on <paramref name="architecture"/> (the one that built
    /// it): <c>x86_64 cp311-cp311 wheel</c>, <c>x86_64 cp311-cp311 test</c>, <c>x86_64 sdist</c>; null for an architecture filter.
    /// </summary>
    public string? SectionKey(string architecture) =>
        _step is null ? null : $"{_architecture ?? architecture} {_step}{(_wheel ? WheelStep : string.Empty)}";

    /// <summary>
    /// The build page's anchor of the log section where <paramref name="target"/> (a target name: identifier or
    /// <c>sdist</c>) was built on <paramref name="architecture"/>: <c>s-x86_64-cp311-cp311-wheel</c> (LogLinePrefix rule
    /// 6); null when either is unknown or the target is an architecture (no one section).
    /// </summary>
    public static string? SectionAnchor(string? target, string? architecture) =>
        architecture is not null && TryParse(target, out var filter) && filter.SectionKey(architecture) is { } key ? LogLinePrefix.Slug(key) : null;

    // "cp311-cp311 wheel] ..." and "cp311-cp311 wheel" start a step of "cp311-cp311"; "cp313-cp313t wheel" starts none of
    // "cp313-cp313".
    private static bool StartsStep(ReadOnlySpan<char> text, string step) =>
        text.StartsWith(step, StringComparison.Ordinal) && (text.Length == step.Length || text[step.Length] is ' ' or ']');

    [GeneratedRegex("^cp(?<version>[0-9]+)(?<threading>t?)-(?:manylinux|musllinux)_(?<arch>[a-z0-9_]+)(?<test> test)?$")]
    private static partial Regex Identifier();
}

/// <summary>How a step of a build log belongs to a target (<see cref="LogTargetFilter.RoleOf"/>).</summary>
internal enum LogStepRole
{
    /// <summary>Not the target's.</summary>
    None,

    /// <summary>A step of the target's build besides its own: a wheel's before-build or repair step.</summary>
    Part,

    /// <summary>The target's own step: its wheel, test or sdist step.</summary>
    Own,
}
