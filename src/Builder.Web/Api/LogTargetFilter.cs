using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Builder.Core.Configuration;

namespace Builder.Web.Api;

/// <summary>
/// Selects one target's lines of a build log (<c>?target=</c>). Every container line carries its architecture, then its
/// step: <c>[x86_64] [cp311-cp311 wheel] ...</c>, so a target is matched on those prefixes, never on the text after them.
/// </summary>
internal sealed partial class LogTargetFilter
{
    // "[x86_64] " for an architecture; null for sdist, which is the step of whichever architecture built it.
    private readonly string? _architecture;

    // "[cp311-cp311" or "[cp311-cp311 test" (followed by " " or "]", so "[cp313-cp313" does not match
    // "[cp313-cp313t wheel]"), "[sdist", or null.
    private readonly string? _step;

    private LogTargetFilter(string? architecture, string? step)
    {
        _architecture = architecture;
        _step = step;
    }

    public static readonly string Usage =
        $"'target' is an architecture ({string.Join(", ", BuildOptions.KnownArchitectures)}), a target name of the build "
        + "(a wheel identifier such as cp311-manylinux_x86_64, the same with ' test', or sdist)";

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
            filter = new LogTargetFilter(architecture: null, step: "[sdist");
            return true;
        }

        if (BuildOptions.KnownArchitectures.Contains(target, StringComparer.Ordinal))
        {
            filter = new LogTargetFilter($"[{target}] ", step: null);
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
        filter = new LogTargetFilter($"[{architecture}] ", $"[cp{version}-{abi}{identifier.Groups["test"].Value}");
        return true;
    }

    public bool Matches(string line)
    {
        int stepStart;
        if (_architecture is not null)
        {
            if (!line.StartsWith(_architecture, StringComparison.Ordinal))
            {
                return false;
            }

            stepStart = _architecture.Length;
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
        return rest.StartsWith(_step, StringComparison.Ordinal) && rest.Length > _step.Length && rest[_step.Length] is ' ' or ']';
    }

    [GeneratedRegex("^cp(?<version>[0-9]+)(?<threading>t?)-(?:manylinux|musllinux)_(?<arch>[a-z0-9_]+)(?<test> test)?$")]
    private static partial Regex Identifier();
}
