using Builder.Core;

namespace Builder.Tests.Unit;

public sealed class StoredTextTests
{
    [Theory]
    [InlineData(null, 5, null)]
    [InlineData("v1.0", 5, "v1.0")]
    [InlineData("v1.0.0", 6, "v1.0.0")]
    [InlineData("v1.0.0.1", 6, "v1.0.…")]
    public void Cut_keeps_short_text_and_marks_where_long_text_was_cut(string? text, int limit, string? expected) =>
        Assert.Equal(expected, StoredText.Cut(text, limit));

    [Fact]
    public void Cut_never_splits_a_surrogate_pair()
    {
        // "ab" and U+1F600 (two UTF-16 units): cut to 4, the emoji would be split after its high surrogate.
        var cut = StoredText.Cut("ab\U0001F600cd", 4)!;

        Assert.Equal("ab…", cut);
        Assert.DoesNotContain(cut, char.IsSurrogate);
    }

    [Fact]
    public void Line_shows_control_characters_as_replacement_characters_so_text_stays_one_line()
    {
        Assert.Equal("acme/\uFFFD\uFFFDforged log line\uFFFD", StoredText.Line("acme/\r\nforged log line\0", 100));
        Assert.Equal("plain", StoredText.Line("plain", 100));
        Assert.Equal("ab\uFFFD…", StoredText.Line("ab\ncdef", 4));
    }
}
