using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

public sealed class Pep440VersionTests
{
    // PEP 440 §Normalization (and packaging.version's canonical string form).
    [Theory]
    // Release segments.
    [InlineData("1.0", "1.0")]
    [InlineData("1", "1")]
    [InlineData("0", "0")]
    [InlineData("1.2.3.4.5", "1.2.3.4.5")]
    [InlineData("2025.10.1", "2025.10.1")]
    // Preceding "v".
    [InlineData("v1.2.3", "1.2.3")]
    [InlineData("V1.2.3", "1.2.3")]
    // Pre-release spelling, separators and implicit number.
    [InlineData("1.0.0-rc1", "1.0.0rc1")]
    [InlineData("1.0.0.rc.1", "1.0.0rc1")]
    [InlineData("1.0.0_rc_1", "1.0.0rc1")]
    [InlineData("1.0.0c1", "1.0.0rc1")]
    [InlineData("1.0.0pre1", "1.0.0rc1")]
    [InlineData("1.0.0preview1", "1.0.0rc1")]
    [InlineData("1.0.0rc01", "1.0.0rc1")]
    [InlineData("1.0RC1", "1.0rc1")]
    [InlineData("1.0rc", "1.0rc0")]
    [InlineData("1.0c", "1.0rc0")]
    [InlineData("1.0alpha", "1.0a0")]
    [InlineData("1.0a", "1.0a0")]
    [InlineData("1.0.alpha.1", "1.0a1")]
    [InlineData("1.0ALPHA2", "1.0a2")]
    [InlineData("1.0-beta.2", "1.0b2")]
    [InlineData("1.0b", "1.0b0")]
    [InlineData("1.0Beta3", "1.0b3")]
    // Post-release spelling, separators, implicit number and implicit post.
    [InlineData("1.0-1", "1.0.post1")]
    [InlineData("1.0.rev3", "1.0.post3")]
    [InlineData("1.0r3", "1.0.post3")]
    [InlineData("1.0post", "1.0.post0")]
    [InlineData("1.0.post", "1.0.post0")]
    [InlineData("1.0-post-2", "1.0.post2")]
    [InlineData("1.0_post_2", "1.0.post2")]
    [InlineData("1.0post02", "1.0.post2")]
    [InlineData("1.0.POST1", "1.0.post1")]
    [InlineData("1.0rc1-1", "1.0rc1.post1")]
    // Development releases.
    [InlineData("1.0-dev", "1.0.dev0")]
    [InlineData("1.0dev", "1.0.dev0")]
    [InlineData("1.0.dev1", "1.0.dev1")]
    [InlineData("1.0-dev-1", "1.0.dev1")]
    [InlineData("1.0dev01", "1.0.dev1")]
    [InlineData("1.0.DEV2", "1.0.dev2")]
    // All segments together.
    [InlineData("1.0a1.post2.dev3", "1.0a1.post2.dev3")]
    [InlineData("1.0-rc.1-post.2-dev.3", "1.0rc1.post2.dev3")]
    [InlineData("1!1.0b2.post345.dev456+abc.5", "1!1.0b2.post345.dev456+abc.5")]
    // Integer normalization (leading zeros; arbitrarily large numbers).
    [InlineData("01.002.0003", "1.2.3")]
    [InlineData("1.0.00", "1.0.0")]
    [InlineData("00", "0")]
    [InlineData("1.0rc007", "1.0rc7")]
    [InlineData("1.99999999999999999999999", "1.99999999999999999999999")]
    [InlineData("1.000099999999999999999999", "1.99999999999999999999")]
    // Epochs.
    [InlineData("0!1.0", "1.0")]
    [InlineData("00!1.0", "1.0")]
    [InlineData("1!2.0", "1!2.0")]
    [InlineData("01!2.0", "1!2.0")]
    [InlineData("v1!2.0", "1!2.0")]
    // Local versions.
    [InlineData("1.0+Ubuntu-1", "1.0+ubuntu.1")]
    [InlineData("1.0+abc.007", "1.0+abc.7")]
    [InlineData("1.0+abc_def", "1.0+abc.def")]
    [InlineData("1.0+0", "1.0+0")]
    [InlineData("1.0+00", "1.0+0")]
    [InlineData("1.0+00a", "1.0+00a")]
    [InlineData("1.0+local.1.2", "1.0+local.1.2")]
    [InlineData("1.0rc1+Local", "1.0rc1+local")]
    // Surrounding whitespace.
    [InlineData(" 1.0 ", "1.0")]
    [InlineData("\t1.0rc1\n", "1.0rc1")]
    [InlineData("  v1.0  ", "1.0")]
    public void TryNormalize_produces_the_pep440_normal_form(string text, string expected)
    {
        Assert.True(Pep440Version.TryNormalize(text, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("abc")]
    [InlineData("v")]
    [InlineData("vv1.0")]
    [InlineData("1.0+")]
    [InlineData("1..0")]
    [InlineData("1.0.")]
    [InlineData(".1.0")]
    [InlineData("1.0-")]
    [InlineData("1.0-foo")]
    [InlineData("1.0 rc1")]
    [InlineData("1 .0")]
    [InlineData("1,0")]
    [InlineData("1!")]
    [InlineData("!1.0")]
    [InlineData("1.0a1b2")]
    [InlineData("1.0rc1a1")]
    [InlineData("1.0.dev1.post1")]
    [InlineData("1.0-1-1")]
    [InlineData("1.0++1")]
    [InlineData("1.0+abc..def")]
    [InlineData("1.0+abc-")]
    [InlineData("1.0+ä")]
    [InlineData("1.0+a b")]
    [InlineData("١.٠")]
    [InlineData("１.０")]
    [InlineData("latest")]
    [InlineData("1.0.po\u017Ft1")]
    [InlineData("1.0+\u212A")]
    public void TryNormalize_rejects_what_pep440_does_not_allow(string? text)
    {
        Assert.False(Pep440Version.TryNormalize(text, out var normalized));
        Assert.Equal(string.Empty, normalized);
    }

    [Theory]
    [InlineData("V01.0.0-RC.1")]
    [InlineData("1.0-1")]
    [InlineData("0!1.0_dev")]
    [InlineData("1.0+Ubuntu-007")]
    [InlineData("1!2.0.post.dev")]
    public void TryNormalize_is_idempotent(string text)
    {
        Assert.True(Pep440Version.TryNormalize(text, out var once));
        Assert.True(Pep440Version.TryNormalize(once, out var twice));
        Assert.Equal(once, twice);
    }

    [Theory]
    [InlineData("1.0.0-rc1", "1.0.0c1")]
    [InlineData("1.0post", "1.0-0")]
    [InlineData("v1.0", "1.0")]
    public void Equivalent_spellings_normalize_to_the_same_string(string a, string b)
    {
        Assert.True(Pep440Version.TryNormalize(a, out var na));
        Assert.True(Pep440Version.TryNormalize(b, out var nb));
        Assert.Equal(na, nb);
    }
}
