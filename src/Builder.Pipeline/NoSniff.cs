using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Builder.Pipeline;

/// <summary>
/// Every answer of a Builder process (the web's pages, JSON, files, problems, 404s; a worker's health and metrics)
/// carries <c>X-Content-Type-Options: nosniff</c>, so a browser never runs a file or a log as a script or a page because
/// its bytes look like one. Set as the headers are sent: after an exception handler cleared them for a problem, too.
/// </summary>
public static class NoSniff
{
    public static IApplicationBuilder UseNoSniff(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                ((HttpResponse)state).Headers.XContentTypeOptions = "nosniff";
                return Task.CompletedTask;
            }, context.Response);
            return next(context);
        });
}
