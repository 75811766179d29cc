namespace Builder.Core.Access;

/// <summary>Wildcard patterns as Builder's settings write them: <c>*</c> any run of characters (also none, also '/'), <c>?</c> one character.</summary>
public static class Glob
{
    /// <summary>Whether <paramref name="text"/> matches <paramref name="pattern"/> (ordinal; lower both for a case-insensitive match).</summary>
    /// <remarks>The classic linear-time wildcard match: on a mismatch after a '*', retry with the star covering one more character.</remarks>
    public static bool Matches(string pattern, string text)
    {
        int p = 0, n = 0, star = -1, mark = 0;
        while (n < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[n]))
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>Whether <paramref name="pattern"/> has a wildcard at all.</summary>
    public static bool HasWildcard(string pattern) => pattern.AsSpan().IndexOfAny('*', '?') >= 0;
}
