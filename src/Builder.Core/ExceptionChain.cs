namespace Builder.Core;

public static class ExceptionChain
{
    /// <summary>Whether the exception, or one it wraps (its <see cref="Exception.InnerException"/> chain), is a <typeparamref name="T"/> that satisfies <paramref name="predicate"/>.</summary>
    public static bool Contains<T>(this Exception exception, Func<T, bool>? predicate = null)
        where T : Exception
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is T match && (predicate is null || predicate(match)))
            {
                return true;
            }
        }

        return false;
    }
}
