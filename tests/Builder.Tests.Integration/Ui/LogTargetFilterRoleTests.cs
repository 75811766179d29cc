using Builder.Web.Api;

namespace Builder.Tests.Integration.Ui;

/// <summary>Which target a step of the log belongs to: the <c>?target=</c> mapping, from a step's side.</summary>
public sealed class LogTargetFilterRoleTests
{
    [Theory]
    [InlineData("cp311-manylinux_x86_64", "x86_64", "cp311-cp311 wheel", "Own")]
    [InlineData("cp311-manylinux_x86_64", "x86_64", "cp311-cp311 before-build", "Part")]
    [InlineData("cp311-manylinux_x86_64", "x86_64", "cp311-cp311 repair", "Part")]
    [InlineData("cp311-manylinux_x86_64", "x86_64", "cp311-cp311 test", "None")] // a target of its own
    [InlineData("cp311-manylinux_x86_64", "aarch64", "cp311-cp311 wheel", "None")]
    [InlineData("cp311-manylinux_x86_64", "x86_64", "cp312-cp312 wheel", "None")]
    [InlineData("cp311-manylinux_x86_64", "x86_64", "setup", "None")]
    [InlineData("cp311-musllinux_x86_64", "x86_64", "cp311-cp311 wheel", "Own")]
    [InlineData("cp311-manylinux_x86_64 test", "x86_64", "cp311-cp311 test", "Own")]
    [InlineData("cp311-manylinux_x86_64 test", "x86_64", "cp311-cp311 wheel", "None")]
    [InlineData("cp313-manylinux_x86_64", "x86_64", "cp313-cp313t wheel", "None")]
    [InlineData("cp313t-manylinux_x86_64", "x86_64", "cp313-cp313t wheel", "Own")]
    [InlineData("cp313t-manylinux_x86_64", "x86_64", "cp313-cp313 wheel", "None")]
    [InlineData("sdist", "x86_64", "sdist", "Own")]
    [InlineData("sdist", "aarch64", "sdist", "Own")]
    [InlineData("sdist", "x86_64", "sdist-extra", "None")]
    [InlineData("x86_64", "x86_64", "setup", "Part")]
    [InlineData("x86_64", "aarch64", "setup", "None")]
    public void A_step_is_a_targets_own_part_of_its_build_or_not_its(string target, string architecture, string step, string role)
    {
        Assert.True(LogTargetFilter.TryParse(target, out var filter));
        Assert.Equal(Enum.Parse<LogStepRole>(role), filter.RoleOf(architecture, step));
    }

    [Theory]
    [InlineData("cp311-manylinux_x86_64", "[x86_64] [cp311-cp311 wheel] x", true)]
    [InlineData("cp311-manylinux_x86_64", "[x86_64] [cp311-cp311 test] x", true)] // ?target= keeps an interpreter's test lines
    [InlineData("cp311-manylinux_x86_64", "[x86_64] [cp311-cp311] x", true)]
    [InlineData("cp311-manylinux_x86_64", "[x86_64] [cp311-cp311", false)]
    [InlineData("cp311-manylinux_x86_64", "[x86_64] [cp311-cp311t wheel] x", false)]
    [InlineData("cp311-manylinux_x86_64", "[x86_64]  [cp311-cp311 wheel] x", false)]
    [InlineData("cp311-manylinux_x86_64 test", "[x86_64] [cp311-cp311 test] x", true)]
    [InlineData("cp311-manylinux_x86_64 test", "[x86_64] [cp311-cp311 wheel] x", false)]
    [InlineData("sdist", "[aarch64] [sdist] x", true)]
    [InlineData("sdist", "[builder] sdist", false)]
    [InlineData("x86_64", "[x86_64] anything", true)]
    [InlineData("x86_64", "[x86_64 part 5] started", false)]
    public void Lines_are_matched_on_their_prefixes(string target, string line, bool matches)
    {
        Assert.True(LogTargetFilter.TryParse(target, out var filter));
        Assert.Equal(matches, filter.Matches(line));
    }
}
