using System.Globalization;
using System.Text;
using Builder.Core.Builds;
using Builder.Core.Configuration;

namespace Builder.Docker;

/// <summary>
/// Turns how a build or test container ended into the architecture's result, with failure messages a project's owner
/// can act on: which architecture, which target and step, why (timeout, out of memory, the step's error), and the
/// last lines the failing step printed.
/// </summary>
internal static class BuildOutcome
{
    public static WheelBuildResult Build(WheelBuildRequest request, BuildOptions settings, ContainerOutcome run)
    {
        var arch = request.Architecture;
        if (run.TimedOut || run.OutOfMemory)
        {
            return Aborted(request, settings, run, "build");
        }

        var result = run.Result;
        if (result is null)
        {
            return new WheelBuildResult(false,
                WithTail($"{arch}: the build container exited with code {run.ExitCode} without a result line", run), [], run.Files);
        }

        // Without IncludeSdist the driver may still build an sdist, for its metadata only: that is no target of this part.
        var targets = Targets(result, arch).Where(t => request.IncludeSdist || t.Name != "sdist" || !t.Succeeded).ToList();
        var ok = result.Ok && run.ExitCode == 0;
        var error = ok ? null : WithTail($"{arch}: {result.Error ?? $"the build container exited with code {run.ExitCode}"}", run);
        return new WheelBuildResult(ok, error, targets, run.Files);
    }

    /// <summary>A failing test fails the architecture: no file is returned as succeeded.</summary>
    public static WheelBuildResult Test(WheelBuildRequest request, BuildOptions settings, WheelBuildResult built, ContainerOutcome run)
    {
        var arch = request.Architecture;
        if (run.TimedOut || run.OutOfMemory)
        {
            var aborted = Aborted(request, settings, run, "test");
            return new WheelBuildResult(false, aborted.Error, [.. built.Targets, .. aborted.Targets], []);
        }

        var result = run.Result;
        if (result is null)
        {
            return new WheelBuildResult(false,
                WithTail($"{arch}: the test container exited with code {run.ExitCode} without a result line", run), built.Targets, []);
        }

        var targets = built.Targets.Concat(Targets(result, arch)).ToList();
        if (result.Ok && run.ExitCode == 0)
        {
            return built with { Targets = targets };
        }

        var failed = result.Steps?.LastOrDefault(s => !s.Ok && s.Skipped is null);
        var reason = StripStep(result.Error, failed is null ? null : failed.Name + " test");
        var message = failed is null
            ? $"{arch}: test stage failed: {reason ?? $"exit code {run.ExitCode}"}"
            : $"{arch}: test of {Identifier(failed.Name, arch)} failed: {reason}";
        return new WheelBuildResult(false, WithTail(message, run), targets, []);
    }

    /// <summary>"cp311-manylinux_x86_64" → "cp311-cp311"; null for anything that is not a CPython identifier.</summary>
    public static string? InterpreterOf(string identifier)
    {
        var python = identifier.Split('-')[0];
        return python.StartsWith("cp3", StringComparison.Ordinal) && python.Length > 3 && python[2..].All(char.IsAsciiDigit)
            ? $"{python}-{python}"
            : null;
    }

    /// <summary>cibuildwheel's identifier of an interpreter tag on an architecture: "cp311-cp311" on x86_64 → "cp311-manylinux_x86_64".</summary>
    public static string Identifier(string interpreterTag, string architecture) => $"{interpreterTag.Split('-')[0]}-manylinux_{architecture}";

    /// <summary>"sdist"; a wheel target by its identifier; a test target as "cp311-manylinux_x86_64 test".</summary>
    public static string TargetName(DriverStep step, string architecture) => step.Kind switch
    {
        "sdist" => "sdist",
        "test" => Identifier(step.Name, architecture) + " test",
        _ => Identifier(step.Name, architecture),
    };

    /// <summary>A script's step prefix in target terms: "cp311-cp311 wheel" → "cp311-manylinux_x86_64 wheel"; "sdist" stays.</summary>
    public static string StepLabel(string step, string architecture)
    {
        var parts = step.Split(' ', 2);
        return parts.Length == 2 && parts[0].StartsWith("cp3", StringComparison.Ordinal) && parts[0].Contains('-', StringComparison.Ordinal)
            ? $"{Identifier(parts[0], architecture)} {parts[1]}"
            : step;
    }

    private static List<TargetResult> Targets(DriverResult result, string arch) =>
        (result.Steps ?? [])
            .Where(s => s.Skipped is null)
            .Select(s => new TargetResult(TargetName(s, arch), s.Ok, TimeSpan.FromSeconds(s.Seconds), s.Files ?? [], s.Ok ? null : result.Error))
            .ToList();

    /// <summary>The container was killed (wall clock) or lost a process to the OOM killer: the step it was in failed.</summary>
    private static WheelBuildResult Aborted(WheelBuildRequest request, BuildOptions settings, ContainerOutcome run, string role)
    {
        var arch = request.Architecture;
        var why = run.TimedOut
            ? string.Create(CultureInfo.InvariantCulture, $"timed out after {settings.TimeoutSeconds} s")
            : $"out of memory ({BuildOptions.FormatMemory(settings.MemoryMiB)})";
        var step = run.LastStep is null ? role : StepLabel(run.LastStep, arch);
        var message = $"{arch} {step}: {why}";
        var targets = new List<TargetResult>();
        if (run.LastStep is { } last && TargetOf(last, arch) is { } target)
        {
            targets.Add(new TargetResult(target, false, run.Elapsed, [], message));
        }

        return new WheelBuildResult(false, WithTail(message, run), targets, []);
    }

    /// <summary>The target a step prefix belongs to: "cp311-cp311 wheel" → "cp311-manylinux_x86_64"; "sdist" → "sdist"; "setup" → none.</summary>
    private static string? TargetOf(string step, string arch)
    {
        var parts = step.Split(' ', 2);
        return parts switch
        {
            ["sdist"] => "sdist",
            [var tag, "wheel"] when tag.StartsWith("cp3", StringComparison.Ordinal) => Identifier(tag, arch),
            [var tag, "test"] when tag.StartsWith("cp3", StringComparison.Ordinal) => Identifier(tag, arch) + " test",
            _ => null,
        };
    }

    private static string? StripStep(string? error, string? step) =>
        error is not null && step is not null && error.StartsWith(step + ": ", StringComparison.Ordinal) ? error[(step.Length + 2)..] : error;

    private static string WithTail(string message, ContainerOutcome run)
    {
        if (run.Tail.Count == 0)
        {
            return message;
        }

        var text = new StringBuilder(message).Append("\nlast output:");
        foreach (var line in run.Tail)
        {
            text.Append("\n  ").Append(line);
        }

        return text.ToString();
    }
}
