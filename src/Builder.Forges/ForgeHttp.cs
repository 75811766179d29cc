using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Builder.Core.Forges;

namespace Builder.Forges;

/// <summary>A forge's answer to one HTTP call: its status, body and headers, or the fault that kept it from answering.</summary>
internal sealed record ForgeHttpAnswer(int Status, string Body, HttpResponseHeaders? Headers, ForgeCallResult? Fault)
{
    private static readonly string[] MessageFields = ["message", "error", "error_description"];

    public bool IsSuccess => Fault is null && Status is >= 200 and < 300;

    /// <summary>The forge's own words: <c>message</c> (a string, or GitLab's field errors as JSON), <c>error</c>, else the start of the body.</summary>
    public string Message
    {
        get
        {
            try
            {
                using var json = JsonDocument.Parse(Body);
                if (json.RootElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var name in MessageFields)
                    {
                        if (json.RootElement.TryGetProperty(name, out var value))
                        {
                            return value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
                        }
                    }
                }
            }
            catch (JsonException)
            {
                // Not JSON: a proxy's error page, say; its start is all that helps.
            }

            var text = Body.Trim();
            return text.Length == 0 ? ((HttpStatusCode)Status).ToString() : ForgeText.Truncate(text, 200);
        }
    }

    public string? Header(string name) =>
        Headers is not null && Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}

/// <summary>The plain-HTTP forge clients' (GitLab's, Gitea's) one way to call and to judge an answer.</summary>
internal static class ForgeHttp
{
    /// <summary>Sends within <paramref name="timeout"/>; a network fault or a timeout comes back as a retryable <see cref="ForgeHttpAnswer.Fault"/>.</summary>
    public static async Task<ForgeHttpAnswer> SendAsync(HttpClient http, HttpRequestMessage request, TimeSpan timeout, string forge, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, deadline.Token);
            var body = await response.Content.ReadAsStringAsync(deadline.Token);
            return new ForgeHttpAnswer((int)response.StatusCode, body, response.Headers, null);
        }
        catch (HttpRequestException ex)
        {
            return new ForgeHttpAnswer(0, string.Empty, null, ForgeCallResult.Later($"{forge} could not be reached: {ex.Message}"));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ForgeHttpAnswer(0, string.Empty, null, ForgeCallResult.Later($"{forge} did not answer within {timeout.TotalSeconds:0} s"));
        }
    }

    /// <summary>
    /// A failed answer as a result: a rate limit (429, or 403 with Retry-After), 408 and 5xx are worth trying later
    /// (after Retry-After or RateLimit-Reset when named); any other 4xx is a refusal.
    /// </summary>
    public static ForgeCallResult Failure(ForgeHttpAnswer answer, string forge, DateTimeOffset now)
    {
        if (answer.Fault is { } fault)
        {
            return fault;
        }

        var message = $"{forge} answered {answer.Status}: {answer.Message}";
        var retryAfter = ForgeResults.RetryAfter(answer.Header("Retry-After"), answer.Header("RateLimit-Reset"), now);
        var later = answer.Status is 429 or 408 or >= 500 || (answer.Status == 403 && answer.Header("Retry-After") is not null);
        return later ? ForgeCallResult.Later(message, retryAfter) : ForgeCallResult.Refused(message);
    }
}
