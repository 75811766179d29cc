using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Builder.Core.Access;

public enum TokenCheck
{
    Valid,

    /// <summary>Not shaped like a Builder token at all (wrong prefix, length or characters).</summary>
    Malformed,

    /// <summary>Shaped like one, but the checksum does not match: a typo or a truncated copy.</summary>
    BadChecksum,

    /// <summary>A valid token of another Builder instance.</summary>
    OtherInstance,
}

/// <summary>
/// API token secrets: <c>bld_</c> + 256 random bits (43 base62 characters) + this instance's tag (6) + a checksum (6).
/// The fixed prefix and shape let secret scanners recognise a leaked token (<c>bld_[0-9A-Za-z]{55}</c>); the checksum
/// (the first 32 bits of SHA-256 of everything before it, so a scanner can verify it offline) refuses a typo, and the
/// instance tag another instance's token, both without a database lookup. Only <see cref="Hash"/> is stored.
/// </summary>
public static class TokenSecret
{
    public const string Prefix = "bld_";
    public const int Length = 59;

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static readonly System.Buffers.SearchValues<char> Base62Chars = System.Buffers.SearchValues.Create(Alphabet);
    private const int RandomChars = 43;
    private const int TagChars = 6;
    private const int ChecksumChars = 6;

    public static string Create(uint instanceTag)
    {
        var body = Prefix + Base62(RandomNumberGenerator.GetBytes(32), RandomChars) + Base62(BitConverter.GetBytes(instanceTag), TagChars);
        return body + Checksum(body);
    }

    /// <summary>Whether the text could be a token at all (to tell a token from a person's password).</summary>
    public static bool LooksLikeToken(string text) => text.StartsWith(Prefix, StringComparison.Ordinal);

    public static TokenCheck Check(string text, uint instanceTag)
    {
        if (text.Length != Length || !text.StartsWith(Prefix, StringComparison.Ordinal) || text.AsSpan(Prefix.Length).ContainsAnyExcept(Base62Chars))
        {
            return TokenCheck.Malformed;
        }

        var body = text[..^ChecksumChars];
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Checksum(body)), Encoding.ASCII.GetBytes(text[^ChecksumChars..])))
        {
            return TokenCheck.BadChecksum;
        }

        var tag = text.Substring(Prefix.Length + RandomChars, TagChars);
        return tag == Base62(BitConverter.GetBytes(instanceTag), TagChars) ? TokenCheck.Valid : TokenCheck.OtherInstance;
    }

    /// <summary>What is stored: SHA-256 of the whole secret (256 random bits need no slow hash), lower-case hex.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(secret)));

    /// <summary>The part shown in listings to tell tokens apart ("bld_3kQ9"), which says nothing usable about the secret.</summary>
    public static string Hint(string secret) => secret[..(Prefix.Length + 4)];

    private static string Checksum(string body) => Base62(SHA256.HashData(Encoding.ASCII.GetBytes(body)).AsSpan(0, 4).ToArray(), ChecksumChars);

    private static string Base62(byte[] bytes, int width)
    {
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var chars = new char[width];
        for (var i = width - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value % 62)];
            value /= 62;
        }

        return new string(chars);
    }
}
