using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

public sealed class CoreMetadataTests
{
    [Fact]
    public void Reads_name_version_and_requires_python()
    {
        const string text = """
            Metadata-Version: 2.1
            Name: acme-billing
            Version: 1.4.0
            Summary: Billing for Acme
            Requires-Python: >=3.9
            Requires-Dist: requests>=2

            """;

        var m = CoreMetadata.Parse(text);

        Assert.Equal("acme-billing", m.Name);
        Assert.Equal("1.4.0", m.Version);
        Assert.Equal(">=3.9", m.RequiresPython);
    }

    [Theory]
    [InlineData("Name: pkg\nVersion: 1.0\n")]
    [InlineData("Name: pkg\nVersion: 1.0\nRequires-Python:\n")]
    [InlineData("Name: pkg\nVersion: 1.0\nRequires-Python:    \n")]
    [InlineData("Name: pkg\nVersion: 1.0\n\nRequires-Python: >=3.12\n")]
    public void Missing_or_empty_requires_python_is_null(string text)
    {
        var m = CoreMetadata.Parse(text);

        Assert.Equal("pkg", m.Name);
        Assert.Equal("1.0", m.Version);
        Assert.Null(m.RequiresPython);
    }

    [Theory]
    [InlineData("Name: pkg\nVersion: 1.0\nRequires-Python: >=3.8,\n  <4\n", ">=3.8, <4")]
    [InlineData("Name: pkg\nVersion: 1.0\nRequires-Python: >=3.8,\n\t<4\nSummary: s\n", ">=3.8, <4")]
    [InlineData("Name: pkg\nVersion: 1.0\nRequires-Python:\n  >=3.10\n", ">=3.10")]
    public void Continuation_lines_belong_to_the_previous_field(string text, string requiresPython)
    {
        var m = CoreMetadata.Parse(text);

        Assert.Equal(requiresPython, m.RequiresPython);
        Assert.Equal("1.0", m.Version);
    }

    [Fact]
    public void Continuation_of_a_multi_line_description_header_does_not_become_a_field()
    {
        const string text = "Name: pkg\nVersion: 1.0\nDescription: intro\n        |Version: 9.9\n        |Name: evil\n        |Requires-Python: <3\n";

        var m = CoreMetadata.Parse(text);

        Assert.Equal("pkg", m.Name);
        Assert.Equal("1.0", m.Version);
        Assert.Null(m.RequiresPython);
    }

    [Fact]
    public void Body_after_the_first_blank_line_is_ignored()
    {
        const string text = "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nDescription-Content-Type: text/markdown\n\n# pkg\n\nVersion: 9.9\nName: evil\nRequires-Python: >=3.12\n";

        var m = CoreMetadata.Parse(text);

        Assert.Equal("pkg", m.Name);
        Assert.Equal("1.0", m.Version);
        Assert.Null(m.RequiresPython);
    }

    [Fact]
    public void Version_only_in_the_body_is_missing()
    {
        const string text = "Name: pkg\n\nVersion: 9.9\n";

        Assert.Throws<InvalidDistributionException>(() => CoreMetadata.Parse(text));
    }

    [Fact]
    public void Crlf_line_endings_are_handled()
    {
        const string text = "Metadata-Version: 2.1\r\nName: pkg\r\nVersion: 1.0\r\nRequires-Python: >=3.8,\r\n <4\r\n\r\nVersion: 9.9\r\n";

        var m = CoreMetadata.Parse(text);

        Assert.Equal("pkg", m.Name);
        Assert.Equal("1.0", m.Version);
        Assert.Equal(">=3.8, <4", m.RequiresPython);
    }

    [Fact]
    public void Field_names_are_case_insensitive()
    {
        var m = CoreMetadata.Parse("name: pkg\nVERSION: 1.0\nrequires-python: >=3.8\n");

        Assert.Equal("pkg", m.Name);
        Assert.Equal("1.0", m.Version);
        Assert.Equal(">=3.8", m.RequiresPython);
    }

    [Fact]
    public void Values_are_trimmed_and_may_contain_colons()
    {
        var m = CoreMetadata.Parse("Name:    pkg   \nVersion:1.0\t\nRequires-Python: >=3.8 \nSummary: a: b\n");

        Assert.Equal("pkg", m.Name);
        Assert.Equal("1.0", m.Version);
        Assert.Equal(">=3.8", m.RequiresPython);
    }

    [Fact]
    public void Lines_without_a_field_name_are_skipped()
    {
        var m = CoreMetadata.Parse("garbage line\n: no name\nName: pkg\nVersion: 1.0\n");

        Assert.Equal("pkg", m.Name);
        Assert.Equal("1.0", m.Version);
    }

    [Fact]
    public void First_occurrence_of_a_repeated_field_wins()
    {
        // As Python's email.message.Message.get() (used by importlib.metadata) does.
        var m = CoreMetadata.Parse("Name: pkg\nVersion: 1.0\nName: other\nVersion: 2.0\n");

        Assert.Equal("pkg", m.Name);
        Assert.Equal("1.0", m.Version);
    }

    [Fact]
    public void Continuation_of_a_repeated_field_does_not_change_the_first_occurrence()
    {
        var m = CoreMetadata.Parse("Name: pkg\nVersion: 1.0\nName: other\n  tail\n");

        Assert.Equal("pkg", m.Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("Version: 1.0\n")]
    [InlineData("Name:\nVersion: 1.0\n")]
    [InlineData("Name:   \nVersion: 1.0\n")]
    [InlineData("Version: 1.0\n\nName: pkg\n")]
    [InlineData("\nName: pkg\nVersion: 1.0\n")]
    [InlineData("Names: pkg\nVersion: 1.0\n")]
    public void Missing_name_throws(string text)
    {
        var ex = Assert.Throws<InvalidDistributionException>(() => CoreMetadata.Parse(text));
        Assert.Contains("Name", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Folded_name_is_trimmed()
    {
        var m = CoreMetadata.Parse("Name:\n  pkg\nVersion: 1.0\n");

        Assert.Equal("pkg", m.Name);
    }

    [Theory]
    [InlineData("Name: pkg\n")]
    [InlineData("Name: pkg\nVersion:\n")]
    [InlineData("Name: pkg\nMetadata-Version: 2.1\n")]
    public void Missing_version_throws(string text)
    {
        var ex = Assert.Throws<InvalidDistributionException>(() => CoreMetadata.Parse(text));
        Assert.Contains("Version", ex.Message, StringComparison.Ordinal);
    }
}
