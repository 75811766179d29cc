namespace Builder.Web.Ui;

/// <summary>
/// The web UI's session cookie: the secret of a <see cref="Builder.Access.SessionService"/> session. HttpOnly (no script
/// reads it), SameSite=Lax (other sites' forms and scripts do not carry it), Secure when the request came over HTTPS
/// (directly or through a known proxy's X-Forwarded-Proto), ending with the session.
/// </summary>
internal static class SessionCookie
{
    public const string Name = "builder_session";

    public static string? Read(HttpRequest request) => request.Cookies[Name] is { Length: > 0 } value ? value : null;

    public static void Write(HttpContext context, string secret, DateTimeOffset expires) =>
        context.Response.Cookies.Append(Name, secret, Options(context, expires));

    public static void Delete(HttpContext context) =>
        context.Response.Cookies.Delete(Name, Options(context, null));

    private static CookieOptions Options(HttpContext context, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Secure = context.Request.IsHttps,
        Path = "/",
        Expires = expires,
        IsEssential = true,
    };
}

/// <summary>
/// Endpoint metadata of the UI's pages: their forms are checked for anti-forgery tokens, so the session cookie may
/// authenticate their POSTs. Everywhere else the cookie counts for GET and HEAD only: a JSON API POST needs a token or
/// a password in the Authorization header, so no other site can make a signed-in browser send one.
/// </summary>
internal sealed class UiForms
{
    public static UiForms Instance { get; } = new();
}
