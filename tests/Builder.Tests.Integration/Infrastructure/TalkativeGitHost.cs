using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// An internal host that is not a git server, on loopback, as a clone URL pointed at it meets it: each answer carries
/// <see cref="Marker"/> wherever libgit2 might quote it. <c>{Url}/err/...</c> answers git's protocol with an ERR line,
/// <c>{Url}/page/...</c> a page whose content type is not git's, <c>{Url}/forbidden/...</c> a 403 error page. Counts
/// the requests it answered.
/// </summary>
internal sealed class TalkativeGitHost : IAsyncDisposable
{
    public const string Marker = "INTERNAL-ANSWER-5f3e9c";

    private readonly WebApplication _app;
    private int _requests;

    private TalkativeGitHost(WebApplication app)
    {
        _app = app;
        Url = app.Urls.Single();
    }

    public string Url { get; }

    public int Requests => Volatile.Read(ref _requests);

    public static async Task<TalkativeGitHost> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        TalkativeGitHost? host = null;
        app.Run(async context =>
        {
            Interlocked.Increment(ref host!._requests);
            var path = context.Request.Path.Value ?? string.Empty;
            if (path.StartsWith("/err/", StringComparison.Ordinal))
            {
                // git's smart HTTP: the service line, a flush, then an error in place of the refs.
                context.Response.ContentType = "application/x-git-upload-pack-advertisement";
                await context.Response.Body.WriteAsync(Encoding.ASCII.GetBytes(Pkt("# service=git-upload-pack\n") + "0000" + Pkt($"ERR {Marker}: database password is hunter2\n")));
            }
            else if (path.StartsWith("/page/", StringComparison.Ordinal))
            {
                context.Response.Headers.ContentType = $"text/html; note={Marker}";
                await context.Response.WriteAsync($"<html><body>{Marker}: the metadata of this instance</body></html>");
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                context.Response.ContentType = "text/html";
                await context.Response.WriteAsync($"<html><body>{Marker}: forbidden</body></html>");
            }
        });
        await app.StartAsync();
        host = new TalkativeGitHost(app);
        return host;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    /// <summary>A pkt-line: four hex digits of length (their own included), then the data.</summary>
    private static string Pkt(string data) => (data.Length + 4).ToString("x4", System.Globalization.CultureInfo.InvariantCulture) + data;
}
