using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Builder.Tests.Integration.Provenance;

/// <summary>
/// The three things `verify` reads from an index, on loopback, as provenance-format.md says Builder serves them: PEP 691
/// project pages whose files carry <c>provenance</c> (relative to the page, absolute, or null), the integrity route
/// (PEP 740 provenance objects, 406 for another Accept) and the CA at /api/provenance/ca.pem. Pages and provenance need
/// the token as pip sends it (HTTP Basic, user <c>__token__</c>); the CA needs nothing.
/// </summary>
internal sealed class ProvenanceIndexServer : IAsyncDisposable
{
    private const string IntegrityType = "application/vnd.pypi.integrity.v1+json";

    private readonly WebApplication _app;
    private readonly string _authorization;
    private readonly Dictionary<string, JsonArray> _pages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _provenance = new(StringComparer.Ordinal);

    private ProvenanceIndexServer(WebApplication app, string token, string caPem)
    {
        _app = app;
        _authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("__token__:" + token));
        CaPem = caPem;
        Url = app.Urls.Single().TrimEnd('/') + "/";
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public string Url { get; }

    public string CaPem { get; set; }

    /// <summary>The Authorization headers of the requests for pages and provenance, in order.</summary>
    public List<string?> Authorizations { get; } = [];

    public static async Task<ProvenanceIndexServer> StartAsync(string token, string caPem)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        ProvenanceIndexServer? server = null;
        app.Run(context => server!.HandleAsync(context));
        await app.StartAsync();
        server = new ProvenanceIndexServer(app, token, caPem);
        return server;
    }

    /// <summary>
    /// Lists <paramref name="filename"/> on its project's page; with <paramref name="provenance"/>, serves it at the
    /// integrity route and links it from the page (relative to the page like the file links, or absolute).
    /// </summary>
    public void Publish(string project, string version, string filename, string sha256, JsonObject? provenance, bool absolute = false)
    {
        var path = $"integrity/{project}/{version}/{filename}/provenance";
        if (provenance is not null)
        {
            _provenance["/" + path] = provenance.ToJsonString();
        }

        if (!_pages.TryGetValue(project, out var files))
        {
            _pages[project] = files = [];
        }

        files.Add(new JsonObject
        {
            ["filename"] = filename,
            ["url"] = $"../../files/{project}/{filename}",
            ["hashes"] = new JsonObject { ["sha256"] = sha256 },
            ["provenance"] = provenance is null ? null : absolute ? Url + path : "../../" + path,
        });
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (path == "/api/provenance/ca.pem")
        {
            context.Response.ContentType = "application/x-pem-file";
            await context.Response.WriteAsync(CaPem);
            return;
        }

        string? authorization = context.Request.Headers.Authorization;
        lock (Authorizations)
        {
            Authorizations.Add(authorization);
        }

        if (authorization != _authorization)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"Builder\"";
            return;
        }

        var accept = context.Request.Headers.Accept.ToString();
        if (path.StartsWith("/simple/", StringComparison.Ordinal) && _pages.TryGetValue(path["/simple/".Length..].TrimEnd('/'), out var files))
        {
            context.Response.ContentType = "application/vnd.pypi.simple.v1+json";
            var project = path["/simple/".Length..].TrimEnd('/');
            await context.Response.WriteAsync(new JsonObject { ["meta"] = new JsonObject { ["api-version"] = "1.1" }, ["name"] = project, ["files"] = files.DeepClone() }.ToJsonString());
            return;
        }

        if (_provenance.TryGetValue(path, out var provenance))
        {
            if (!accept.Contains(IntegrityType, StringComparison.Ordinal) && !accept.Contains("application/json", StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status406NotAcceptable;
                return;
            }

            context.Response.ContentType = IntegrityType;
            await context.Response.WriteAsync(provenance);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        context.Response.ContentType = "application/problem+json";
        await context.Response.WriteAsync("""{"title":"Not Found","status":404}""");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
