using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

public sealed class Pep440ComparerTests
{
    // PEP 440 §Summary of permitted suffixes and relative ordering, its example list, in order.
    private static readonly string[] Ordered =
    [
        "1.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
        "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5",
        "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1", "2!0.1",
    ];

    [Fact]
    public void Sorts_the_pep_440_example_list()
    {
        var shuffled = Ordered.Reverse().ToList();
        shuffled.Sort(Pep440Comparer.Instance);
        Assert.Equal(Ordered, shuffled);
    }

    [Theory]
    [InlineData("1.0", "1.0.0", 0)]
    [InlineData("1.0", "v1.0", 0)]
    [InlineData("1.2", "1.10", -1)]
    [InlineData("1.0rc1", "1.0c1", 0)]
    [InlineData("10.0", "9.99", 1)]
    [InlineData("1.0.0.0.1", "1", 1)]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567889", 1)]
    [InlineData("not-a-version", "0.0.1", -1)]
    public void Compares_pairs(string a, string b, int sign)
    {
        Assert.Equal(sign, Math.Sign(Pep440Comparer.Instance.Compare(a, b)));
        Assert.Equal(-sign, Math.Sign(Pep440Comparer.Instance.Compare(b, a)));
    }

    [Theory]
    [InlineData("1.0a1", true)]
    [InlineData("1.0rc2", true)]
    [InlineData("1.0.dev3", true)]
    [InlineData("1.0", false)]
    [InlineData("1.0.post1", false)]
    public void Tells_prereleases(string version, bool expected)
    {
        Assert.Equal(expected, Pep440Comparer.IsPrerelease(version));
    }

    [Fact]
    public void Parsed_versions_sort_as_their_strings_do()
    {
        var shuffled = Ordered.Reverse().Append("not-a-version").Select(v => new ParsedVersion(v)).ToList();
        shuffled.Sort(ParsedVersion.Order);
        Assert.Equal(Ordered.Prepend("not-a-version"), shuffled.Select(v => v.Text));
        Assert.Equal(Ordered.Select(Pep440Comparer.IsPrerelease), Ordered.Select(v => new ParsedVersion(v).IsPrerelease));
    }

    [Theory]
    [InlineData("1.0 2.0 1.5", "", "2.0")]
    [InlineData("1.0 2.0 2.1rc1", "", "2.0")]
    [InlineData("1.0 2.0 3.0", "3.0", "2.0")]
    [InlineData("1.0 2.0", "1.0 2.0", "2.0")]
    [InlineData("1.0a1 1.0b1 0.9.dev1", "", "1.0b1")]
    [InlineData("1.0 1.0.post1 1.0+local", "", "1.0.post1")]
    public void The_latest_release_is_the_highest_final_unyanked_one_else_the_highest(string versions, string yanked, string latest)
    {
        var all = versions.Split(' ');
        var isYanked = yanked.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        Assert.Equal(latest, Pep440Comparer.Latest(all.Select(v => new ParsedVersion(v)), v => v, v => isYanked.Contains(v.Text))!.Text);
        Assert.Equal(latest, Pep440Comparer.Latest(all.Reverse().Select(v => new ParsedVersion(v)), v => v, v => isYanked.Contains(v.Text))!.Text);
        Assert.Null(Pep440Comparer.Latest(Array.Empty<ParsedVersion>(), v => v, _ => false));
    }
}
