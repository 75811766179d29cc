using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

public sealed class DistributionFilenameTests
{
    private static DistributionFilename Parse(string filename)
    {
        Assert.True(DistributionFilename.TryParse(filename, out var result), $"'{filename}' should parse");
        Assert.NotNull(result);
        return result;
    }

    [Fact]
    public void Pure_python_wheel_is_parsed()
    {
        var f = Parse("acme_billing-1.4.0-py3-none-any.whl");

        Assert.Equal("acme_billing-1.4.0-py3-none-any.whl", f.Filename);
        Assert.Equal(DistributionKind.Wheel, f.Kind);
        Assert.Equal("acme_billing", f.Name);
        Assert.Equal("acme-billing", f.NormalizedName);
        Assert.Equal("1.4.0", f.Version);
        Assert.Equal("py3", f.PythonTag);
        Assert.Equal("none", f.AbiTag);
        Assert.Equal("any", f.PlatformTag);
        Assert.True(f.IsPure);
    }

    [Fact]
    public void Platform_wheel_is_parsed_and_not_pure()
    {
        var f = Parse("fastadd-1.2.3-cp310-cp310-manylinux_2_28_x86_64.whl");

        Assert.Equal(DistributionKind.Wheel, f.Kind);
        Assert.Equal("fastadd", f.Name);
        Assert.Equal("1.2.3", f.Version);
        Assert.Equal("cp310", f.PythonTag);
        Assert.Equal("cp310", f.AbiTag);
        Assert.Equal("manylinux_2_28_x86_64", f.PlatformTag);
        Assert.False(f.IsPure);
    }

    [Theory]
    [InlineData("pkg-1.0-1-py3-none-any.whl", "1.0")]
    [InlineData("pkg-1.0-2abc-py3-none-any.whl", "1.0")]
    [InlineData("pkg-2.0rc1-10_x.y-py3-none-any.whl", "2.0rc1")]
    public void Build_tag_is_not_taken_for_a_tag_or_the_version(string filename, string version)
    {
        var f = Parse(filename);

        Assert.Equal("pkg", f.Name);
        Assert.Equal(version, f.Version);
        Assert.Equal("py3", f.PythonTag);
        Assert.Equal("none", f.AbiTag);
        Assert.Equal("any", f.PlatformTag);
        Assert.True(f.IsPure);
    }

    [Theory]
    [InlineData("pkg-1.0-py2.py3-none-any.whl", "py2.py3", "none", "any", true)]
    [InlineData("pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "cp311", "cp311", "manylinux_2_17_x86_64.manylinux2014_x86_64", false)]
    [InlineData("pkg-1.0-cp38-abi3-manylinux_2_28_aarch64.whl", "cp38", "abi3", "manylinux_2_28_aarch64", false)]
    [InlineData("pkg-1.0-py3-none-win_amd64.whl", "py3", "none", "win_amd64", false)]
    [InlineData("pkg-1.0-cp310-abi3-any.whl", "cp310", "abi3", "any", false)]
    [InlineData("pkg-1.0-py3-none-macosx_11_0_arm64.whl", "py3", "none", "macosx_11_0_arm64", false)]
    public void Wheel_tags_and_purity(string filename, string python, string abi, string platform, bool pure)
    {
        var f = Parse(filename);

        Assert.Equal(python, f.PythonTag);
        Assert.Equal(abi, f.AbiTag);
        Assert.Equal(platform, f.PlatformTag);
        Assert.Equal(pure, f.IsPure);
    }

    [Theory]
    [InlineData("pkg-1.0rc1-py3-none-any.whl", "1.0rc1")]
    [InlineData("pkg-1.0.0.RC1-py3-none-any.whl", "1.0.0rc1")]
    [InlineData("pkg-01.0_post1-py3-none-any.whl", "1.0.post1")]
    [InlineData("pkg-1.0+Local.007-py3-none-any.whl", "1.0+local.7")]
    [InlineData("pkg-0!1.0-py3-none-any.whl", "1.0")]
    [InlineData("pkg-1!2.0-py3-none-any.whl", "1!2.0")]
    [InlineData("pkg-1.0.dev3-py3-none-any.whl", "1.0.dev3")]
    public void Wheel_version_is_normalized(string filename, string version)
    {
        Assert.Equal(version, Parse(filename).Version);
    }

    [Theory]
    [InlineData("Acme.Billing-1.0-py3-none-any.whl", "Acme.Billing", "acme-billing")]
    [InlineData("ACME_Billing-1.0-py3-none-any.whl", "ACME_Billing", "acme-billing")]
    [InlineData("zope.interface-6.0-cp312-cp312-manylinux_2_28_x86_64.whl", "zope.interface", "zope-interface")]
    public void Wheel_name_is_kept_and_normalized_separately(string filename, string name, string normalized)
    {
        var f = Parse(filename);

        Assert.Equal(name, f.Name);
        Assert.Equal(normalized, f.NormalizedName);
    }

    [Theory]
    [InlineData("acme_billing-1.4.0.tar.gz", "acme_billing", "acme-billing", "1.4.0")]
    [InlineData("legacy-name-1.0.zip", "legacy-name", "legacy-name", "1.0")]
    [InlineData("Legacy.Name-2.0RC1.tar.gz", "Legacy.Name", "legacy-name", "2.0rc1")]
    [InlineData("pkg-1.0.post1.tar.gz", "pkg", "pkg", "1.0.post1")]
    [InlineData("pkg-1!1.0+abc.tar.gz", "pkg", "pkg", "1!1.0+abc")]
    [InlineData("a-1.tar.gz", "a", "a", "1")]
    public void Sdist_is_parsed(string filename, string name, string normalized, string version)
    {
        var f = Parse(filename);

        Assert.Equal(filename, f.Filename);
        Assert.Equal(DistributionKind.Sdist, f.Kind);
        Assert.Equal(name, f.Name);
        Assert.Equal(normalized, f.NormalizedName);
        Assert.Equal(version, f.Version);
        Assert.Null(f.PythonTag);
        Assert.Null(f.AbiTag);
        Assert.Null(f.PlatformTag);
        Assert.False(f.IsPure);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../evil-1.0.tar.gz")]
    [InlineData("..\\evil-1.0.tar.gz")]
    [InlineData("/tmp/pkg-1.0.tar.gz")]
    [InlineData("a/b-1.0-py3-none-any.whl")]
    [InlineData("a\\b-1.0-py3-none-any.whl")]
    [InlineData("pkg-1.0.exe")]
    [InlineData("pkg.whl")]
    [InlineData("pkg-1.0.whl")]
    [InlineData("pkg-1.0-py3-none.whl")]
    [InlineData("pkg-1.0-py3-none-any-extra.whl")]
    [InlineData("pkg-1.0-py3-none-any.WHL")]
    [InlineData("pkg-1.0-py3-none-any.whl.txt")]
    [InlineData("pkg-notaversion-py3-none-any.whl")]
    [InlineData("pkg-1.0-foo-py3-none-any.whl")]
    [InlineData("pkg-1.0.tar.bz2")]
    [InlineData("pkg-1.0.tar")]
    [InlineData("pkg-1.0.tgz")]
    [InlineData("pkg-.tar.gz")]
    [InlineData("-1.0.tar.gz")]
    [InlineData("pkg.tar.gz")]
    [InlineData("pkg-latest.tar.gz")]
    [InlineData("pkg 1.0.tar.gz")]
    [InlineData("pkg-1.0 .tar.gz")]
    [InlineData("pkg-1.0-py3-none-any.whl\n")]
    [InlineData("pkg-1.0.tar.gz\n")]
    [InlineData("..-1.0-py3-none-any.whl")]
    [InlineData("_pkg-1.0-py3-none-any.whl")]
    public void TryParse_rejects_what_is_not_a_distribution_file_name(string filename)
    {
        Assert.False(DistributionFilename.TryParse(filename, out var result));
        Assert.Null(result);
    }

    [Theory]
    [InlineData("alpha_lib-1.0-py3-none-any.whl", "alpha_lib-1.0-py3-none-any.whl")]
    [InlineData("ALPHA_LIB-1.0-py3-none-any.whl", "alpha_lib-1.0-py3-none-any.whl")]
    [InlineData("alpha.lib-1.0-py3-none-any.whl", "alpha_lib-1.0-py3-none-any.whl")]
    [InlineData("alpha_lib-01.0-py3-none-any.whl", "alpha_lib-1.0-py3-none-any.whl")]
    [InlineData("alpha_lib-0!1.0-py3-none-any.whl", "alpha_lib-1.0-py3-none-any.whl")]
    [InlineData("alpha_lib-1.0RC1-py3-none-any.whl", "alpha_lib-1.0rc1-py3-none-any.whl")]
    [InlineData("alpha_lib-1.0-7-py3-none-any.whl", "alpha_lib-1.0-7-py3-none-any.whl")]
    [InlineData("Alpha__Lib-1.0-1x-cp312-cp312-manylinux_2_28_x86_64.whl", "alpha_lib-1.0-1x-cp312-cp312-manylinux_2_28_x86_64.whl")]
    [InlineData("alpha_lib-1.0.tar.gz", "alpha_lib-1.0.tar.gz")]
    [InlineData("Alpha-Lib-1.0.0.tar.gz", "alpha_lib-1.0.0.tar.gz")]
    [InlineData("legacy-name-1.0.zip", "legacy_name-1.0.zip")]
    public void Canonical_name_is_the_normalized_name_and_version_with_the_tags_as_sent(string filename, string canonical)
    {
        Assert.Equal(canonical, Parse(filename).Canonical);
    }

    [Theory]
    [InlineData("pkg-1.0-py3-none-any.whl", "py3-none-any")]
    [InlineData("pkg-1.0-py2.py3-none-any.whl", "py2-none-any py3-none-any")]
    [InlineData("pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "cp311-cp311-manylinux_2_17_x86_64 cp311-cp311-manylinux2014_x86_64")]
    [InlineData("pkg-1.0-1-py3-none-any.whl", "py3-none-any")]
    [InlineData("pkg-1.0.tar.gz", "sdist")]
    [InlineData("pkg-1.0.zip", "sdist")]
    public void Tags_are_expanded_from_compressed_tag_sets(string filename, string tags)
    {
        Assert.Equal(tags.Split(' '), Parse(filename).Tags);
    }

    [Fact]
    public void Overlong_file_name_is_rejected()
    {
        var filename = new string('a', 300) + "-1.0.tar.gz";

        Assert.False(DistributionFilename.TryParse(filename, out var result));
        Assert.Null(result);
    }

    [Fact]
    public void File_name_of_MaxLength_characters_is_the_longest_accepted()
    {
        var longest = new string('a', DistributionFilename.MaxLength - "-1.0.tar.gz".Length) + "-1.0.tar.gz";
        var tooLong = "a" + longest;

        Assert.Equal(DistributionFilename.MaxLength, longest.Length);
        Assert.True(DistributionFilename.TryParse(longest, out _));
        Assert.False(DistributionFilename.TryParse(tooLong, out _));
    }
}
