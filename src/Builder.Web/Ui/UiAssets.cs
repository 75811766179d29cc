using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Builder.Web.Ui;

/// <summary>
/// The web UI's stylesheets and scripts (<c>src/Builder.Web/Ui/Assets</c>, embedded in the assembly): each is served at
/// a URL carrying its content hash (<c>/static/js/app.3f2a1b9c0d4e.js</c>) with immutable caching, so a browser never
/// asks twice and a new release is never mixed with an old cached file. Text assets are kept gzip-compressed too.
/// Nothing comes from another origin.
/// </summary>
internal sealed class UiAssets
{
    public const string Route = "/static/{**file}";
    private const string Prefix = "/static/";
    private const string ResourcePrefix = "ui/";

    private readonly Dictionary<string, Asset> _byFile = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _urls = new(StringComparer.Ordinal);

    public UiAssets()
    {
        var assembly = typeof(UiAssets).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var path = name[ResourcePrefix.Length..];
            var hash = Convert.ToHexStringLower(SHA256.HashData(content))[..12];
            var dot = path.LastIndexOf('.');
            var file = $"{path[..dot]}.{hash}{path[dot..]}";
            var type = ContentTypeOf(path);
            _byFile[file] = new Asset(content, type.StartsWith("text/", StringComparison.Ordinal) ? Gzip(content) : null, type, $"\"{hash}\"");
            _urls[path] = Prefix + file;
        }
    }

    /// <summary>The hashed URL of an asset named by its path under Assets (<c>js/app.js</c>).</summary>
    public string Url(string path) =>
        _urls.TryGetValue(path, out var url) ? url : throw new ArgumentException($"no UI asset {path} (under src/Builder.Web/Ui/Assets)", nameof(path));

    public IResult Serve(string file, HttpContext context)
    {
        if (!_byFile.TryGetValue(file, out var asset))
        {
            return TypedResults.NotFound();
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "public, max-age=31536000, immutable";
        headers.ETag = asset.ETag;
        headers.Vary = HeaderNames.AcceptEncoding;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        if (asset.Gzip is { } gzip && context.Request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            headers.ContentEncoding = "gzip";
            return TypedResults.Bytes(gzip, asset.ContentType);
        }

        return TypedResults.Bytes(asset.Content, asset.ContentType);
    }

    private static string ContentTypeOf(string path) => Path.GetExtension(path) switch
    {
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };

    private static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            gzip.Write(content);
        }

        return output.ToArray();
    }

    private sealed record Asset(byte[] Content, byte[]? Gzip, string ContentType, string ETag);
}
