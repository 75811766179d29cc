using Builder.Core.Access;

namespace Builder.Tests.Unit;

public sealed class ProjectGlobsTests
{
    private static ProjectGlobs Parse(params string[] globs)
    {
        Assert.True(ProjectGlobs.TryParse(globs, out var parsed, out var error), error);
        Assert.Null(error);
        return parsed;
    }

    [Theory]
    // Literal names: exactly that project.
    [InlineData("acme-app", "acme-app", true)]
    [InlineData("acme-app", "acme-app2", false)]
    [InlineData("acme-app", "acme", false)]
    // A prefix.
    [InlineData("acme-*", "acme-app", true)]
    [InlineData("acme-*", "acme-", true)]
    [InlineData("acme-*", "acme", false)]
    [InlineData("acme-*", "other-acme-app", false)]
    // '?' is one character, '*' any run (also none), anywhere.
    [InlineData("pkg-00?", "pkg-001", true)]
    [InlineData("pkg-00?", "pkg-00", false)]
    [InlineData("pkg-00?", "pkg-0010", false)]
    [InlineData("*-sdk", "acme-sdk", true)]
    [InlineData("*-sdk", "acme-sdk-extra", false)]
    [InlineData("a*b*c", "abc", true)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("a*b*c", "aXbXcXbXc", true)]
    [InlineData("*a*", "banana", true)]
    [InlineData("*z*", "banana", false)]
    [InlineData("?", "a", true)]
    [InlineData("?", "ab", false)]
    [InlineData("**", "anything", true)]
    [InlineData("acme-*-core", "acme-billing-core", true)]
    [InlineData("acme-*-core", "acme-core", false)]
    public void A_glob_matches_normalized_names(string glob, string project, bool expected) =>
        Assert.Equal(expected, Parse(glob).Matches(project));

    [Fact]
    public void Wildcards_do_not_backtrack_into_wrong_answers_on_repetitive_names()
    {
        var name = new string('a', 5000);
        Assert.False(Parse("*a*a*a*a*a*b").Matches(name));
        Assert.True(Parse("*a*a*a*a*a*a").Matches(name));
        Assert.True(Parse("a*a?a").Matches("aaaa"));
        Assert.False(Parse("a*a?a").Matches("aaa" + "b"));
    }

    [Theory]
    [InlineData("Acme_*", "acme-*")]
    [InlineData("ACME.App", "acme-app")]
    [InlineData("acme__-..app", "acme-app")]
    [InlineData("  acme-*  ", "acme-*")]
    public void Globs_are_normalized_like_project_names(string glob, string normalized)
    {
        var parsed = Parse(glob);

        Assert.Equal([normalized], parsed.Patterns);
        Assert.True(parsed.Matches(normalized.Replace("*", "x", StringComparison.Ordinal)));
    }

    [Fact]
    public void No_globs_and_a_lone_star_mean_every_project()
    {
        Assert.True(ProjectGlobs.TryParse(null, out var none, out _));
        Assert.True(ProjectGlobs.TryParse([], out var empty, out _));
        var star = Parse("acme-*", "*", "other");

        foreach (var all in new[] { none, empty, star })
        {
            Assert.True(all.IsAll);
            Assert.Same(ProjectGlobs.All, all);
            Assert.Empty(all.Patterns);
            Assert.True(all.Matches("anything-at-all"));
            Assert.Equal("*", all.ToString());
            Assert.Null(all.ToStored());
        }
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("acme/app")]
    [InlineData("acme app")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("acme%2fapp")]
    [InlineData("acme\\app")]
    [InlineData("acme\napp")]
    [InlineData("ácme")]
    [InlineData("[a-z]*")]
    public void Anything_but_a_name_with_wildcards_is_refused_with_a_reason(string glob)
    {
        Assert.False(ProjectGlobs.TryParse(["acme-*", glob], out var parsed, out var error));

        Assert.Contains("is not a project glob", error, StringComparison.Ordinal);
        Assert.Same(ProjectGlobs.All, parsed);
    }

    [Fact]
    public void A_glob_longer_than_200_characters_is_refused()
    {
        Assert.True(ProjectGlobs.TryParse([new string('a', 200)], out _, out _));
        Assert.False(ProjectGlobs.TryParse([new string('a', 201)], out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void Globs_are_sorted_without_duplicates_and_round_trip_through_storage()
    {
        var parsed = Parse("zeta-*", "Acme_*", "acme-*", "beta");

        Assert.Equal(["acme-*", "beta", "zeta-*"], parsed.Patterns);
        Assert.Equal("acme-* beta zeta-*", parsed.ToStored());
        Assert.Equal("acme-* beta zeta-*", parsed.ToString());
        var stored = ProjectGlobs.FromStored(parsed.ToStored());
        Assert.Equal(parsed, stored);
        Assert.Equal(parsed.GetHashCode(), stored.GetHashCode());
        Assert.NotEqual(parsed, Parse("acme-*"));
        Assert.Same(ProjectGlobs.All, ProjectGlobs.FromStored(null));
        Assert.Same(ProjectGlobs.All, ProjectGlobs.FromStored("  "));
        Assert.Throws<FormatException>(() => ProjectGlobs.FromStored("acme/app"));
    }

    [Fact]
    public void Any_of_several_globs_matches()
    {
        var parsed = Parse("acme-*", "tools", "pkg-00?");
        string[] names = ["acme-app", "tools", "pkg-007", "tools-extra", "pkg-0070", "other"];

        Assert.Equal([true, true, true, false, false, false], names.Select(parsed.Matches));
    }
}
