using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Builder.Core.Packaging;

/// <summary>
/// BLAKE2b (RFC 7693), unkeyed, fed incrementally. .NET has no BLAKE2; uploads need it because twine and poetry send
/// <c>blake2_256_digest</c> (BLAKE2b with a 32-byte output) and Warehouse's upload API checks it.
/// </summary>
public sealed class Blake2b
{
    private const int BlockBytes = 128;

    // RFC 7693 §2.6: the SHA-512 initialization vector.
    private static readonly ulong[] IV =
    [
        0x6A09E667F3BCC908UL, 0xBB67AE8584CAA73BUL, 0x3C6EF372FE94F82BUL, 0xA54FF53A5F1D36F1UL,
        0x510E527FADE682D1UL, 0x9B05688C2B3E6C1FUL, 0x1F83D9ABFB41BD6BUL, 0x5BE0CD19137E2179UL,
    ];

    // RFC 7693 §2.7: message word schedule; rounds 10 and 11 repeat rounds 0 and 1.
    private static readonly byte[] Sigma =
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
        11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
        7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
        9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
        2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
        12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
        13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
        6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
        10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
    ];

    private readonly ulong[] _h = new ulong[8];
    private readonly byte[] _buffer = new byte[BlockBytes];
    private readonly int _outputBytes;
    private int _buffered;
    private ulong _t0;
    private ulong _t1;

    /// <param name="outputBytes">digest length, 1 to 64 bytes (32 for <c>blake2_256</c>, 64 for BLAKE2b-512).</param>
    public Blake2b(int outputBytes = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(outputBytes, 64);
        _outputBytes = outputBytes;
        Reset();
    }

    public int HashLengthInBytes => _outputBytes;

    /// <summary>One-shot digest of <paramref name="data"/>.</summary>
    public static byte[] HashData(ReadOnlySpan<byte> data, int outputBytes = 32)
    {
        var hash = new Blake2b(outputBytes);
        hash.AppendData(data);
        return hash.GetHashAndReset();
    }

    public void AppendData(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        // The last block is compressed with the final flag, so a full buffer waits until more data proves it is not last.
        if (_buffered > 0)
        {
            var take = Math.Min(BlockBytes - _buffered, data.Length);
            data[..take].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += take;
            data = data[take..];
            if (data.IsEmpty)
            {
                return;
            }

            Increment(BlockBytes);
            Compress(_buffer, last: false);
            _buffered = 0;
        }

        while (data.Length > BlockBytes)
        {
            Increment(BlockBytes);
            Compress(data[..BlockBytes], last: false);
            data = data[BlockBytes..];
        }

        data.CopyTo(_buffer);
        _buffered = data.Length;
    }

    /// <summary>The digest of everything appended since the last reset; then starts over.</summary>
    public byte[] GetHashAndReset()
    {
        Increment((ulong)_buffered);
        _buffer.AsSpan(_buffered).Clear();
        Compress(_buffer, last: true);

        Span<byte> full = stackalloc byte[64];
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(full[(i * 8)..], _h[i]);
        }

        var result = full[.._outputBytes].ToArray();
        Reset();
        return result;
    }

    private void Reset()
    {
        IV.CopyTo(_h, 0);
        // Parameter block (RFC 7693 §2.5): digest length, key length 0, fanout 1, depth 1.
        _h[0] ^= 0x01010000UL ^ (ulong)_outputBytes;
        _t0 = 0;
        _t1 = 0;
        _buffered = 0;
        _buffer.AsSpan().Clear();
    }

    // The offset counter is 128 bits (t0 low, t1 high).
    private void Increment(ulong bytes)
    {
        _t0 += bytes;
        if (_t0 < bytes)
        {
            _t1++;
        }
    }

    // RFC 7693 §3.2: the compression function F.
    private void Compress(ReadOnlySpan<byte> block, bool last)
    {
        Span<ulong> m = stackalloc ulong[16];
        for (var i = 0; i < 16; i++)
        {
            m[i] = BinaryPrimitives.ReadUInt64LittleEndian(block[(i * 8)..]);
        }

        ulong v0 = _h[0], v1 = _h[1], v2 = _h[2], v3 = _h[3], v4 = _h[4], v5 = _h[5], v6 = _h[6], v7 = _h[7];
        ulong v8 = IV[0], v9 = IV[1], v10 = IV[2], v11 = IV[3];
        var v12 = IV[4] ^ _t0;
        var v13 = IV[5] ^ _t1;
        var v14 = last ? ~IV[6] : IV[6];
        var v15 = IV[7];

        for (var round = 0; round < 12; round++)
        {
            var s = Sigma.AsSpan(round * 16, 16);
            G(ref v0, ref v4, ref v8, ref v12, m[s[0]], m[s[1]]);
            G(ref v1, ref v5, ref v9, ref v13, m[s[2]], m[s[3]]);
            G(ref v2, ref v6, ref v10, ref v14, m[s[4]], m[s[5]]);
            G(ref v3, ref v7, ref v11, ref v15, m[s[6]], m[s[7]]);
            G(ref v0, ref v5, ref v10, ref v15, m[s[8]], m[s[9]]);
            G(ref v1, ref v6, ref v11, ref v12, m[s[10]], m[s[11]]);
            G(ref v2, ref v7, ref v8, ref v13, m[s[12]], m[s[13]]);
            G(ref v3, ref v4, ref v9, ref v14, m[s[14]], m[s[15]]);
        }

        _h[0] ^= v0 ^ v8;
        _h[1] ^= v1 ^ v9;
        _h[2] ^= v2 ^ v10;
        _h[3] ^= v3 ^ v11;
        _h[4] ^= v4 ^ v12;
        _h[5] ^= v5 ^ v13;
        _h[6] ^= v6 ^ v14;
        _h[7] ^= v7 ^ v15;
    }

    // RFC 7693 §3.1: the mixing function G with rotations 32, 24, 16, 63.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G(ref ulong a, ref ulong b, ref ulong c, ref ulong d, ulong x, ulong y)
    {
        a = a + b + x;
        d = BitOperations.RotateRight(d ^ a, 32);
        c += d;
        b = BitOperations.RotateRight(b ^ c, 24);
        a = a + b + y;
        d = BitOperations.RotateRight(d ^ a, 16);
        c += d;
        b = BitOperations.RotateRight(b ^ c, 63);
    }
}
