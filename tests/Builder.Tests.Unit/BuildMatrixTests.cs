using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Index;

namespace Builder.Tests.Unit;

public sealed class BuildMatrixTests
{
    private static readonly BuildOptions Server = new();

    private static BuildPlan Plan(string toml, BuildOptions? server = null) => BuildMatrix.Plan(toml, server ?? Server);

    private static string Cibw(string body) => $"""
        [build-system]
        requires = ["setuptools"]

        [tool.cibuildwheel]
        {body}
        """;

    private static IReadOnlyList<string> X86(BuildPlan plan) => Assert.Single(plan.Architectures, a => a.Architecture == "x86_64").Identifiers;

    // cibuildwheel's own selector tests (unit_test/build_selector_test.py) use the same fnmatch + bracex rules.
    [Theory]
    [InlineData("*", "cp311-manylinux_x86_64", true)]
    [InlineData("cp3?-*", "cp39-manylinux_x86_64", true)]
    [InlineData("cp3?-*", "cp310-manylinux_x86_64", false)]
    [InlineData("cp31[01]-*", "cp310-manylinux_x86_64", true)]
    [InlineData("cp31[!01]-*", "cp310-manylinux_x86_64", false)]
    [InlineData("cp31[!01]-*", "cp312-manylinux_x86_64", true)]
    [InlineData("cp{38,311}-*", "cp311-manylinux_x86_64", true)]
    [InlineData("cp{38,311}-*", "cp310-manylinux_x86_64", false)]
    [InlineData("cp3{8..10}-*", "cp39-manylinux_x86_64", true)]
    [InlineData("cp3{8..10}-*", "cp311-manylinux_x86_64", false)]
    [InlineData("cp3{1{0,1},9}-*", "cp311-manylinux_x86_64", true)]
    [InlineData("cp3{1{0,1},9}-*", "cp312-manylinux_x86_64", false)]
    [InlineData("*-manylinux_aarch64", "cp311-manylinux_x86_64", false)]
    [InlineData("*-musllinux*", "cp311-manylinux_x86_64", false)]
    [InlineData("CP311-*", "cp311-manylinux_x86_64", false)]
    [InlineData("cp311", "cp311-manylinux_x86_64", false)]
    [InlineData("cp31[1-*", "cp31[1-manylinux_x86_64", true)]
    [InlineData("pp* cp311-*", "cp311-manylinux_x86_64", true)]
    [InlineData("", "cp311-manylinux_x86_64", false)]
    public void Selectors_follow_fnmatch_with_brace_expansion(string patterns, string identifier, bool matches)
    {
        Assert.Equal(matches, CibuildwheelPattern.Matches(patterns, identifier));
    }

    [Fact]
    public void A_brace_group_without_a_comma_stays_literal()
    {
        Assert.Equal(["a{b}c"], CibuildwheelPattern.Expand("a{b}c"));
        Assert.Equal(["x1", "x2", "y1", "y2"], CibuildwheelPattern.Expand("{x,y}{1,2}"));
    }

    [Fact]
    public void Without_pyproject_the_server_defaults_are_the_plan()
    {
        var plan = BuildMatrix.Plan(null, Server);

        Assert.True(plan.Sdist);
        Assert.Equal(["cp38", "cp39", "cp310", "cp311", "cp312", "cp313"], X86(plan).Select(i => i.Split('-')[0]));
        Assert.Equal("cp311-manylinux_x86_64", X86(plan)[3]);
        Assert.Empty(plan.Honored);
        Assert.Empty(plan.Ignored);
        Assert.Empty(plan.Project.TestSkip);
        Assert.Null(plan.Project.BeforeBuild);
        Assert.Contains("no [tool.cibuildwheel] table", plan.Origin, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pyproject_without_the_table_uses_the_server_defaults_and_says_so()
    {
        var plan = Plan("[build-system]\nrequires = [\"setuptools\"]\n[tool.black]\nline-length = 100\n",
            new BuildOptions { Pythons = ["cp311", "cp312"], Sdist = false });

        Assert.False(plan.Sdist);
        Assert.Equal(["cp311-manylinux_x86_64", "cp312-manylinux_x86_64"], X86(plan));
        Assert.Contains("no [tool.cibuildwheel] table", plan.Origin, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_and_skip_narrow_the_server_pythons()
    {
        var plan = Plan(Cibw("""
            build = "cp39-* cp310-* cp311-*"
            skip = "cp39-*"
            """));

        Assert.Equal(["cp310-manylinux_x86_64", "cp311-manylinux_x86_64"], X86(plan));
        Assert.Contains("build = \"cp39-* cp310-* cp311-*\"", plan.Honored);
        Assert.Contains("skip = \"cp39-*\"", plan.Honored);
        Assert.Equal("pyproject.toml [tool.cibuildwheel]", plan.Origin);
    }

    [Fact]
    public void Selectors_may_be_arrays()
    {
        var plan = Plan(Cibw("""
            build = ["cp{38,39}-*", "cp313-*"]
            skip = ["cp38-*"]
            """));

        Assert.Equal(["cp39-manylinux_x86_64", "cp313-manylinux_x86_64"], X86(plan));
    }

    [Fact]
    public void Test_skip_resolves_to_built_identifiers()
    {
        var plan = Plan(Cibw("""
            build = "cp31*"
            test-skip = "cp312-* cp39-*"
            """));

        Assert.Equal(["cp312-manylinux_x86_64"], plan.Project.TestSkip);
        Assert.Contains("test-skip = \"cp312-* cp39-*\"", plan.Honored);
    }

    [Fact]
    public void The_project_settings_a_build_records_are_read_back_as_planned()
    {
        var plan = Plan(Cibw("""
            build = "cp31*"
            before-build = "pip install cython"
            environment = { ACME_FAST = "1" }
            test-command = "pytest {project}/tests"
            test-requires = ["pytest", "hypothesis"]
            test-skip = "cp312-*"
            """));

        var recorded = plan.Project.ToJson();
        var read = ProjectBuildSettings.FromJson(recorded);

        Assert.Equal("pip install cython", read.BeforeBuild);
        Assert.Equal(plan.Project.Environment, read.Environment);
        Assert.NotNull(read.Environment);
        Assert.Equal("pytest {project}/tests", read.TestCommand);
        Assert.Equal(["pytest", "hypothesis"], read.TestRequires);
        Assert.Equal(["cp312-manylinux_x86_64"], read.TestSkip);
        Assert.Equal(recorded, read.ToJson());
        Assert.Equal(ProjectBuildSettings.None.ToJson(), ProjectBuildSettings.FromJson(ProjectBuildSettings.None.ToJson()).ToJson());
    }

    [Fact]
    public void A_selection_that_leaves_nothing_fails_naming_the_settings()
    {
        var ex = Assert.Throws<BuildStepException>(() => Plan(Cibw("""
            build = "cp311-*"
            skip = "*-manylinux_x86_64"
            """)));

        Assert.Contains("select nothing", ex.Message, StringComparison.Ordinal);
        Assert.Contains("skip = \"*-manylinux_x86_64\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_linux_table_overrides_key_by_key()
    {
        var plan = Plan(Cibw("""
            build = "cp38-*"
            skip = "cp312-*"
            test-command = "pytest"

            [tool.cibuildwheel.linux]
            build = "cp31*"
            test-requires = ["pytest", "numpy"]

            [tool.cibuildwheel.macos]
            archs = ["arm64"]
            """));

        Assert.Equal(["cp310-manylinux_x86_64", "cp311-manylinux_x86_64", "cp313-manylinux_x86_64"], X86(plan));
        Assert.Contains("linux.build = \"cp31*\"", plan.Honored);
        Assert.Equal("pytest", plan.Project.TestCommand);
        Assert.Equal(["pytest", "numpy"], plan.Project.TestRequires);
        Assert.Contains(plan.Ignored, l => l.StartsWith("[tool.cibuildwheel.macos]", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("auto", "x86_64")]
    [InlineData("native", "x86_64")]
    [InlineData("auto64", "x86_64")]
    [InlineData("all", "x86_64 aarch64")]
    [InlineData("aarch64", "aarch64")]
    [InlineData("x86_64, aarch64", "x86_64 aarch64")]
    [InlineData("x86_64 auto", "x86_64")]
    public void Archs_choose_among_the_architectures_with_an_image(string archs, string expected)
    {
        var plan = Plan(Cibw($"archs = \"{archs}\""));

        Assert.Equal(expected.Split(' '), plan.Architectures.Select(a => a.Architecture));
        Assert.All(plan.Architectures, a => Assert.EndsWith($"-manylinux_{a.Architecture}", a.Identifiers[0], StringComparison.Ordinal));
    }

    [Fact]
    public void Auto_means_the_server_architectures()
    {
        var server = new BuildOptions { Architectures = ["x86_64", "aarch64"] };

        var plan = Plan(Cibw("archs = [\"auto\"]"), server);

        Assert.Equal(["x86_64", "aarch64"], plan.Architectures.Select(a => a.Architecture));
    }

    [Fact]
    public void Aarch64_with_the_default_pythons_plans_every_identifier_and_the_image_keeps_what_it_has()
    {
        // The local aarch64 image has only cp311: the driver turns the other identifiers into "not in this image" skips.
        var server = new BuildOptions { Architectures = ["x86_64", "aarch64"] };

        var plan = BuildMatrix.Plan(null, server);

        var aarch64 = Assert.Single(plan.Architectures, a => a.Architecture == "aarch64").Identifiers;
        Assert.Equal(BuildOptions.DefaultPythons.Select(p => $"{p}-manylinux_aarch64"), aarch64);
        Assert.Contains("cp311-manylinux_aarch64", aarch64);
    }

    [Fact]
    public void Archs_without_an_image_or_unknown_are_listed_as_ignored()
    {
        var server = new BuildOptions { Images = new() { ["x86_64"] = "img:1" } };

        var plan = Plan(Cibw("archs = [\"x86_64\", \"aarch64\", \"i686\", \"sparc\", \"auto32\"]"), server);

        Assert.Equal(["x86_64"], plan.Architectures.Select(a => a.Architecture));
        Assert.Contains("archs: aarch64: no build image (Builder:Build:Images:aarch64)", plan.Ignored);
        Assert.Contains("archs: i686: no build image (Builder:Build:Images:i686)", plan.Ignored);
        Assert.Contains("archs: sparc: not a Linux architecture cibuildwheel knows", plan.Ignored);
        Assert.Contains(plan.Ignored, l => l.StartsWith("archs: auto32", StringComparison.Ordinal));
    }

    [Fact]
    public void Archs_that_leave_no_architecture_select_nothing()
    {
        var ex = Assert.Throws<BuildStepException>(() => Plan(Cibw("archs = \"ppc64le\"")));

        Assert.Contains("select nothing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Commands_join_arrays_with_and()
    {
        var plan = Plan(Cibw("""
            before-build = ["rm -rf build", "echo hi"]
            test-command = ["pytest {project}/tests", "python -c 'import x'"]
            test-requires = "pytest  hypothesis"
            """));

        Assert.Equal("rm -rf build && echo hi", plan.Project.BeforeBuild);
        Assert.Equal("pytest {project}/tests && python -c 'import x'", plan.Project.TestCommand);
        Assert.Equal(["pytest", "hypothesis"], plan.Project.TestRequires);
    }

    [Fact]
    public void An_environment_string_is_kept_as_is()
    {
        var plan = Plan(Cibw("environment = 'CFLAGS=\"-O2 -g\" PATH=$PATH:/opt/bin'"));

        Assert.Equal("CFLAGS=\"-O2 -g\" PATH=$PATH:/opt/bin", plan.Project.Environment);
    }

    [Fact]
    public void An_environment_table_is_rendered_in_order_with_escaping()
    {
        var plan = Plan(Cibw("""
            environment = { ZED = "last-but-first", PATH = "$PATH:/opt/bin", CFLAGS = '-DNAME="x" -DP=a\b', N = 3, FLAG = true, MULTI = ["a", "b"] }
            """));

        Assert.Equal(
            """ZED="last-but-first" PATH="$PATH:/opt/bin" CFLAGS="-DNAME=\"x\" -DP=a\\b" N="3" FLAG="True" MULTI="a" MULTI="b" """.TrimEnd(),
            plan.Project.Environment);
        Assert.Contains(plan.Honored, l => l.StartsWith("environment = ZED=", StringComparison.Ordinal));
    }

    [Fact]
    public void An_environment_table_with_a_bad_name_fails()
    {
        var ex = Assert.Throws<BuildStepException>(() => Plan(Cibw("environment = { \"A B\" = \"1\" }")));

        Assert.Contains("'A B'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_keys_are_listed_as_ignored_with_a_reason()
    {
        var plan = Plan(Cibw("""
            repair-wheel-command = "auditwheel repair -w {dest_dir} {wheel}"
            before-all = "yum install -y libffi-devel"
            manylinux-x86_64-image = "manylinux2014"
            frobnicate = 1
            """));

        Assert.Contains("repair-wheel-command: not supported, Builder runs auditwheel repair itself", plan.Ignored);
        Assert.Contains(plan.Ignored, l => l.StartsWith("before-all: not supported", StringComparison.Ordinal));
        Assert.Contains(plan.Ignored, l => l.StartsWith("manylinux-x86_64-image: not supported", StringComparison.Ordinal));
        Assert.Contains("frobnicate: not a cibuildwheel option", plan.Ignored);
        Assert.Empty(plan.Honored);
    }

    [Fact]
    public void Invalid_toml_names_the_file_line_and_column()
    {
        var ex = Assert.Throws<BuildStepException>(() => Plan("[build-system]\nrequires = [\"setuptools\"\n\n[tool.cibuildwheel]\n"));

        Assert.Equal("pyproject.toml is not valid TOML at line 4, column 1: Expected `,` or `]` while parsing array but was `[`.", ex.Message);
    }

    [Fact]
    public void A_wrongly_typed_setting_is_named()
    {
        var ex = Assert.Throws<BuildStepException>(() => Plan(Cibw("skip = 3")));

        Assert.Equal("pyproject.toml: tool.cibuildwheel.skip must be a string or an array of strings", ex.Message);
    }

    [Fact]
    public void Sdist_follows_the_server_setting()
    {
        Assert.False(Plan(Cibw("build = \"*\""), new BuildOptions { Sdist = false }).Sdist);
    }
}

public sealed class BuildPartsTests
{
    private static BuildPlan TwoArchitectures(bool sdist = true) => new(
        "server defaults",
        sdist,
        [
            new ArchitecturePlan("x86_64", ["cp310-manylinux_x86_64", "cp311-manylinux_x86_64", "cp312-manylinux_x86_64"]),
            new ArchitecturePlan("aarch64", ["cp311-manylinux_aarch64"]),
        ],
        ProjectBuildSettings.None,
        [],
        []);

    private static readonly Dictionary<string, string> Images = new()
    {
        ["x86_64"] = "registry.example/manylinux_2_28_x86_64:2026.11",
        ["aarch64"] = "registry.example/manylinux_2_28_aarch64:2026.11",
    };

    [Fact]
    public void One_part_per_architecture_by_default_and_the_first_builds_the_sdist()
    {
        var parts = BuildMatrix.Parts(7, TwoArchitectures(), partsPerArchitecture: 1, Images);

        Assert.Equal(["x86_64", "aarch64"], parts.Select(p => p.Architecture));
        Assert.Equal("cp310-manylinux_x86_64 cp311-manylinux_x86_64 cp312-manylinux_x86_64", parts[0].Identifiers);
        Assert.Equal([true, false], parts.Select(p => p.IncludeSdist));
        Assert.All(parts, p => Assert.Equal((7L, BuildState.Queued), (p.BuildId, p.State)));
    }

    [Fact]
    public void Parallel_targets_split_an_architecture_round_robin_but_never_into_empty_parts()
    {
        var parts = BuildMatrix.Parts(7, TwoArchitectures(), partsPerArchitecture: 2, Images);

        Assert.Equal(
            ["x86_64:cp310-manylinux_x86_64 cp312-manylinux_x86_64", "x86_64:cp311-manylinux_x86_64", "aarch64:cp311-manylinux_aarch64"],
            parts.Select(p => $"{p.Architecture}:{p.Identifiers}"));
        Assert.Single(parts, p => p.IncludeSdist);
    }

    [Fact]
    public void Every_part_records_the_image_the_plan_chose_for_its_architecture()
    {
        var parts = BuildMatrix.Parts(7, TwoArchitectures(), partsPerArchitecture: 2, Images);

        Assert.Equal(
            ["x86_64:registry.example/manylinux_2_28_x86_64:2026.11", "x86_64:registry.example/manylinux_2_28_x86_64:2026.11", "aarch64:registry.example/manylinux_2_28_aarch64:2026.11"],
            parts.Select(p => $"{p.Architecture}:{p.Image}"));
    }

    [Fact]
    public void Without_an_sdist_no_part_builds_one()
    {
        Assert.DoesNotContain(BuildMatrix.Parts(7, TwoArchitectures(sdist: false), 4, Images), p => p.IncludeSdist);
    }

    [Fact]
    public void Staging_keys_are_two_segment_keys_no_project_can_own()
    {
        var part = new BuildPart { Id = 12, BuildId = 7, Architecture = "x86_64", Identifiers = "" };

        Assert.Equal("_staging-7/ab12-acme-1.0.tar.gz", PackageArtifacts.DescribeStaged(part, "acme-1.0.tar.gz", "ab12"));
        Assert.Equal("arch-aarch64", BuildQueues.ForArchitecture("aarch64"));
    }
}
