using System.Globalization;
using Builder.Core.Forges;

namespace Builder.Forges;

/// <summary>What the forge clients share when they turn an answer into a <see cref="ForgeCallResult"/>.</summary>
internal static class ForgeResults
{
    /// <summary>
    /// The message with <paramref name="secret"/> blanked out: forges do not echo tokens, but a message is stored in
    /// the build's record, so a token that slipped into an exception's text (a URL, a proxy's error page) stays out of it.
    /// </summary>
    public static ForgeCallResult Scrubbed(ForgeCallResult result, string? secret) =>
        string.IsNullOrEmpty(secret) || !result.Message.Contains(secret, StringComparison.Ordinal)
            ? result
            : result with { Message = result.Message.Replace(secret, "***", StringComparison.Ordinal) };

    /// <summary>
    /// How long a forge asked to wait: <c>Retry-After</c> (seconds or an HTTP date), else a reset time in Unix seconds
    /// (GitHub's <c>x-ratelimit-reset</c>, GitLab's <c>RateLimit-Reset</c>); null when it named neither.
    /// </summary>
    public static TimeSpan? RetryAfter(string? retryAfter, string? resetUnixSeconds, DateTimeOffset now)
    {
        if (!string.IsNullOrWhiteSpace(retryAfter))
        {
            if (long.TryParse(retryAfter.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(retryAfter, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            {
                return Positive(date - now);
            }
        }

        if (!string.IsNullOrWhiteSpace(resetUnixSeconds)
            && long.TryParse(resetUnixSeconds.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var reset))
        {
            return Positive(DateTimeOffset.FromUnixTimeSeconds(reset) - now);
        }

        return null;
    }

    private static TimeSpan Positive(TimeSpan span) => span < TimeSpan.Zero ? TimeSpan.Zero : span;
}
