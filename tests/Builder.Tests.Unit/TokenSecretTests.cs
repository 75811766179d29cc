using System.Security.Cryptography;
using System.Text;
using Builder.Core.Access;

namespace Builder.Tests.Unit;

public sealed class TokenSecretTests
{
    private const uint Tag = 0x5EED_1234;
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    [Fact]
    public void A_secret_is_bld_and_55_base62_characters_that_a_scanner_can_recognise()
    {
        var secrets = Enumerable.Range(0, 200).Select(_ => TokenSecret.Create(Tag)).ToList();

        Assert.All(secrets, s => Assert.Matches("^bld_[0-9A-Za-z]{55}$", s));
        Assert.All(secrets, s => Assert.Equal(TokenSecret.Length, s.Length));
        Assert.Equal(200, secrets.Distinct(StringComparer.Ordinal).Count());
        Assert.All(secrets, s => Assert.Equal(TokenCheck.Valid, TokenSecret.Check(s, Tag)));
        Assert.All(secrets, s => Assert.True(TokenSecret.LooksLikeToken(s)));
        // The random part varies in every position across secrets (no fixed padding beyond the prefix and tag).
        for (var i = 4; i < 4 + 43; i++)
        {
            Assert.True(secrets.Select(s => s[i]).Distinct().Count() > 10, $"position {i} hardly varies");
        }
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(uint.MaxValue)]
    [InlineData(0x8000_0000u)]
    public void Every_instance_tag_fits_and_is_told_apart(uint tag)
    {
        var secret = TokenSecret.Create(tag);

        Assert.Equal(TokenCheck.Valid, TokenSecret.Check(secret, tag));
        Assert.Equal(TokenCheck.OtherInstance, TokenSecret.Check(secret, tag ^ 1));
        Assert.Equal(TokenCheck.OtherInstance, TokenSecret.Check(secret, unchecked(tag + 0x0100_0000u)));
        // Every token of one instance carries the same tag characters.
        Assert.Equal(secret[47..53], TokenSecret.Create(tag)[47..53]);
    }

    [Fact]
    public void Changing_any_one_character_after_the_prefix_breaks_the_checksum()
    {
        var secret = TokenSecret.Create(Tag);
        var checkedCount = 0;
        for (var i = TokenSecret.Prefix.Length; i < secret.Length; i++)
        {
            foreach (var replacement in new[] { Base62[(Base62.IndexOf(secret[i], StringComparison.Ordinal) + 1) % 62], Base62[(Base62.IndexOf(secret[i], StringComparison.Ordinal) + 31) % 62] })
            {
                var typo = secret[..i] + replacement + secret[(i + 1)..];
                Assert.Equal(TokenCheck.BadChecksum, TokenSecret.Check(typo, Tag));
                checkedCount++;
            }
        }

        Assert.Equal(55 * 2, checkedCount);
        // Two adjacent characters swapped (a common typo) too.
        var swapped = secret[..10] + secret[11] + secret[10] + secret[12..];
        Assert.Equal(secret[10] == secret[11] ? TokenCheck.Valid : TokenCheck.BadChecksum, TokenSecret.Check(swapped, Tag));
    }

    [Theory]
    [InlineData("")]
    [InlineData("bld_")]
    [InlineData("BLD_0123456789012345678901234567890123456789012345678901234")]
    [InlineData("ghp_0123456789012345678901234567890123456789012345678901234")]
    [InlineData("bld-0123456789012345678901234567890123456789012345678901234")]
    [InlineData("bld_012345678901234567890123456789012345678901234567890123")]
    [InlineData("bld_01234567890123456789012345678901234567890123456789012345")]
    [InlineData("bld_0123456789012345678901234567890123456789012345678901_34")]
    [InlineData("bld_0123456789012345678901234567890123456789012345678901-34")]
    [InlineData("bld_0123456789012345678901234567890123456789012345678901 34")]
    [InlineData("bld_01234567890123456789012345678901234567890123456789012é4")]
    public void Anything_not_shaped_like_a_token_is_malformed(string text) =>
        Assert.Equal(TokenCheck.Malformed, TokenSecret.Check(text, Tag));

    [Fact]
    public void A_valid_token_with_trailing_or_leading_whitespace_is_not_valid()
    {
        var secret = TokenSecret.Create(Tag);

        Assert.Equal(TokenCheck.Malformed, TokenSecret.Check(secret + "\n", Tag));
        Assert.Equal(TokenCheck.Malformed, TokenSecret.Check(" " + secret, Tag));
        Assert.Equal(TokenCheck.Malformed, TokenSecret.Check(secret[..^1], Tag));
    }

    [Fact]
    public void Only_the_sha256_is_stored_and_the_hint_is_the_first_eight_characters()
    {
        var secret = TokenSecret.Create(Tag);

        var hash = TokenSecret.Hash(secret);

        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(secret))), hash);
        Assert.Equal(hash, TokenSecret.Hash(secret));
        Assert.NotEqual(hash, TokenSecret.Hash(TokenSecret.Create(Tag)));
        Assert.DoesNotContain(secret[4..], hash, StringComparison.Ordinal);
        Assert.Equal(secret[..8], TokenSecret.Hint(secret));
        Assert.StartsWith("bld_", TokenSecret.Hint(secret), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bld_anything", true)]
    [InlineData("bld_", true)]
    [InlineData("hunter2", false)]
    [InlineData("BLD_x", false)]
    [InlineData("", false)]
    public void Tokens_are_told_from_passwords_by_their_prefix(string text, bool looksLikeToken) =>
        Assert.Equal(looksLikeToken, TokenSecret.LooksLikeToken(text));
}
