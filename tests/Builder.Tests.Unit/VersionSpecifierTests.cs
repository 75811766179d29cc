using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

// Cases come from the PEP 440 text (packaging.python.org "Version specifiers") and from pypa/packaging 26.3,
// tests/test_specifiers.py (test_specifiers, test_specifiers_prereleases, test_specifiers_invalid,
// test_specifiers_normalized, test_arbitrary_equality*, test_contains_*), whose semantics VersionSpecifier follows
// with pre-releases allowed (contains(version, prereleases=True)).
public sealed class VersionSpecifierTests
{
    private static VersionSpecifier Parse(string text)
    {
        Assert.True(VersionSpecifier.TryParse(text, out var specifier, out var error), error);
        Assert.Null(error);
        return specifier!;
    }

    // test_specifiers.py TestSpecifier.test_specifiers: (version, specifier, expected), prereleases=True.
    [Theory]
    // Equality, zero padding and local labels.
    [InlineData("2.0", "==2", true)]
    [InlineData("2.0", "==2.0", true)]
    [InlineData("2.0", "==2.0.0", true)]
    [InlineData("2.0+deadbeef", "==2", true)]
    [InlineData("2.0+deadbeef", "==2.0", true)]
    [InlineData("2.0+deadbeef", "==2.0.0", true)]
    [InlineData("2.0+deadbeef", "==2+deadbeef", true)]
    [InlineData("2.0+deadbeef", "==2.0+deadbeef", true)]
    [InlineData("2.0+deadbeef", "==2.0.0+deadbeef", true)]
    [InlineData("2.0+deadbeef.0", "==2.0.0+deadbeef.00", true)]
    [InlineData("2.1", "==2", false)]
    [InlineData("2.1", "==2.0", false)]
    [InlineData("2.1", "==2.0.0", false)]
    [InlineData("2.0", "==2.0+deadbeef", false)]
    // Equality with a prefix.
    [InlineData("2.dev1", "==2.*", true)]
    [InlineData("2a1", "==2.*", true)]
    [InlineData("2a1.post1", "==2.*", true)]
    [InlineData("2b1", "==2.*", true)]
    [InlineData("2b1.dev1", "==2.*", true)]
    [InlineData("2c1", "==2.*", true)]
    [InlineData("2c1.post1.dev1", "==2.*", true)]
    [InlineData("2c1.post1.dev1", "==2.0.*", true)]
    [InlineData("2rc1", "==2.*", true)]
    [InlineData("2rc1", "==2.0.*", true)]
    [InlineData("2", "==2.*", true)]
    [InlineData("2", "==2.0.*", true)]
    [InlineData("2", "==2.0.0.*", true)]
    [InlineData("2", "==0!2.*", true)]
    [InlineData("0!2", "==2.*", true)]
    [InlineData("2.0", "==2.*", true)]
    [InlineData("2.0.0", "==2.*", true)]
    [InlineData("2.0.0.0", "==2.0.*", true)]
    [InlineData("2.1+local.version", "==2.1.*", true)]
    [InlineData("2.0", "==3.*", false)]
    [InlineData("2.1", "==2.0.*", false)]
    [InlineData("3", "==2.0.0.*", false)]
    [InlineData("2.1.0.0", "==2.0.*", false)]
    // Exclusion.
    [InlineData("2.1", "!=2", true)]
    [InlineData("2.1", "!=2.0", true)]
    [InlineData("2.0.1", "!=2", true)]
    [InlineData("2.0.1", "!=2.0", true)]
    [InlineData("2.0.1", "!=2.0.0", true)]
    [InlineData("2.0", "!=2.0+deadbeef", true)]
    [InlineData("2.0", "!=2", false)]
    [InlineData("2.0", "!=2.0", false)]
    [InlineData("2.0", "!=2.0.0", false)]
    [InlineData("2.0+deadbeef", "!=2", false)]
    [InlineData("2.0+deadbeef", "!=2.0", false)]
    [InlineData("2.0+deadbeef", "!=2.0.0", false)]
    [InlineData("2.0+deadbeef", "!=2+deadbeef", false)]
    [InlineData("2.0+deadbeef", "!=2.0+deadbeef", false)]
    [InlineData("2.0+deadbeef", "!=2.0.0+deadbeef", false)]
    [InlineData("2.0+deadbeef.0", "!=2.0.0+deadbeef.00", false)]
    // Exclusion with a prefix.
    [InlineData("2.0", "!=3.*", true)]
    [InlineData("2.1", "!=2.0.*", true)]
    [InlineData("3", "!=2.0.0.*", true)]
    [InlineData("2.1.0.0", "!=2.0.*", true)]
    [InlineData("2.dev1", "!=2.*", false)]
    [InlineData("2a1", "!=2.*", false)]
    [InlineData("2a1.post1", "!=2.*", false)]
    [InlineData("2b1", "!=2.*", false)]
    [InlineData("2b1.dev1", "!=2.*", false)]
    [InlineData("2c1", "!=2.*", false)]
    [InlineData("2c1.post1.dev1", "!=2.*", false)]
    [InlineData("2c1.post1.dev1", "!=2.0.*", false)]
    [InlineData("2rc1", "!=2.*", false)]
    [InlineData("2rc1", "!=2.0.*", false)]
    [InlineData("2", "!=2.*", false)]
    [InlineData("2", "!=2.0.*", false)]
    [InlineData("2", "!=2.0.0.*", false)]
    [InlineData("2.0", "!=2.*", false)]
    [InlineData("2.0.0", "!=2.*", false)]
    [InlineData("2.0.0.0", "!=2.0.*", false)]
    // Greater than or equal.
    [InlineData("2.0", ">=2", true)]
    [InlineData("2.0", ">=2.0", true)]
    [InlineData("2.0", ">=2.0.0", true)]
    [InlineData("2.0.post1", ">=2", true)]
    [InlineData("2.0.post1.dev1", ">=2", true)]
    [InlineData("3", ">=2", true)]
    [InlineData("3.0.0a8", ">=3.0.0a7", true)]
    [InlineData("2.0.dev1", ">=2", false)]
    [InlineData("2.0a1", ">=2", false)]
    [InlineData("2.0a1.dev1", ">=2", false)]
    [InlineData("2.0b1", ">=2", false)]
    [InlineData("2.0b1.post1", ">=2", false)]
    [InlineData("2.0c1", ">=2", false)]
    [InlineData("2.0c1.post1.dev1", ">=2", false)]
    [InlineData("2.0rc1", ">=2", false)]
    [InlineData("1", ">=2", false)]
    // Less than or equal.
    [InlineData("2.0", "<=2", true)]
    [InlineData("2.0", "<=2.0", true)]
    [InlineData("2.0", "<=2.0.0", true)]
    [InlineData("2.0.dev1", "<=2", true)]
    [InlineData("2.0a1", "<=2", true)]
    [InlineData("2.0a1.dev1", "<=2", true)]
    [InlineData("2.0b1", "<=2", true)]
    [InlineData("2.0b1.post1", "<=2", true)]
    [InlineData("2.0c1", "<=2", true)]
    [InlineData("2.0c1.post1.dev1", "<=2", true)]
    [InlineData("2.0rc1", "<=2", true)]
    [InlineData("1", "<=2", true)]
    [InlineData("3.0.0a7", "<=3.0.0a8", true)]
    [InlineData("2.0.post1", "<=2", false)]
    [InlineData("2.0.post1.dev1", "<=2", false)]
    [InlineData("3", "<=2", false)]
    // Greater than.
    [InlineData("3", ">2", true)]
    [InlineData("2.1", ">2.0", true)]
    [InlineData("2.0.1", ">2", true)]
    [InlineData("2.1.post1", ">2", true)]
    [InlineData("2.1+local.version", ">2", true)]
    [InlineData("3.0.0a8", ">3.0.0a7", true)]
    [InlineData("2.0.5", ">2.0dev", true)]
    [InlineData("1.0+local", ">1.0.dev1", true)]
    [InlineData("4.1.0a2.dev1235+local", ">4.1.0a2.dev1234", true)]
    [InlineData("1.0a2+local", ">1.0a1", true)]
    [InlineData("1.0b2+local", ">1.0b1", true)]
    [InlineData("1.0rc2+local", ">1.0rc1", true)]
    [InlineData("1.0.post2+local", ">1.0.post1", true)]
    [InlineData("1.0.dev2+local", ">1.0.dev1", true)]
    [InlineData("1.0a1.dev2+local", ">1.0a1.dev1", true)]
    [InlineData("1.0.post1.dev2+local", ">1.0.post1.dev1", true)]
    [InlineData("1", ">2", false)]
    [InlineData("2.0.dev1", ">2", false)]
    [InlineData("2.0a1", ">2", false)]
    [InlineData("2.0a1.post1", ">2", false)]
    [InlineData("2.0b1", ">2", false)]
    [InlineData("2.0b1.dev1", ">2", false)]
    [InlineData("2.0c1", ">2", false)]
    [InlineData("2.0c1.post1.dev1", ">2", false)]
    [InlineData("2.0rc1", ">2", false)]
    [InlineData("2.0", ">2", false)]
    [InlineData("2.0.post1", ">2", false)]
    [InlineData("2.0.post1.dev1", ">2", false)]
    [InlineData("2.0+local.version", ">2", false)]
    [InlineData("4.1.0a2.dev1234+local", ">4.1.0a2.dev1234", false)]
    [InlineData("1.0a1+local", ">1.0a1", false)]
    [InlineData("1.0b1+local", ">1.0b1", false)]
    [InlineData("1.0rc1+local", ">1.0rc1", false)]
    [InlineData("1.0.post1+local", ">1.0.post1", false)]
    [InlineData("1.0.dev1+local", ">1.0.dev1", false)]
    [InlineData("1.0a1.dev1+local", ">1.0a1.dev1", false)]
    [InlineData("1.0.post1.dev1+local", ">1.0.post1.dev1", false)]
    // Less than.
    [InlineData("1", "<2", true)]
    [InlineData("2.0", "<2.1", true)]
    [InlineData("2.0.dev0", "<2.1", true)]
    [InlineData("3.0.0a7", "<3.0.0a8", true)]
    [InlineData("2.0.dev1", "<2", false)]
    [InlineData("2.0a1", "<2", false)]
    [InlineData("2.0a1.post1", "<2", false)]
    [InlineData("2.0b1", "<2", false)]
    [InlineData("2.0b2.dev1", "<2", false)]
    [InlineData("2.0c1", "<2", false)]
    [InlineData("2.0c1.post1.dev1", "<2", false)]
    [InlineData("2.0rc1", "<2", false)]
    [InlineData("2.0", "<2", false)]
    [InlineData("2.post1", "<2", false)]
    [InlineData("2.post1.dev1", "<2", false)]
    [InlineData("3", "<2", false)]
    // Compatible release.
    [InlineData("1", "~=1.0", true)]
    [InlineData("1.0.1", "~=1.0", true)]
    [InlineData("1.1", "~=1.0", true)]
    [InlineData("1.9999999", "~=1.0", true)]
    [InlineData("1.1", "~=1.0a1", true)]
    [InlineData("2022.01.01", "~=2022.01.01", true)]
    [InlineData("2.0", "~=1.0", false)]
    [InlineData("1.1.0", "~=1.0.0", false)]
    [InlineData("1.1.post1", "~=1.0.0", false)]
    // Epochs.
    [InlineData("2!1.0", "~=2!1.0", true)]
    [InlineData("2!1.0", "==2!1.*", true)]
    [InlineData("2!1.0", "==2!1.0", true)]
    [InlineData("2!1.0", "!=1.0", true)]
    [InlineData("2!1.0.0", "==2!1.0.0.0.*", true)]
    [InlineData("2!1.0.0", "==2!1.0.*", true)]
    [InlineData("2!1.0.0", "==2!1.*", true)]
    [InlineData("1.0", "!=2!1.0", true)]
    [InlineData("1.0", "<=2!0.1", true)]
    [InlineData("2!1.0", ">=2.0", true)]
    [InlineData("1.0", "<2!0.1", true)]
    [InlineData("2!1.0", ">2.0", true)]
    [InlineData("1.0", "~=2!1.0", false)]
    [InlineData("2!1.0", "~=1.0", false)]
    [InlineData("2!1.0", "==1.0", false)]
    [InlineData("1.0", "==2!1.0", false)]
    [InlineData("2!1.0", "==1.0.0.*", false)]
    [InlineData("1.0", "==2!1.0.0.*", false)]
    [InlineData("2!1.0", "==1.*", false)]
    [InlineData("1.0", "==2!1.*", false)]
    [InlineData("2!1.0", "!=2!1.0", false)]
    public void Matches_like_packaging(string version, string specifier, bool expected)
    {
        Assert.Equal(expected, Parse(specifier).Contains(version));
    }

    // test_specifiers.py TestSpecifier.test_specifiers_prereleases (rows without a pre-release override) and
    // TestSpecifierSet.test_comparison_ignores_local: packaging 26 narrowed "<V" and ">V" to V's own
    // pre-/post-releases (pypa/packaging#1140, #1141).
    [Theory]
    [InlineData(">=1.0", "2.0.dev1", true)]
    [InlineData(">=2.0.dev1", "2.0a1", true)]
    [InlineData("==2.0.*", "2.0a1.dev1", true)]
    [InlineData("<=2.0", "1.0.dev1", true)]
    [InlineData("<=2.0.dev1", "1.0a1", true)]
    [InlineData("<2.0", "2.0a1", false)]
    [InlineData("<2.0a2", "2.0a1", true)]
    [InlineData(">1.0.dev1", "1.0.dev0", false)]
    [InlineData(">1.0.dev1", "1.0.dev2", true)]
    [InlineData(">1.0.dev1", "1.0.post0", true)]
    [InlineData(">1.0.dev1", "1.0.post1", true)]
    [InlineData(">1.0.dev0", "1.0.post0", true)]
    [InlineData(">1.0a1", "1.0.post0", true)]
    [InlineData(">1.0b1", "1.0.post0", true)]
    [InlineData(">1.0rc1", "1.0.post0", true)]
    [InlineData(">1.0a1", "1.0a1.post0", false)]
    [InlineData(">1.0b2", "1.0b2.post0", false)]
    [InlineData(">1.0rc1", "1.0rc1.post0", false)]
    [InlineData(">1.0a1", "1.0a2.post0", true)]
    [InlineData(">1.0b1", "1.0b2.post0", true)]
    [InlineData(">1.0.dev1", "1.0", true)]
    [InlineData(">1.0.dev1", "1.0a1", true)]
    [InlineData(">1.0.dev1", "1.1", true)]
    [InlineData(">1.0", "1.0.post0", false)]
    [InlineData(">1.0", "1.0.post1", false)]
    [InlineData(">1.0", "2.0.post0", true)]
    [InlineData(">1.0", "0.9.post0", false)]
    [InlineData(">1.0.dev1", "1.1.post0", true)]
    [InlineData(">1.0.dev1", "0.9.post0", false)]
    [InlineData("<1.0.post1", "1.0.post1.dev0", false)]
    [InlineData("<1.0.post0", "1.0.post0.dev0", false)]
    [InlineData("<1.0.post1", "1.0.dev0", true)]
    [InlineData("<1.0.post1", "1.0a1", true)]
    [InlineData("<1.0.post1", "1.0rc1", true)]
    [InlineData("<1.0.post0", "1.0.dev0", true)]
    [InlineData("<1.0.post0", "1.0a1", true)]
    [InlineData("<1.0.post0", "1.0b1", true)]
    [InlineData("<1.0.post0", "1.0rc2", true)]
    [InlineData("<1.0.post1", "1.0.post0.dev0", true)]
    [InlineData("<1.0.post2", "1.0.post1.dev0", true)]
    [InlineData("<1.0.post1", "1.0", true)]
    [InlineData("<1.0.post1", "1.0.post0", true)]
    [InlineData("<1.0.post1", "0.9", true)]
    [InlineData("<1.0.post0", "1.0", true)]
    [InlineData("<1.0.post10", "1.0.dev0", true)]
    [InlineData("<1.0.post10", "1.0.post9.dev0", true)]
    [InlineData("<1.0.post10", "1.0.post9", true)]
    [InlineData("<1.0.post1", "1.0+local", true)]
    [InlineData("<1.0.post1", "1.0.post0+local", true)]
    [InlineData("<1.0.post1", "0.9.dev0", true)]
    [InlineData("==1.0.0", "1.0.0+local", true)]
    [InlineData("!=1.0.0", "1.0.0+local", false)]
    [InlineData("<=1.0.0", "1.0.0+local", true)]
    [InlineData(">=1.0.0", "1.0.0+local", true)]
    [InlineData("<1.0.0", "1.0.0+local", false)]
    [InlineData(">1.0.0", "1.0.0+local", false)]
    public void Applies_the_exclusive_comparison_rules_like_packaging(string specifier, string version, bool expected)
    {
        Assert.Equal(expected, Parse(specifier).Contains(version));
    }

    // PEP 440 §Version matching, §Version exclusion and §Exclusive ordered comparison: the examples in the text.
    [Theory]
    [InlineData("== 1.1", "1.1.post1", false)]
    [InlineData("== 1.1.post1", "1.1.post1", true)]
    [InlineData("== 1.1.*", "1.1.post1", true)]
    [InlineData("== 1.1", "1.1a1", false)]
    [InlineData("== 1.1a1", "1.1a1", true)]
    [InlineData("== 1.1.*", "1.1a1", true)] // "if pre-releases are requested": here they always are
    [InlineData("== 1.1", "1.1", true)]
    [InlineData("== 1.1.0", "1.1", true)]
    [InlineData("== 1.1.dev1", "1.1", false)]
    [InlineData("== 1.1a1", "1.1", false)]
    [InlineData("== 1.1.post1", "1.1", false)]
    [InlineData("== 1.1.*", "1.1", true)]
    [InlineData("!= 1.1", "1.1.post1", true)]
    [InlineData("!= 1.1.post1", "1.1.post1", false)]
    [InlineData("!= 1.1.*", "1.1.post1", false)]
    [InlineData(">1.7", "1.7.1", true)]
    [InlineData(">1.7", "1.7.0.post1", false)]
    [InlineData(">1.7.post2", "1.7.1", true)]
    [InlineData(">1.7.post2", "1.7.0.post3", true)]
    [InlineData(">1.7.post2", "1.7.0", false)]
    [InlineData("===1.0", "1.0+downstream1", false)]
    [InlineData("===foobar", "foobar", true)]
    // §Examples.
    [InlineData("~=3.1", "3.1", true)]
    [InlineData("~=3.1", "3.9.7", true)]
    [InlineData("~=3.1", "3.0", false)]
    [InlineData("~=3.1", "4.0", false)]
    [InlineData("~=3.1.2", "3.1.2", true)]
    [InlineData("~=3.1.2", "3.1.9", true)]
    [InlineData("~=3.1.2", "3.2.0", false)]
    [InlineData("~=3.1a1", "3.1a1", true)]
    [InlineData("~=3.1a1", "3.5", true)]
    [InlineData("~=3.1a1", "3.0", false)]
    [InlineData("~=3.1a1", "4.0", false)]
    [InlineData("== 3.1", "3.1.0", true)]
    [InlineData("== 3.1", "3.1.1", false)]
    [InlineData("== 3.1", "3.1.post1", false)]
    [InlineData("== 3.1", "3.1.dev1", false)]
    [InlineData("== 3.1.*", "3.1.7", true)]
    [InlineData("== 3.1.*", "3.2", false)]
    [InlineData("~=3.1.0, != 3.1.3", "3.1.2", true)]
    [InlineData("~=3.1.0, != 3.1.3", "3.1.3", false)]
    [InlineData("~=3.1.0, != 3.1.3", "3.2.0", false)]
    public void Matches_the_pep_440_examples(string specifier, string version, bool expected)
    {
        Assert.Equal(expected, Parse(specifier).Contains(version));
    }

    // PEP 440 §Compatible release: each ~= clause is equivalent to the >=,== pair given in the text.
    [Theory]
    [InlineData("~= 2.2", ">= 2.2, == 2.*")]
    [InlineData("~= 1.4.5", ">= 1.4.5, == 1.4.*")]
    [InlineData("~= 2.2.post3", ">= 2.2.post3, == 2.*")]
    [InlineData("~= 1.4.5a4", ">= 1.4.5a4, == 1.4.*")]
    [InlineData("~= 2.2.0", ">= 2.2.0, == 2.2.*")]
    [InlineData("~= 1.4.5.0", ">= 1.4.5.0, == 1.4.5.*")]
    public void Compatible_release_equals_its_pep_440_expansion(string compatible, string expansion)
    {
        string[] versions =
        [
            "1.4", "1.4.4", "1.4.5a3", "1.4.5a4", "1.4.5", "1.4.5.0", "1.4.5.1", "1.4.5.post1", "1.4.6", "1.5.dev0",
            "1.5", "2.0", "2.1.9", "2.2.dev0", "2.2rc1", "2.2", "2.2.post2", "2.2.post3", "2.2.post4", "2.2.0.1",
            "2.2.1", "2.3", "2.9.9", "3.0.dev0", "3.0",
        ];
        var left = Parse(compatible);
        var right = Parse(expansion);
        Assert.All(versions, v => Assert.Equal(right.Contains(v), left.Contains(v)));
        // The equivalence is not vacuous: both accept some and refuse some of the versions.
        Assert.Contains(versions, left.Contains);
        Assert.Contains(versions, v => !left.Contains(v));
    }

    // The access-control choice: a principal allowed "2.x" sees its pre-releases too (packaging with
    // prereleases=True), while "<3" still keeps 3.0's own pre-releases out (PEP 440 §Exclusive ordered comparison).
    [Theory]
    [InlineData(">=2,<3", "2.1rc1", true)]
    [InlineData(">=2,<3", "2.1.dev1", true)]
    [InlineData(">=2,<3", "2.5a1.post1.dev3", true)]
    [InlineData(">=2,<3", "3.0rc1", false)]
    [InlineData(">=2,<3", "3.0.dev1", false)]
    [InlineData(">=2,<3", "3.0a1", false)]
    [InlineData(">=2,<3", "3.0.0b2", false)]
    [InlineData(">=2,<3", "2.0rc1", false)] // below 2 in PEP 440 order
    // PEP 440: "<V.rc1 or similar" admits pre-releases earlier than that pre-release; a .devN counts as one.
    [InlineData("<2.0rc1", "2.0b1", true)]
    [InlineData("<2.0rc1", "2.0rc1.dev1", true)]
    [InlineData("<2.0rc1", "2.0rc1", false)]
    [InlineData("<2.0.dev5", "2.0.dev1", true)]
    [InlineData("<2.0.dev5", "2.0.dev5", false)]
    [InlineData("==2.*", "2.1rc1", true)]
    [InlineData("==2.*", "2.0.dev1", true)]
    [InlineData("~=2.1", "2.2b1", true)]
    [InlineData("~=2.1", "3.0rc1", false)]
    [InlineData(">1.7", "1.7.post1", false)]
    [InlineData(">1.7", "1.7+local", false)]
    [InlineData(">1.7", "1.8a1", true)]
    [InlineData("!=2.0", "2.0.dev1", true)]
    [InlineData(">=1.0", "1.0.0.dev1", false)]
    [InlineData("<=1.0", "1.0.0.dev1", true)]
    [InlineData("<1.0", "0.9.0.dev1", true)]
    public void Allows_pre_releases_subject_to_the_operator_rules(string specifier, string version, bool expected)
    {
        Assert.Equal(expected, Parse(specifier).Contains(version));
    }

    // Candidates in other spellings are normalized before matching (PEP 440 §Normalization).
    [Theory]
    [InlineData("==1.0rc1", "1.0-RC.1")]
    [InlineData("==1.0.post1", "1.0-1")]
    [InlineData("==1.0.post1", "v1.0.rev1")]
    [InlineData("==1.0+abc.1", "1.0+ABC-1")]
    [InlineData(">=1.2", " 01.02 ")]
    [InlineData("==1!2.*", "1!2.0.0")]
    public void Normalizes_the_candidate(string specifier, string version)
    {
        Assert.True(Parse(specifier).Contains(version));
        Assert.False(Parse(specifier).Contains("0.1"));
    }

    // PEP 440 §Arbitrary equality; test_specifiers.py test_arbitrary_equality and
    // test_arbitrary_equality_normalization (string candidates): the raw string, ASCII case-insensitive.
    [Theory]
    [InlineData("===1.0", "1.0", true)]
    [InlineData("===1.0", "1.0.0", false)]
    [InlineData("===1.0", "1.0.dev0", false)]
    [InlineData("===1.0.dev0", "1.0.dev0", true)]
    [InlineData("===1.0+downstream1", "1.0", false)]
    [InlineData("===foobar", "foobar", true)]
    [InlineData("===baz", "foobar", false)]
    [InlineData("===1.0A1", "1.0a1", true)]
    [InlineData("===1.0rc1", "1.0RC1", true)]
    [InlineData("===1.0.POST1", "1.0.post1", true)]
    [InlineData("===1.0+abc.def", "1.0+ABC.DEF", true)]
    [InlineData("===1.0a1.post2.dev3", "1.0A1.POST2.DEV3", true)]
    [InlineData("===LoLWaT", "lolwat", true)]
    [InlineData("===1.1", "1.01", false)]
    [InlineData("===1.01", "1.1", false)]
    [InlineData("===1.01", "1.01", true)]
    [InlineData("===1.a1", "1.a1", true)]
    [InlineData("===1a1", "1.a1", false)]
    [InlineData("===0!1.0", "0!1.0", true)]
    [InlineData("===0!1.0", "1.0", false)]
    [InlineData("===1.0-1", "1.0-1", true)]
    [InlineData("===1.0-1", "1.0.post1", false)]
    [InlineData("===1.0.dev01", "1.0.dev1", false)]
    [InlineData("=== 1.0", "1.0", true)]
    [InlineData("===1.0", " 1.0", false)]
    public void Arbitrary_equality_compares_the_raw_string(string specifier, string version, bool expected)
    {
        Assert.Equal(expected, Parse(specifier).Contains(version));
    }

    // Sets: every clause must match; test_specifiers.py TestSpecifierSet.test_contains_arbitrary_equality_contains,
    // test_contains_post_release_boundary_intersection and test_specifier_filter (invalid versions).
    [Theory]
    [InlineData("===foobar,!=1.0", "foobar", false)]
    [InlineData("===foobar,!=1.0", "1.0", false)]
    [InlineData(">=1.0,===foobar", "foobar", false)]
    [InlineData(">=1.0,===1.5", "1.5", true)]
    [InlineData(">=2.0,===1.5", "1.5", false)]
    [InlineData(">=1.0,===2.5", "2.5", true)]
    [InlineData(">=1.0,===1.01", "1.01", true)]
    [InlineData(">=1.0,===1.1", "1.01", false)]
    [InlineData("!=1.0", "invalid", false)]
    [InlineData("!=2.0.*", "invalid", false)]
    [InlineData("!=1.0,!=2.0", "foobar", false)]
    [InlineData(">=1.0,!=2.0", "foobar", false)]
    [InlineData(">=1.0,!=2.0", "1.5", true)]
    [InlineData(">=1.0,!=1.0.1", "1.2.3", true)]
    [InlineData(">=1.0,!=1.0.1", "1.0.1", false)]
    [InlineData(">=1.0,!=1.0.1", "1.3.0a1", true)]
    [InlineData(">1.0,!=1.0.post1", "1.0.post2", false)]
    [InlineData(">1.0,!=1.0.post1", "1.0.post2.dev3", false)]
    [InlineData(">1.0,!=1.0.post1", "1.0.post1", false)]
    [InlineData(">1.0,!=1.0.post1", "1.1", true)]
    [InlineData(">2.3,!=2.3.post1", "2.3.post2", false)]
    [InlineData(">1!1.0,!=1!1.0.post1", "1!1.0.post2", false)]
    [InlineData("~=1.18.0,~=1.18", "1.19.5", false)]
    [InlineData("~=1.18.0,~=1.18", "1.18.0", true)]
    [InlineData(">=2,<3,!=2.5.*", "2.5.1", false)]
    [InlineData(">=2,<3,!=2.5.*", "2.6", true)]
    [InlineData(" >= 2 , < 3 ", "2.0", true)]
    public void A_set_needs_every_clause(string specifier, string version, bool expected)
    {
        Assert.Equal(expected, Parse(specifier).Contains(version));
    }

    // test_specifiers.py TestSpecifier.test_invalid_version: standard operators never match a non-version.
    [Theory]
    [InlineData("==1.0", "1.0")]
    [InlineData("==1.*", "1.5")]
    [InlineData(">=1.0", "1.0")]
    [InlineData(">1.0", "1.1")]
    [InlineData("<=1.0", "1.0")]
    [InlineData("<1.0", "0.9")]
    [InlineData("~=1.0", "1.1")]
    [InlineData("!=1.0", "2.0")]
    [InlineData("!=1.*", "2.0")]
    public void Never_matches_a_string_that_is_not_a_version(string specifier, string matching)
    {
        var parsed = Parse(specifier);
        Assert.True(parsed.Contains(matching));
        Assert.False(parsed.Contains("not a valid version"));
        Assert.False(parsed.Contains(string.Empty));
        Assert.False(parsed.Contains("1.0\u212A")); // Kelvin sign: PEP 440 versions are ASCII
    }

    [Fact]
    public void Contains_refuses_null()
    {
        Assert.Throws<ArgumentNullException>(() => Parse(">=1").Contains((string)null!));
        Assert.Throws<ArgumentNullException>(() => Parse(">=1").Contains((ParsedVersion)null!));
    }

    // Numbers beyond 64 bits compare as digit strings, as in Pep440Comparer.
    [Theory]
    [InlineData(">=123456789012345678901234567890", "123456789012345678901234567891", true)]
    [InlineData(">=123456789012345678901234567890", "99999999999999999999999999999", false)]
    [InlineData("==1.123456789012345678901234567890.*", "1.123456789012345678901234567890.7", true)]
    [InlineData("==1.123456789012345678901234567890.*", "1.123456789012345678901234567891", false)]
    [InlineData("<1.0.post99999999999999999999", "1.0.post99999999999999999998", true)]
    [InlineData("<1.0.post99999999999999999999", "1.0.post99999999999999999999.dev0", false)]
    [InlineData(">1.0.dev18446744073709551616", "1.0.dev18446744073709551617", true)]
    [InlineData(">1.0.dev18446744073709551616", "1.0.dev18446744073709551616+local", false)]
    [InlineData("~=18446744073709551616.1", "18446744073709551616.2", true)]
    [InlineData("~=18446744073709551616.1", "18446744073709551617.0", false)]
    public void Compares_numbers_of_any_size(string specifier, string version, bool expected)
    {
        Assert.Equal(expected, Parse(specifier).Contains(version));
    }

    // Across the PEP 440 ordering example, "==V" matches exactly V (and V's own local versions), and ">=V" agrees
    // with Pep440Comparer.
    [Fact]
    public void Agrees_with_the_comparer_on_the_pep_440_ordering_example()
    {
        string[] ordered =
        [
            "1.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
            "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5",
            "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1", "2!0.1",
        ];
        foreach (var spec in ordered)
        {
            var equal = Parse("==" + spec);
            var atLeast = spec.Contains('+', StringComparison.Ordinal) ? null : Parse(">=" + spec);
            foreach (var candidate in ordered)
            {
                var sameVersion = Pep440Comparer.Instance.Compare(candidate, spec) == 0
                    || (!spec.Contains('+', StringComparison.Ordinal) && candidate.StartsWith(spec + "+", StringComparison.Ordinal));
                Assert.True(sameVersion == equal.Contains(candidate), $"=={spec} vs {candidate}");
                Assert.True(sameVersion != Parse("!=" + spec).Contains(candidate), $"!={spec} vs {candidate}");
                if (atLeast is not null)
                {
                    Assert.True((Pep440Comparer.Instance.Compare(candidate, spec) >= 0) == atLeast.Contains(candidate), $">={spec} vs {candidate}");
                }
            }
        }
    }

    // ToString: the clauses in the order given, versions normalized (PEP 440 §Normalization), no spaces;
    // "===" keeps its text, since normalizing it would change what it matches.
    [Theory]
    [InlineData(">=2,<3", ">=2,<3")]
    [InlineData(" >= 2 , < 3 ", ">=2,<3")]
    [InlineData("< 2", "<2")]
    [InlineData("!=2.0 ,>1.0", "!=2.0,>1.0")]
    [InlineData(">1.0,!=2.0", ">1.0,!=2.0")]
    [InlineData("~=2.1", "~=2.1")]
    [InlineData("~=2.2.0", "~=2.2.0")]
    [InlineData("==2.*", "==2.*")]
    [InlineData("== v02.0.*", "==2.0.*")]
    [InlineData("!=0!1.1.*", "!=1.1.*")]
    [InlineData("==2!1.*", "==2!1.*")]
    [InlineData("!=2.0.1", "!=2.0.1")]
    [InlineData(">1.0.post1", ">1.0.post1")]
    [InlineData(">1.0-1", ">1.0.post1")]
    [InlineData("<=01.02", "<=1.2")]
    [InlineData(">=1.0RC1", ">=1.0rc1")]
    [InlineData("<1.0.DEV", "<1.0.dev0")]
    [InlineData("==1.0+ABC-1", "==1.0+abc.1")]
    [InlineData(">=0!1.0", ">=1.0")]
    [InlineData("===1.0", "===1.0")]
    [InlineData("=== FooBar", "===FooBar")]
    [InlineData("===1.01", "===1.01")]
    [InlineData(">=1,>=1", ">=1,>=1")]
    [InlineData("==  \r \f \v v1.0\t\n", "==1.0")]
    public void Writes_the_canonical_form(string text, string expected)
    {
        Assert.Equal(expected, Parse(text).ToString());
    }

    // test_specifiers.py TestSpecifier.test_specifiers_normalized: every spelling parses with every operator that
    // allows it, and means the same as its normalized form.
    [Theory]
    [InlineData("1.0dev", "1.0.dev0")]
    [InlineData("1.0-DEV1", "1.0.dev1")]
    [InlineData("1.0.a", "1.0a0")]
    [InlineData("1.0-ALPHA1", "1.0a1")]
    [InlineData("1.0BETA", "1.0b0")]
    [InlineData("1.0.C1", "1.0rc1")]
    [InlineData("1.0-RC", "1.0rc0")]
    [InlineData("1.0POST", "1.0.post0")]
    [InlineData("1.0-5", "1.0.post5")]
    [InlineData("1.0+AbC", "1.0+abc")]
    [InlineData("1.01", "1.1")]
    [InlineData("1.0c056", "1.0rc56")]
    [InlineData("1.1.dev09000", "1.1.dev9000")]
    [InlineData("00!1.2", "1.2")]
    [InlineData("0100!0.0", "100!0.0")]
    [InlineData("v1.0", "1.0")]
    public void Accepts_every_pep_440_spelling(string version, string normalized)
    {
        string[] operators = version.Contains('+', StringComparison.Ordinal)
            ? ["==", "!="]
            : ["~=", "==", "!=", "<=", ">=", "<", ">"];
        foreach (var op in operators)
        {
            Assert.Equal(op + normalized, Parse(op + version).ToString());
            Assert.Equal(Parse(op + normalized).Contains(normalized), Parse(op + version).Contains(version));
        }
    }

    // test_specifiers.py TestSpecifier.test_specifiers_invalid, plus what this type refuses beyond packaging:
    // empty clauses (PEP 440's grammar has none) and non-ASCII "===" text (PEP 440 §Arbitrary equality leaves it
    // unspecified).
    [Theory]
    [InlineData("2.0")]
    [InlineData("=>2.0")]
    [InlineData("==")]
    [InlineData("~=1.0+5")]
    [InlineData(">=1.0+deadbeef")]
    [InlineData("<=1.0+abc123")]
    [InlineData(">1.0+watwat")]
    [InlineData("<1.0+1.0")]
    [InlineData("~=1.0.*")]
    [InlineData(">=1.0.*")]
    [InlineData("<=1.0.*")]
    [InlineData(">1.0.*")]
    [InlineData("<1.0.*")]
    [InlineData("==1.0.*+5")]
    [InlineData("!=1.0.*+deadbeef")]
    [InlineData("==2.0a1.*")]
    [InlineData("!=2.0a1.*")]
    [InlineData("==2.0.post1.*")]
    [InlineData("!=2.0.post1.*")]
    [InlineData("==2.0.dev1.*")]
    [InlineData("!=2.0.dev1.*")]
    [InlineData("==1.0+5.*")]
    [InlineData("!=1.0+deadbeef.*")]
    [InlineData("==1.0.*.5")]
    [InlineData("~=1")]
    [InlineData("==1.2+\u0130")]
    [InlineData("==1.2+\u0130\u0131\u017fK")]
    [InlineData("~=1.2.3prev\u0131ew1")]
    [InlineData("~=1.2.3po\u017ft1")]
    [InlineData("==1.0 .*")]
    [InlineData("== 1 .0")]
    [InlineData("===")]
    [InlineData("===a b")]
    [InlineData("===a;b")]
    [InlineData("===a)")]
    [InlineData("===caf\u00e9")]
    [InlineData(">=1,")]
    [InlineData(",>=1")]
    [InlineData(">=1,,<2")]
    [InlineData(">=1, ,<2")]
    [InlineData(">=1 <2")]
    [InlineData(">=1;<2")]
    public void Rejects_invalid_specifiers(string text)
    {
        Assert.False(VersionSpecifier.TryParse(text, out var specifier, out var error));
        Assert.Null(specifier);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Theory]
    [InlineData(null, "a version specifier needs at least one clause, such as '>=1.0' (PEP 440 §Version specifiers)")]
    [InlineData("", "a version specifier needs at least one clause, such as '>=1.0' (PEP 440 §Version specifiers)")]
    [InlineData(" \t ", "a version specifier needs at least one clause, such as '>=1.0' (PEP 440 §Version specifiers)")]
    [InlineData(">=two", "'>=two' is not a PEP 440 version specifier clause")]
    [InlineData(">=1.0, < 2 ,  >=x ", "'>=x' is not a PEP 440 version specifier clause")]
    [InlineData("2.0", "'2.0' is not a PEP 440 version specifier clause")]
    [InlineData("=>2.0", "'=>2.0' is not a PEP 440 version specifier clause")]
    [InlineData("===", "'===' is not a PEP 440 version specifier clause")]
    [InlineData("==1.0.*+5", "'==1.0.*+5' is not a PEP 440 version specifier clause")]
    [InlineData("==1.0 .*", "'==1.0 .*' is not a PEP 440 version specifier clause")]
    [InlineData("~=1", "'~=1' needs at least two release segments (PEP 440 §Compatible release)")]
    [InlineData("~= 1!2a1", "'~= 1!2a1' needs at least two release segments (PEP 440 §Compatible release)")]
    [InlineData(">=1.0+abc", "'>=1.0+abc' has a local version label, which only '==' and '!=' allow (PEP 440 §Version specifiers)")]
    [InlineData("~=1.0+5", "'~=1.0+5' has a local version label, which only '==' and '!=' allow (PEP 440 §Version specifiers)")]
    [InlineData(">=1.0.*", "'>=1.0.*' uses prefix matching ('.*'), which only '==' and '!=' allow (PEP 440 §Version matching)")]
    [InlineData("~=1.0.*", "'~=1.0.*' uses prefix matching ('.*'), which only '==' and '!=' allow (PEP 440 §Version matching)")]
    [InlineData("==2.0a1.*", "'==2.0a1.*' puts '.*' after a pre-, post-, development or local segment; a prefix match ends with a release segment (PEP 440 §Version matching)")]
    [InlineData("!=1.0+abc.*", "'!=1.0+abc.*' puts '.*' after a pre-, post-, development or local segment; a prefix match ends with a release segment (PEP 440 §Version matching)")]
    [InlineData(">=1.0,", "'>=1.0,' has an empty clause; clauses are separated by single commas (PEP 440 §Version specifiers)")]
    public void Names_the_problem(string? text, string expected)
    {
        Assert.False(VersionSpecifier.TryParse(text, out var specifier, out var error));
        Assert.Null(specifier);
        Assert.Equal(expected, error);
    }
}
