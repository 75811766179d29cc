using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;

namespace Builder.Web.Http;

/// <summary>
/// A request that failed because the database is away (a restart, a failover, a lost connection) answers 503 with
/// <c>Retry-After</c> and a problem that says so, instead of a bare 500: pip, uv and twine retry a 503, and an operator
/// reading the access log sees what happened. Every other exception stays a 500 problem.
/// </summary>
internal sealed partial class DatabaseUnavailableHandler(IProblemDetailsService problems, ILogger<DatabaseUnavailableHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsDatabaseUnavailable(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }

        LogUnavailable(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
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
                Detail = $"the database is unavailable right now; try again in {RetryAfterSeconds} seconds",
            },
        });
    }

    /// <summary>
    /// A transient database error anywhere in the exception's chain (the provider says so: connection refused or lost,
    /// the server shutting down or starting, a busy database); a constraint violation or a bad query is not one.
    /// </summary>
    internal static bool IsDatabaseUnavailable(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException { IsTransient: true })
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path}: the database is unavailable; answered 503")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string method, string path);
}
