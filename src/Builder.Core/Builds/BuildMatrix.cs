using System.Text.RegularExpressions;
using Builder.Core.Configuration;

namespace Builder.Core.Builds;

/// <summary>The cibuildwheel identifiers (<c>cp311-manylinux_x86_64</c>) to build in one architecture's container.</summary>
public sealed record ArchitecturePlan(string Architecture, IReadOnlyList<string> Identifiers);

/// <summary>
/// What one release builds: the server's defaults narrowed or widened by the project's <c>[tool.cibuildwheel]</c>.
/// <see cref="Honored"/> and <see cref="Ignored"/> are log lines telling the project's owner what took effect.
/// </summary>
public sealed record BuildPlan(
    string Origin,
    bool Sdist,
    IReadOnlyList<ArchitecturePlan> Architectures,
    ProjectBuildSettings Project,
    IReadOnlyList<string> Honored,
    IReadOnlyList<string> Ignored);

/// <summary>Computes the <see cref="BuildPlan"/> of a release; pure (no I/O), so every rule is unit-tested.</summary>
public static partial class BuildMatrix
{
    // The options cibuildwheel documents (https://cibuildwheel.pypa.io/en/stable/options/) that Builder does not
    // apply, with the reason the log shows. Anything else unknown is "not a cibuildwheel option".
    private static readonly Dictionary<string, string> Unsupported = new(StringComparer.Ordinal)
    {
        ["repair-wheel-command"] = "not supported, Builder runs auditwheel repair itself",
        ["before-all"] = "not supported, build containers start from the image as is",
        ["before-test"] = "not supported",
        ["test-extras"] = "not supported",
        ["test-groups"] = "not supported",
        ["test-sources"] = "not supported",
        ["environment-pass"] = "not supported, build containers see none of the server's environment",
        ["container-engine"] = "not supported, Builder starts containers through the Docker API",
        ["build-frontend"] = "not supported, Builder calls the PEP 517 hooks itself",
        ["config-settings"] = "not supported, no PEP 517 config settings are passed",
        ["dependency-versions"] = "not supported, build requirements come from the image's pip configuration",
        ["build-verbosity"] = "not supported, the build log always has the full output",
        ["overrides"] = "not supported, per-identifier overrides are not applied",
        ["enable"] = "not supported, Builder builds CPython only",
        ["free-threaded-support"] = "not supported, free-threaded CPython is not built",
        ["manylinux-x86_64-image"] = "not supported, the server's Builder:Build:Images choose the image",
        ["manylinux-aarch64-image"] = "not supported, the server's Builder:Build:Images choose the image",
        ["manylinux-i686-image"] = "not supported, the server's Builder:Build:Images choose the image",
        ["manylinux-ppc64le-image"] = "not supported, the server's Builder:Build:Images choose the image",
        ["manylinux-s390x-image"] = "not supported, the server's Builder:Build:Images choose the image",
        ["manylinux-armv7l-image"] = "not supported, the server's Builder:Build:Images choose the image",
        ["manylinux-riscv64-image"] = "not supported, the server's Builder:Build:Images choose the image",
        ["manylinux-pypy_x86_64-image"] = "not supported, Builder builds CPython only",
        ["manylinux-pypy_aarch64-image"] = "not supported, Builder builds CPython only",
        ["manylinux-pypy_i686-image"] = "not supported, Builder builds CPython only",
        ["musllinux-x86_64-image"] = "not supported, Builder builds manylinux wheels only",
        ["musllinux-aarch64-image"] = "not supported, Builder builds manylinux wheels only",
        ["musllinux-i686-image"] = "not supported, Builder builds manylinux wheels only",
        ["musllinux-ppc64le-image"] = "not supported, Builder builds manylinux wheels only",
        ["musllinux-s390x-image"] = "not supported, Builder builds manylinux wheels only",
        ["musllinux-armv7l-image"] = "not supported, Builder builds manylinux wheels only",
        ["musllinux-riscv64-image"] = "not supported, Builder builds manylinux wheels only",
        ["xbuild-tools"] = "not supported, Builder builds Linux wheels only",
        ["pyodide-version"] = "not supported, Builder builds Linux wheels only",
    };

    // cibuildwheel's Linux architectures (cibuildwheel.architecture.Architecture); only those with an image build here.
    private static readonly HashSet<string> CibuildwheelLinuxArchs = new(StringComparer.Ordinal)
    {
        "x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l", "riscv64",
    };

    /// <summary>
    /// An architecture's identifiers in up to <paramref name="partsPerArchitecture"/> parts of about equal size (each a
    /// job and a container of its own); the first part of the release builds the sdist. Each part records the image it
    /// builds in, chosen here from the planner's <paramref name="images"/>: a part run again or taken over by another
    /// worker builds in the same image, whatever that worker's own settings say.
    /// </summary>
    public static List<BuildPart> Parts(long buildId, BuildPlan plan, int partsPerArchitecture, IReadOnlyDictionary<string, string> images)
    {
        var parts = new List<BuildPart>();
        foreach (var (arch, identifiers) in plan.Architectures)
        {
            var count = Math.Clamp(partsPerArchitecture, 1, Math.Max(1, identifiers.Count));
            for (var i = 0; i < count; i++)
            {
                parts.Add(new BuildPart
                {
                    BuildId = buildId,
                    Architecture = arch,
                    Identifiers = string.Join(' ', identifiers.Where((_, index) => index % count == i)),
                    IncludeSdist = parts.Count == 0 && plan.Sdist,
                    Image = images.GetValueOrDefault(arch),
                });
            }
        }

        return parts;
    }

    public static BuildPlan Plan(string? pyprojectToml, BuildOptions server)
    {
        var table = pyprojectToml is null ? null : CibuildwheelTable.Read(pyprojectToml);
        var honored = new List<string>();
        var ignored = new List<string>(table?.Ignored ?? []);

        // cibuildwheel: build defaults to "*", skip and test-skip to "" (options.py, Options.globals).
        var build = Honor(table, "build", " ", honored) ?? "*";
        var skip = Honor(table, "skip", " ", honored) ?? "";
        var testSkip = Honor(table, "test-skip", " ", honored) ?? "";
        var architectures = Architectures(table, server, honored, ignored);
        var project = new ProjectBuildSettings(
            BeforeBuild: Honor(table, "before-build", " && ", honored),
            Environment: HonorEnvironment(table, honored),
            TestCommand: Honor(table, "test-command", " && ", honored),
            TestRequires: Honor(table, "test-requires", " ", honored)?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) ?? []);

        foreach (var key in table?.Keys ?? [])
        {
            if (!Handled.Contains(key))
            {
                ignored.Add($"{table!.Source(key)}: {(Unsupported.TryGetValue(key, out var why) ? why : "not a cibuildwheel option")}");
            }
        }

        var plans = new List<ArchitecturePlan>();
        var candidates = new List<string>();
        foreach (var arch in architectures)
        {
            var all = server.EffectivePythons.Select(p => $"{p}-manylinux_{arch}").ToList();
            candidates.AddRange(all);
            var selected = all.Where(id => CibuildwheelPattern.Matches(build, id) && !CibuildwheelPattern.Matches(skip, id)).ToList();
            if (selected.Count > 0)
            {
                plans.Add(new ArchitecturePlan(arch, selected));
            }
        }

        if (plans.Count == 0)
        {
            throw new BuildStepException(
                $"the [tool.cibuildwheel] build/skip/archs settings select nothing (build = \"{build}\", skip = \"{skip}\"; "
                + $"this server builds {(candidates.Count > 0 ? string.Join(", ", candidates) : "no architecture for these archs")})");
        }

        var built = plans.SelectMany(p => p.Identifiers);
        project = project with { TestSkip = [.. built.Where(id => CibuildwheelPattern.Matches(testSkip, id))] };
        var origin = pyprojectToml is null
            ? "no pyproject.toml: no [tool.cibuildwheel] table, server defaults"
            : table is null ? "no [tool.cibuildwheel] table in pyproject.toml: server defaults" : "pyproject.toml [tool.cibuildwheel]";
        return new BuildPlan(origin, server.Sdist, plans, project, honored, ignored);
    }

    private static readonly HashSet<string> Handled = new(StringComparer.Ordinal)
    {
        "build", "skip", "test-skip", "archs", "before-build", "environment", "test-command", "test-requires",
    };

    private static string? Honor(CibuildwheelTable? table, string key, string separator, List<string> honored)
    {
        var value = table?.Text(key, separator);
        if (value is not null)
        {
            honored.Add($"{table!.Source(key)} = \"{value}\"");
        }

        return value;
    }

    private static string? HonorEnvironment(CibuildwheelTable? table, List<string> honored)
    {
        var value = table?.Environment();
        if (value is not null)
        {
            honored.Add($"{table!.Source("environment")} = {value}");
        }

        return value;
    }

    /// <summary>
    /// cibuildwheel's <c>archs</c> (<c>Architecture.parse_config</c>): names separated by spaces or commas;
    /// <c>auto</c>, <c>native</c> and <c>auto64</c> mean what the machine builds natively, here the server's
    /// <c>Builder:Build:Architectures</c>; <c>all</c> every architecture that has an image; <c>auto32</c> is i686, for
    /// which no image exists. An explicit list replaces the server's default, so it can widen it.
    /// </summary>
    private static List<string> Architectures(CibuildwheelTable? table, BuildOptions server, List<string> honored, List<string> ignored)
    {
        var config = table?.Text("archs", " ");
        if (config is null)
        {
            return [.. server.EffectiveArchitectures];
        }

        var result = new List<string>();
        var skipped = new List<string>();
        foreach (var token in ArchSeparator().Split(config).Where(t => t.Length > 0))
        {
            switch (token)
            {
                case "auto" or "native" or "auto64":
                    result.AddRange(server.EffectiveArchitectures);
                    break;
                case "all":
                    result.AddRange(BuildOptions.KnownArchitectures.Where(a => HasImage(server, a)));
                    break;
                case "auto32":
                    skipped.Add("auto32 (i686): no build image");
                    break;
                default:
                    if (HasImage(server, token) && BuildOptions.KnownArchitectures.Contains(token))
                    {
                        result.Add(token);
                    }
                    else
                    {
                        skipped.Add(CibuildwheelLinuxArchs.Contains(token)
                            ? $"{token}: no build image (Builder:Build:Images:{token})"
                            : $"{token}: not a Linux architecture cibuildwheel knows");
                    }

                    break;
            }
        }

        var distinct = result.Distinct(StringComparer.Ordinal).ToList();
        honored.Add($"{table!.Source("archs")} = \"{config}\" → {(distinct.Count > 0 ? string.Join(", ", distinct) : "none")}");
        ignored.AddRange(skipped.Select(s => $"{table.Source("archs")}: {s}"));
        return distinct;
    }

    private static bool HasImage(BuildOptions server, string arch) =>
        server.Images.TryGetValue(arch, out var image) && !string.IsNullOrWhiteSpace(image);

    [GeneratedRegex(@"[\s,]+", RegexOptions.CultureInvariant)]
    private static partial Regex ArchSeparator();
}
