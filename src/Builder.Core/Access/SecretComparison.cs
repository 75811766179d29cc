using System.Security.Cryptography;
using System.Text;

namespace Builder.Core.Access;

/// <summary>Compares a configured secret with one a client sent, in constant time.</summary>
public static class SecretComparison
{
    /// <summary>
    /// Whether <paramref name="given"/> is <paramref name="expected"/>: compared as SHA-256 digests, so the time says nothing
    /// of either length. An empty expected secret matches nothing.
    /// </summary>
    public static bool Matches(string? expected, string? given) =>
        !string.IsNullOrEmpty(expected) && given is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));
}
