using Builder.Index;

namespace Builder.Tests.Unit;

public sealed class ReleaseRulesTests
{
    private static readonly PublishedName[] Published =
    [
        new("alpha_lib-1.0-py3-none-any.whl", "1.0"),
        new("alpha_lib-1.0.tar.gz", "1.0"),
        new("alpha_lib-2.0-cp312-cp312-manylinux_2_28_x86_64.whl", "2.0"),
    ];

    private static FileToPublish File(string filename, string version) =>
        new("alpha-lib", filename, version, new string('0', 64), 1, null, null, new LocalFileBytes("/nowhere", null));

    private static string? Refusal(params FileToPublish[] added) => ReleaseRules.Refusal(Published, added);

    [Theory]
    [InlineData("alpha_lib-1.0-cp312-cp312-manylinux_2_28_x86_64.whl", "1.0")]
    [InlineData("alpha_lib-2.0-cp313-cp313-manylinux_2_28_x86_64.whl", "2.0")]
    [InlineData("alpha_lib-2.0-cp312-cp312-musllinux_1_2_x86_64.whl", "2.0")]
    [InlineData("alpha_lib-2.0.tar.gz", "2.0")]
    [InlineData("alpha_lib-3.0-py3-none-any.whl", "3.0")]
    [InlineData("alpha_lib-1.0.post1-py3-none-any.whl", "1.0.post1")]
    public void A_file_for_tags_its_release_does_not_cover_yet_may_join_it(string filename, string version)
    {
        Assert.Null(Refusal(File(filename, version)));
    }

    [Theory]
    [InlineData("alpha_lib-1.0-1-py3-none-any.whl", "1.0", "already has alpha_lib-1.0-py3-none-any.whl for py3-none-any")]
    [InlineData("alpha_lib-1.0-py2.py3-none-any.whl", "1.0", "already has alpha_lib-1.0-py3-none-any.whl for py3-none-any")]
    [InlineData("alpha_lib-1.0.zip", "1.0", "already has alpha_lib-1.0.tar.gz for its sdist")]
    [InlineData("alpha_lib-1.0.0-cp312-cp312-manylinux_2_28_x86_64.whl", "1.0.0", "version 1.0.0 is release 1.0")]
    [InlineData("alpha_lib-1.0.0.0.tar.gz", "1.0.0.0", "version 1.0.0.0 is release 1.0")]
    [InlineData("alpha_lib-2.0-1-cp312-cp312-manylinux_2_28_x86_64.whl", "2.0", "already has alpha_lib-2.0-cp312-cp312-manylinux_2_28_x86_64.whl")]
    public void A_file_an_installer_could_pick_instead_of_a_published_one_is_refused(string filename, string version, string expected)
    {
        Assert.Contains(expected, Refusal(File(filename, version)), StringComparison.Ordinal);
    }

    [Fact]
    public void Two_new_files_for_the_same_tags_are_refused_together()
    {
        var refusal = Refusal(File("alpha_lib-4.0-py3-none-any.whl", "4.0"), File("alpha_lib-4.0-1-py3-none-any.whl", "4.0"));

        Assert.Contains("already has alpha_lib-4.0-py3-none-any.whl for py3-none-any", refusal, StringComparison.Ordinal);
    }
}
