using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Builder.Tests.Integration.Docker;

/// <summary>
/// A stand-in for Builder's web process on loopback, with the index's read routes and two routes the relay must never
/// reach (an upload and the build API); records every request that reaches it, with its credentials.
/// </summary>
internal sealed class StandInIndex : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StandInIndex(WebApplication app, Uri url, ConcurrentQueue<string> reached)
    {
        _app = app;
        Url = url;
        Reached = reached;
    }

    public Uri Url { get; }

    /// <summary>"METHOD /path?query auth=... cookie=..." per request, in order.</summary>
    public ConcurrentQueue<string> Reached { get; }

    public static async Task<StandInIndex> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var reached = new ConcurrentQueue<string>();
        app.Use(async (context, next) =>
        {
            var headers = context.Request.Headers;
            reached.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString} auth={headers.Authorization} cookie={headers.Cookie}");
            await next(context);
        });
        app.MapGet("/simple/", () => Results.Text("<a href=\"acme-helper/\">acme-helper</a>", "text/html"));
        app.MapGet("/simple/{project}/", (string project, HttpContext context) =>
            project switch
            {
                "Acme_Helper" => Results.Redirect($"http://{context.Request.Host}/simple/acme-helper/", permanent: true),
                "acme-helper" => Results.Text("page of acme-helper", "application/vnd.pypi.simple.v1+html"),
                _ => Results.NotFound(),
            });
        app.MapGet("/files/{project}/{filename}", (string filename) => Results.Bytes(Encoding.ASCII.GetBytes("bytes of " + filename), "application/octet-stream"));
        app.MapGet("/api/builds/{id}", () => "a build's log");
        app.MapPost("/legacy/", () => "uploaded");
        await app.StartAsync();
        return new StandInIndex(app, new Uri(app.Urls.Single()), reached);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
