using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Builder.Web.Upload;

/// <summary>
/// An upload refused: problem details whose <c>detail</c> says what to fix, and the same text as the HTTP reason phrase.
/// The legacy upload API passes messages in the status line (Warehouse's <c>_exc_with_message</c>): twine prints only
/// <c>response.reason</c> ("HTTPError: 400 Bad Request from URL" then the reason), poetry prints it too, and both look
/// for "already exist" in it for <c>--skip-existing</c>.
/// </summary>
internal sealed class UploadProblem(int statusCode, string detail) : IResult
{
    private const int MaxReasonLength = 512;

    public int StatusCode => statusCode;

    public string Detail => detail;

    public string? WwwAuthenticate { get; init; }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        if (WwwAuthenticate is not null)
        {
            httpContext.Response.Headers.WWWAuthenticate = WwwAuthenticate;
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
