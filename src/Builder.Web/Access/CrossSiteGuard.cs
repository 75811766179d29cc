using Builder.Core.Configuration;
using Builder.Web.Http;
using Microsoft.Extensions.Options;

namespace Builder.Web.Access;

/// <summary>
/// Refuses state-changing requests (every method but GET, HEAD, OPTIONS and TRACE, on every route: the JSON API,
/// <c>/legacy/</c>, the UI's forms) that a browser sent on behalf of another site. A browser sends the credentials it
/// holds for Builder with such a request: HTTP Basic credentials a person typed into its prompt (Builder challenges
/// browsers too) go with any request to Builder, a form's or a script's from any page; so the upload or a body-less
/// admin POST (unyank, retry) would act as that person. Browsers say where a request comes from (Fetch Metadata,
/// <c>Sec-Fetch-Site</c>; older ones <c>Origin</c> only); pip, twine, poetry, uv and the forges' webhooks send neither
/// and are never refused here. 403 with the reason, before any credential is checked.
/// </summary>
internal sealed partial class CrossSiteGuard(RequestDelegate next, IOptions<PublicUrlOptions> publicUrl, ILogger<CrossSiteGuard> logger)
{
    public const string SecFetchSite = "Sec-Fetch-Site";
    public const string RefusalPrefix = "cross-site request refused: ";

    private readonly Uri? _publicUrl = publicUrl.Value.BaseUri;

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (IsSafe(request.Method) || Refusal(request, _publicUrl) is not { } reason)
        {
            return next(context);
        }

        LogRefused(logger, request.Method, request.Path.Value, context.Connection.RemoteIpAddress?.ToString(), reason);
        return new PhrasedProblem(StatusCodes.Status403Forbidden, RefusalPrefix + reason).ExecuteAsync(context);
    }

    /// <summary>
    /// Why a state-changing request is refused, or null. Fetch Metadata first: <c>cross-site</c> is refused;
    /// <c>same-site</c> (another origin of this site: another port, a sibling subdomain) is refused unless its Origin is
    /// Builder's own; <c>same-origin</c> and <c>none</c> (the person's own action) pass. Without it, an Origin other than
    /// Builder's own is refused, and <c>Origin: null</c> (a page without an origin: a sandboxed frame, a file) is refused
    /// when the request carries credentials or cookies. No Origin and no Fetch Metadata: not a browser's request.
    /// </summary>
    internal static string? Refusal(HttpRequest request, Uri? publicUrl)
    {
        var headers = request.Headers;
        var origin = headers.Origin.ToString();
        switch (headers[SecFetchSite].ToString())
        {
            case "same-origin" or "none":
                return null;
            case "cross-site":
                return $"the browser says another site sent it (Sec-Fetch-Site: cross-site, Origin: {Shown(origin)})";
            case "same-site":
                return IsOwnOrigin(origin, request, publicUrl) ? null
                    : $"the browser says another origin of this site sent it (Sec-Fetch-Site: same-site, Origin: {Shown(origin)}), not {OwnOrigin(request)}";
        }

        if (origin.Length == 0)
        {
            return null;
        }

        if (origin == "null")
        {
            return headers.Authorization.Count > 0 || headers.Cookie.Count > 0
                ? "Origin: null (a page without an origin of its own: a sandboxed frame, a file) with credentials"
                : null;
        }

        return IsOwnOrigin(origin, request, publicUrl) ? null
            : $"Origin {origin} is not this server's ({OwnOrigin(request)}); behind a reverse proxy, pass the browser's Host header on (or set Builder__PublicUrl)";
    }

    private static bool IsSafe(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    /// <summary>
    /// Whether <paramref name="origin"/> is the request's own (its scheme, through a known proxy's X-Forwarded-Proto, and
    /// its Host) or <c>Builder:PublicUrl</c>'s: same scheme, host and port (a default port written or not).
    /// </summary>
    private static bool IsOwnOrigin(string origin, HttpRequest request, Uri? publicUrl) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && ((Uri.TryCreate(OwnOrigin(request), UriKind.Absolute, out var own) && SameOrigin(uri, own))
            || (publicUrl is not null && SameOrigin(uri, publicUrl)));

    private static bool SameOrigin(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private static string OwnOrigin(HttpRequest request) => $"{request.Scheme}://{request.Host.ToUriComponent()}";

    private static string Shown(string origin) => origin.Length == 0 ? "(none)" : origin;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cross-site {Method} {Path} from {Address} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, string? path, string? address, string reason);
}
