using Builder.Pipeline;

namespace Builder.Web.Http;

/// <summary>
/// What Builder's answers tell browsers about themselves, in one place: every answer (pages, JSON, files, problems, 404s,
/// redirects) carries <c>X-Content-Type-Options: nosniff</c>, so a browser never runs a file or a log as a script or a
/// page because its bytes look like one; every HTML page (the UI's and the index's <c>/simple/</c> pages) carries the
/// frame and content policies of <see cref="ApplyPagePolicies"/>.
/// </summary>
internal static class SecurityHeaders
{
    /// <summary>
    /// Scripts, styles and connections from Builder itself only (no inline script or style, nothing from another
    /// origin: a package description or a log line that gets markup past the escaping still runs nothing), no framing
    /// by any page, forms posting only to Builder.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Sets <c>nosniff</c> on every answer (<see cref="NoSniff"/>, which a worker's host uses too).</summary>
    public static IApplicationBuilder UseBuilderSecurityHeaders(this IApplicationBuilder app) => app.UseNoSniff();

    /// <summary>An HTML page's frame and content policies: <see cref="ContentSecurityPolicy"/> and, for browsers without <c>frame-ancestors</c>, <c>X-Frame-Options: DENY</c>.</summary>
    public static void ApplyPagePolicies(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XFrameOptions = "DENY";
    }
}
