using System.Security.Cryptography;
using System.Text;

namespace Builder.Core.Webhooks;

/// <summary>
/// How forges prove a delivery came from them: GitHub's X-Hub-Signature-256 ("sha256=" + hex HMAC-SHA256 of the raw
/// request body, keyed by the webhook secret), Gitea's X-Gitea-Signature (the same hex, without the prefix), and
/// GitLab's X-Gitlab-Token (the secret itself). Every comparison takes constant time.
/// </summary>
public static class WebhookSignature
{
    private const string Prefix = "sha256=";

    public static string Compute(string secret, ReadOnlySpan<byte> body) =>
        Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static bool IsValid(string secret, ReadOnlySpan<byte> body, string? header)
    {
        if (string.IsNullOrEmpty(secret) || header is null || !header.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(Prefix.Length));
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        // Constant-time: the comparison must not tell an attacker how many leading bytes matched.
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>Gitea and Forgejo: X-Gitea-Signature is the hex HMAC-SHA256 of the body, without GitHub's prefix.</summary>
    public static bool IsValidGitea(string secret, ReadOnlySpan<byte> body, string? header) =>
        header is not null && !header.StartsWith(Prefix, StringComparison.Ordinal) && IsValid(secret, body, Prefix + header);

    /// <summary>GitLab: X-Gitlab-Token carries the secret itself; compared as SHA-256 digests so the time says nothing of either length.</summary>
    public static bool IsValidToken(string secret, string? header) => Access.SecretComparison.Matches(secret, header);

    public static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
}
