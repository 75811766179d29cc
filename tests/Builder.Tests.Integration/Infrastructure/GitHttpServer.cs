using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// A private git host on loopback: git's own smart HTTP server (<c>git http-backend</c>, run as a CGI per request)
/// behind HTTP Basic authentication, so clones must present the right credentials — as GitHub and GitLab require
/// for private repositories. Records every request's path and whether it carried credentials.
/// </summary>
internal sealed class GitHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GitHttpServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>The base URL; a repository at {root}/NAME.git clones from {Url}/NAME.git.</summary>
    public string Url { get; }

    public List<string> Requests { get; } = [];

    public static async Task<GitHttpServer> StartAsync(string projectRoot, string user, string password)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
        GitHttpServer? server = null;
        app.Run(async context =>
        {
            var authorized = context.Request.Headers.Authorization.ToString() == expected;
            lock (server!.Requests)
            {
                server.Requests.Add($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString} auth={(authorized ? "ok" : context.Request.Headers.Authorization.Count == 0 ? "none" : "wrong")}");
            }

            if (!authorized)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"git\"";
                return;
            }

            await RunBackendAsync(context, projectRoot, user);
        });
        await app.StartAsync();
        server = new GitHttpServer(app, app.Urls.Single());
        return server;
    }

    /// <summary>RFC 3875 CGI: the request as environment and stdin, the response as "Header: value" lines, a blank line, the body.</summary>
    private static async Task RunBackendAsync(HttpContext context, string projectRoot, string user)
    {
        var info = new ProcessStartInfo("git", "http-backend")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["GIT_PROJECT_ROOT"] = projectRoot;
        info.Environment["GIT_HTTP_EXPORT_ALL"] = "1";
        info.Environment["REQUEST_METHOD"] = context.Request.Method;
        info.Environment["PATH_INFO"] = context.Request.Path.Value;
        info.Environment["QUERY_STRING"] = context.Request.QueryString.HasValue ? context.Request.QueryString.Value![1..] : string.Empty;
        info.Environment["CONTENT_TYPE"] = context.Request.ContentType ?? string.Empty;
        info.Environment["REMOTE_USER"] = user;
        info.Environment["REMOTE_ADDR"] = "127.0.0.1";
        if (context.Request.Headers.ContentEncoding.Count > 0)
        {
            info.Environment["HTTP_CONTENT_ENCODING"] = context.Request.Headers.ContentEncoding.ToString();
        }

        using var git = Process.Start(info)!;
        var stderr = git.StandardError.ReadToEndAsync();
        await context.Request.Body.CopyToAsync(git.StandardInput.BaseStream);
        git.StandardInput.Close();

        var output = git.StandardOutput.BaseStream;
        var head = new MemoryStream();
        var last = new byte[4];
        int b;
        while ((b = output.ReadByte()) >= 0)
        {
            head.WriteByte((byte)b);
            last = [last[1], last[2], last[3], (byte)b];
            if ((last[2] == '\n' && last[3] == '\n') || (last[0] == '\r' && last[1] == '\n' && last[2] == '\r' && last[3] == '\n'))
            {
                break;
            }
        }

        foreach (var line in Encoding.ASCII.GetString(head.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var (name, value) = (line[..colon].Trim(), line[(colon + 1)..].Trim());
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.StatusCode = int.Parse(value.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                context.Response.Headers[name] = value;
            }
        }

        await output.CopyToAsync(context.Response.Body);
        await git.WaitForExitAsync();
        _ = await stderr;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
