using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

public sealed class TagVersionTests
{
    [Theory]
    [InlineData("v1.4.0", "1.4.0")]
    [InlineData("1.4.0", "1.4.0")]
    [InlineData("V2.0.0rc1", "2.0.0rc1")]
    [InlineData("v1.0.0-rc.1", "1.0.0rc1")]
    [InlineData("v01.02", "1.2")]
    [InlineData("v2!1.0", "2!1.0")]
    [InlineData("v1.0+Local", "1.0+local")]
    [InlineData("v1.0.post1.dev2", "1.0.post1.dev2")]
    public void TryParse_reads_the_normalized_version_from_a_tag(string tag, string expected)
    {
        Assert.True(TagVersion.TryParse(tag, out var version));
        Assert.Equal(expected, version);
    }

    [Theory]
    [InlineData("release-1.0")]
    [InlineData("latest")]
    [InlineData("main")]
    [InlineData("v")]
    [InlineData("vv1.0")]
    [InlineData("v 1.0")]
    [InlineData(" v1.0")]
    [InlineData("v1.0 ")]
    [InlineData("v1.0\n")]
    [InlineData("1.0\t")]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("refs/tags/v1.0")]
    [InlineData("v1.0-foo")]
    public void TryParse_rejects_tags_that_are_not_versions(string tag)
    {
        Assert.False(TagVersion.TryParse(tag, out var version));
        Assert.Equal(string.Empty, version);
    }

    [Theory]
    [InlineData("v1.4.0", "1.4.0")]
    [InlineData("0!1.0", "1.0")]
    public void Refusal_is_null_for_a_release_version(string tag, string expected)
    {
        Assert.Null(TagVersion.Refusal(tag, out var version));
        Assert.Equal(expected, version);
    }

    [Theory]
    [InlineData("v1.0+local", "local version 1.0+local")]
    [InlineData("v1.0+Ubuntu.2", "local version 1.0+ubuntu.2")]
    [InlineData("release-1.0", "does not name a PEP 440 version")]
    public void Refusal_names_why_a_tag_makes_no_release(string tag, string expected)
    {
        Assert.Contains(expected, TagVersion.Refusal(tag, out _), StringComparison.Ordinal);
    }
}
