using System.Data.Common;
using Builder.Core;
using Microsoft.AspNetCore.Diagnostics;

namespace Builder.Web.Http;

/// <summary>
/// A request that failed because the database or the artifact store is away (a restart, a failover, a lost connection,
/// an S3 server down) answers 503 with <c>Retry-After</c> and a problem that names which, instead of a bare 500 or a cut
/// body: pip, uv and twine retry a 503, and an operator reading the access log sees what happened. Every other
/// exception stays a 500 problem.
/// </summary>
internal sealed partial class UnavailableHandler(IProblemDetailsService problems, ILogger<UnavailableHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        // A transient database error anywhere in the chain (the provider says so: connection refused or lost, the server
        // shutting down or starting, a busy database; a constraint violation or a bad query is not one), or the store away.
        var what = exception.Contains<DbException>(e => e.IsTransient) ? "the database"
            : exception.Contains<Builder.Core.Builds.ArtifactStoreUnavailableException>() ? "the artifact store"
            : null;
        if (what is null || httpContext.Response.HasStarted)
        {
            return false;
        }

        LogUnavailable(logger, exception, httpContext.Request.Method, httpContext.Request.Path, what);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service Unavailable",
                Detail = $"{what} is unavailable right now; try again in {RetryAfterSeconds} seconds",
            },
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path}: {What} is unavailable; answered 503")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string method, string path, string what);
}
