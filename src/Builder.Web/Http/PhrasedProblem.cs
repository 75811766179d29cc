using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Builder.Web.Http;

/// <summary>
/// A refusal as problem details whose <c>detail</c> says what to fix, with the same text as the HTTP reason phrase.
/// Python's package clients print only the status line: the legacy upload API passes messages there (Warehouse's
/// <c>_exc_with_message</c>; twine prints <c>response.reason</c>, poetry too, and both look for "already exist" in it for
/// <c>--skip-existing</c>), and pip reports "401 Client Error: {reason} for url: ...".
/// </summary>
internal sealed class PhrasedProblem(int statusCode, string detail) : IResult
{
    private const int MaxReasonLength = 512;

    public int StatusCode => statusCode;

    public string Detail => detail;

    public string? WwwAuthenticate { get; init; }

    /// <summary>Seconds for a Retry-After header (429, 503).</summary>
    public int? RetryAfterSeconds { get; init; }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        if (WwwAuthenticate is not null)
        {
            httpContext.Response.Headers.WWWAuthenticate = WwwAuthenticate;
        }

        if (RetryAfterSeconds is { } retryAfter)
        {
            httpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        httpContext.Response.StatusCode = statusCode;
        if (httpContext.Features.Get<IHttpResponseFeature>() is { } response)
        {
            response.ReasonPhrase = ReasonPhrase(detail);
        }

        await TypedResults.Problem(statusCode: statusCode, detail: detail).ExecuteAsync(httpContext);
    }

    /// <summary>RFC 9112 §4: reason-phrase is visible ASCII and spaces; anything else becomes '?', and it stays one short line.</summary>
    internal static string ReasonPhrase(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxReasonLength));
        foreach (var c in text)
        {
            if (builder.Length == MaxReasonLength)
            {
                break;
            }

            builder.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        return builder.ToString();
    }
}
