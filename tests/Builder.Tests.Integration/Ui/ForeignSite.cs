using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// Another site on loopback, as a page a person opens while their browser holds credentials for Builder: a Kestrel on
/// its own address and port (<c>127.0.0.2</c> is another site than Builder's <c>127.0.0.1</c>; another port of
/// <c>127.0.0.1</c> is the same site but another origin) serving the pages and files it is given.
/// </summary>
internal sealed class ForeignSite : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (byte[] Body, string ContentType)> _content;

    private ForeignSite(WebApplication app, ConcurrentDictionary<string, (byte[] Body, string ContentType)> content)
    {
        _app = app;
        _content = content;
        Url = app.Urls.Single();
    }

    /// <summary>Its origin, <c>http://ADDRESS:PORT</c>.</summary>
    public string Url { get; }

    public static async Task<ForeignSite> StartAsync(string address)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{address}:0");
        var app = builder.Build();
        var content = new ConcurrentDictionary<string, (byte[] Body, string ContentType)>(StringComparer.Ordinal);
        app.Run(context =>
        {
            if (!content.TryGetValue(context.Request.Path.Value ?? "/", out var served))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            context.Response.ContentType = served.ContentType;
            return context.Response.Body.WriteAsync(served.Body).AsTask();
        });
        await app.StartAsync();
        return new ForeignSite(app, content);
    }

    /// <summary>Serves <paramref name="body"/> at <paramref name="path"/> from now on.</summary>
    public void Serve(string path, byte[] body, string contentType) => _content[path] = (body, contentType);

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
