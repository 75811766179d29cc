using Microsoft.AspNetCore.Http.HttpResults;

namespace Builder.Web.Http;

/// <summary>
/// The one way a route answers a refusal: RFC 9457 problem details (<c>application/problem+json</c>) whose
/// <c>detail</c> is a sentence naming the problem. Refusals Python's upload clients must read in the status line are
/// <see cref="PhrasedProblem"/>s; "who are you" and "not yours" are <see cref="Access.RequestPrincipal"/>'s.
/// </summary>
public static class Problems
{
    public static ProblemHttpResult Of(int statusCode, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(statusCode: statusCode, detail: detail, extensions: extensions);

    public static ProblemHttpResult BadRequest(string detail) => Of(StatusCodes.Status400BadRequest, detail);

    public static ProblemHttpResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, detail);
}
