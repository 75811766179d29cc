using System.Text;
using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

public sealed class Blake2bTests
{
    private static byte[] Pattern(int length) => Enumerable.Range(0, length).Select(i => (byte)(i % 251)).ToArray();

    [Fact]
    public void Abc_matches_the_rfc_7693_appendix_a_blake2b_512_vector()
    {
        const string expected =
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1" +
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923";
        Assert.Equal(expected, Convert.ToHexStringLower(Blake2b.HashData(Encoding.ASCII.GetBytes("abc"), 64)));
    }

    [Fact]
    public void Empty_input_gives_the_known_blake2b_256_digest()
    {
        Assert.Equal("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8", Convert.ToHexStringLower(Blake2b.HashData([])));
    }

    // Expected values from CPython's hashlib.blake2b(data, digest_size=32), data[i] = i % 251: around the block edges.
    [Theory]
    [InlineData(127, "f2fe67ff342e21b8f45e8f2e0bcd1d9243245d50ee6c78042e9c491388791c72")]
    [InlineData(128, "c3582f71ebb2be66fa5dd750f80baae97554f3b015663c8be377cfcb2488c1d1")]
    [InlineData(129, "f7f3c46ba2564ff4c4c162da1f5b605f9f1c4aa6a20652a9f9a337c1a2f5b9c9")]
    [InlineData(256, "582f782226018ec33076bd8d1c42413530ac7e1126260ffc0f306ba3befc3f24")]
    [InlineData(1000, "b372d0608f720c8c3dd41e9c8eecb10143b41abe520b616607e754bf79c08331")]
    public void Blake2b_256_matches_hashlib_around_block_boundaries(int length, string expected)
    {
        Assert.Equal(expected, Convert.ToHexStringLower(Blake2b.HashData(Pattern(length))));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(300)]
    public void Feeding_in_pieces_gives_the_one_shot_digest_and_the_hash_resets(int piece)
    {
        var data = Pattern(1000);
        var hash = new Blake2b();
        for (var offset = 0; offset < data.Length; offset += piece)
        {
            hash.AppendData(data.AsSpan(offset, Math.Min(piece, data.Length - offset)));
        }

        Assert.Equal("b372d0608f720c8c3dd41e9c8eecb10143b41abe520b616607e754bf79c08331", Convert.ToHexStringLower(hash.GetHashAndReset()));
        Assert.Equal("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8", Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void Output_length_outside_1_to_64_is_refused(int bytes)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Blake2b(bytes));
    }
}
