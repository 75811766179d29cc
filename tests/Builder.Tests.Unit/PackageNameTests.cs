using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

public sealed class PackageNameTests
{
    // PEP 503 §Normalized Names: re.sub(r"[-_.]+", "-", name).lower()
    [Theory]
    [InlineData("Friendly-Bar", "friendly-bar")]
    [InlineData("friendly-bar", "friendly-bar")]
    [InlineData("friendly.bar", "friendly-bar")]
    [InlineData("friendly_bar", "friendly-bar")]
    [InlineData("FRIENDLY_BAR", "friendly-bar")]
    [InlineData("friendly__bar", "friendly-bar")]
    [InlineData("FrIeNdLy-._.-bAr", "friendly-bar")]
    [InlineData("Foo.-_Bar", "foo-bar")]
    [InlineData("foo", "foo")]
    [InlineData("Django", "django")]
    [InlineData("zope.interface", "zope-interface")]
    [InlineData("a1.B2_c3-D4", "a1-b2-c3-d4")]
    [InlineData("A", "a")]
    [InlineData("acme_billing", "acme-billing")]
    public void Normalize_follows_pep503(string name, string expected)
    {
        Assert.Equal(expected, PackageName.Normalize(name));
    }

    [Theory]
    [InlineData("Friendly-Bar")]
    [InlineData("Foo.-_Bar")]
    [InlineData("a..b__c--d")]
    public void Normalize_is_idempotent(string name)
    {
        var once = PackageName.Normalize(name);
        Assert.Equal(once, PackageName.Normalize(once));
    }

    [Theory]
    [InlineData("Foo.Bar", "foo_bar")]
    [InlineData("foo-bar", "FOO__BAR")]
    [InlineData("foo.bar", "Foo-Bar")]
    public void Normalize_makes_equivalent_spellings_equal(string a, string b)
    {
        Assert.Equal(PackageName.Normalize(a), PackageName.Normalize(b));
    }

    [Theory]
    [InlineData("foo", "foobar")]
    [InlineData("foo-bar", "foobar")]
    [InlineData("foo1", "foo-1-")]
    public void Normalize_keeps_different_names_different(string a, string b)
    {
        Assert.NotEqual(PackageName.Normalize(a), PackageName.Normalize(b));
    }

    // PEP 508 §Names: ^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$, case-insensitive, ASCII only.
    [Theory]
    [InlineData("a")]
    [InlineData("A")]
    [InlineData("0")]
    [InlineData("pkg")]
    [InlineData("Foo.Bar")]
    [InlineData("foo_bar")]
    [InlineData("foo-bar")]
    [InlineData("zope.interface")]
    [InlineData("1pkg")]
    [InlineData("pkg1")]
    [InlineData("a-b")]
    [InlineData("foo..bar")]
    [InlineData("Foo.-_Bar")]
    public void IsValid_accepts_pep508_names(string name)
    {
        Assert.True(PackageName.IsValid(name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("_")]
    [InlineData("-foo")]
    [InlineData("foo-")]
    [InlineData(".foo")]
    [InlineData("foo.")]
    [InlineData("_foo")]
    [InlineData("foo_")]
    [InlineData("foo bar")]
    [InlineData(" foo")]
    [InlineData("foo ")]
    [InlineData("foo/bar")]
    [InlineData("foo+bar")]
    [InlineData("foo!")]
    [InlineData("café")]
    [InlineData("naïve")]
    [InlineData("ｆｏｏ")]
    [InlineData("пакет")]
    [InlineData("\nfoo")]
    [InlineData("foo\n")]
    [InlineData("\u212A")]
    [InlineData("foo\u017F")]
    public void IsValid_rejects_names_outside_pep508(string name)
    {
        Assert.False(PackageName.IsValid(name));
    }
}
