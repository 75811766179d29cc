using Builder.Core.Builds;
using Builder.Core.Index;
using Builder.Core.Packaging;
using Builder.Index;
using Builder.Index.Upstream;
using Builder.Pipeline;
using Builder.Storage;
using Builder.Web.Access;
using Builder.Web.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Builder.Web.Index;

/// <summary>
/// The simple repository API (PEP 503 HTML, PEP 691 JSON) and the files its pages link to, as the principal may see
/// them: requests without credentials get a 401 challenge unless anonymous reads are on; a project (or version) the
/// principal may not read is answered exactly like one that does not exist, and is missing from the list.
/// </summary>
internal static class IndexEndpoints
{
    public const string Root = "/simple/";
    public const string Project = "/simple/{project}/";
    public const string File = "/files/{project}/{filename}";

    /// <summary>On pages with upstream files: <c>fresh</c>, or <c>stale</c> when upstream failed and the last copy is served.</summary>
    public const string UpstreamHeader = "Builder-Upstream";
    private const string UpstreamFresh = "fresh";
    private const string UpstreamStale = "stale";

    // Pages change when a release is published; files never change (a file name is never reused). Answers to requests
    // with credentials are private (RFC 9111 §5.2.2.7): a shared cache must not hand what one principal may see to
    // another; only anonymous reads (Builder:Access:AnonymousRead) are public.
    private const string PublicPageCacheControl = "public, max-age=60";
    private const string PrivatePageCacheControl = "private, max-age=60";
    internal const string PublicFileCacheControl = "public, max-age=31536000, immutable";
    internal const string PrivateFileCacheControl = "private, max-age=31536000, immutable";

    /// <summary>How long a presigned download URL (<c>Builder:Storage:S3:RedirectDownloads</c>) serves its file.</summary>
    private static readonly TimeSpan DownloadUrlLifetime = TimeSpan.FromMinutes(5);

    public static void MapSimpleIndex(this IEndpointRouteBuilder app)
    {
        string[] methods = ["GET", "HEAD"];
        app.MapMethods(Root, methods, RootAsync);
        app.MapMethods(Project, methods, ProjectAsync);
        app.MapMethods(File, methods, FileAsync);
    }

    private static async Task<IResult> RootAsync(HttpContext context, IndexCache cache, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var principal = context.Principal();
        if (!principal.MayBrowse)
        {
            return RequestPrincipal.Challenge();
        }

        var contentType = Negotiate(request);
        if (contentType is null)
        {
            return NotAcceptable(request);
        }

        var root = await cache.GetRootAsync(principal.Rights, cancellationToken);
        return new PageResult(SimpleContentType.IsJson(contentType) ? root.Json : root.Html, contentType, principal.IsAnonymous);
    }

    private static async Task<IResult> ProjectAsync(string project, HttpContext context, IndexCache cache, UpstreamProxy upstream, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var principal = context.Principal();
        if (!principal.MayBrowse)
        {
            return RequestPrincipal.Challenge();
        }

        // PEP 503 §Normalized Names: other spellings, and the URL without its trailing slash, redirect to the one URL.
        // (Routing matches "/simple/{project}" with or without the slash, so the handler tells them apart.)
        var normalized = PackageName.Normalize(project);
        if (normalized != project || !request.Path.Value!.EndsWith('/'))
        {
            return TypedResults.Redirect($"/simple/{normalized}/{request.QueryString}", permanent: true);
        }

        var contentType = Negotiate(request);
        if (contentType is null)
        {
            return NotAcceptable(request);
        }

        var access = principal.Rights.Read(normalized);
        if (upstream.Enabled)
        {
            switch (await upstream.GetProjectAsync(normalized, access, principal.IsAnonymous, cancellationToken))
            {
                case ProxyAnswer.Pages proxied:
                    return new PageResult(SimpleContentType.IsJson(contentType) ? proxied.Project.Json : proxied.Project.Html, contentType, principal.IsAnonymous,
                        proxied.Stale ? UpstreamStale : UpstreamFresh);
                case ProxyAnswer.NotFound:
                    return NoSuchProject(normalized);
                case ProxyAnswer.Unavailable unavailable:
                    return UpstreamFailed(unavailable.Detail);
            }
        }

        var pages = await cache.GetProjectAsync(normalized, access, cancellationToken);
        if (pages is null)
        {
            return NoSuchProject(normalized);
        }

        return new PageResult(SimpleContentType.IsJson(contentType) ? pages.Json : pages.Html, contentType, principal.IsAnonymous);
    }

    private static async Task<IResult> FileAsync(string project, string filename, HttpContext context, IndexCache cache, FileContentCache contents, PackageArtifacts artifacts,
        UpstreamProxy upstream, IOptions<StorageOptions> redirects, BuilderMetrics metrics, CancellationToken cancellationToken)
    {
        var principal = context.Principal();
        if (!principal.MayBrowse)
        {
            return RequestPrincipal.Challenge();
        }

        // Only files the index lists are served: staged files of an unfinished release and deleted files are not; nor
        // files of projects or versions the principal may not read (the same 404 as for a file that does not exist).
        var access = principal.Rights.Read(project);
        var isMetadata = filename.EndsWith(PublicRoutes.MetadataSuffix, StringComparison.Ordinal);
        var distribution = isMetadata ? filename[..^PublicRoutes.MetadataSuffix.Length] : filename;
        ProjectPages? pages = null;
        ProxyAnswer.Pages? proxied = null;
        if (upstream.Enabled && access.Any)
        {
            switch (await upstream.GetProjectAsync(project, access, principal.IsAnonymous, cancellationToken))
            {
                case ProxyAnswer.Pages answer:
                    proxied = answer;
                    pages = answer.Project;
                    break;
                case ProxyAnswer.Unavailable unavailable:
                    return UpstreamFailed(unavailable.Detail);
                case ProxyAnswer.NotFound:
                    return NoSuchFile(project, filename);
            }
        }

        if (proxied is null)
        {
            pages = access.Any ? await cache.GetProjectAsync(project, cancellationToken) : null;
        }

        if (pages is null || !pages.Files.TryGetValue(distribution, out var file) || (isMetadata && !file.HasMetadata) || !access.Allows(file.Version))
        {
            if (proxied is not null && proxied.Cooling.TryGetValue(distribution, out var cooling))
            {
                // The principal may read the project: say why this file is not served yet.
                return Problems.Of(StatusCodes.Status403Forbidden, $"{cooling}; an admin can allow it early with POST /api/upstream/allow");
            }

            // A tombstone: say the file was deleted (to whoever may read its release), not that it never existed.
            if (access.Any && await cache.FindDeletedAsync(project, distribution, cancellationToken) is { DeletedAt: { } deletedAt } deleted && access.Allows(deleted.Version))
            {
                return Problems.NotFound($"'{filename}' was deleted from this index on {deletedAt:yyyy-MM-dd} (release {deleted.Version} of '{project}'); its name is never used again");
            }

            return NoSuchFile(project, filename);
        }

        ServedArtifact artifact;
        if (file.Upstream)
        {
            try
            {
                artifact = await upstream.KeepAsync(project, proxied!.UpstreamFiles[distribution], isMetadata, cancellationToken);
                if (artifacts.LocalPath(artifact) is { } kept && !System.IO.File.Exists(kept))
                {
                    // Trimmed from the cache (garbage collection) since this process last looked: fetched again.
                    upstream.Forget(artifact);
                    artifact = await upstream.KeepAsync(project, proxied.UpstreamFiles[distribution], isMetadata, cancellationToken);
                }
            }
            catch (Exception e) when (e is UpstreamIntegrityException or UpstreamUnavailableException)
            {
                return UpstreamFailed(e.Message);
            }
        }
        else
        {
            artifact = new ServedArtifact(project, distribution, isMetadata);
        }

        var etag = new EntityTagHeaderValue(file.ETag(isMetadata));
        var contentType = isMetadata ? "text/plain; charset=utf-8"
            : filename.EndsWith(".tar.gz", StringComparison.Ordinal) ? "application/gzip"
            : filename.EndsWith(".zip", StringComparison.Ordinal) ? "application/zip"
            : "application/octet-stream";
        IResult result;
        if (contents.TryGet(artifact, out var hit))
        {
            // Small hot files from memory; Range, If-None-Match, If-Range and HEAD as for files on disk.
            result = TypedResults.File(hit, contentType, lastModified: file.UploadedAt, entityTag: etag, enableRangeProcessing: true);
        }
        else if (artifacts.LocalPath(artifact) is { } path)
        {
            // sendfile, Range, If-None-Match, If-Range and HEAD are handled by the physical file result.
            result = await contents.LoadAsync(artifact, path, cancellationToken) is { } loaded
                ? TypedResults.File(loaded, contentType, lastModified: file.UploadedAt, entityTag: etag, enableRangeProcessing: true)
                : TypedResults.PhysicalFile(path, contentType, lastModified: file.UploadedAt, entityTag: etag, enableRangeProcessing: true);
        }
        else if (redirects.Value.S3.RedirectDownloads && HttpMethods.IsGet(context.Request.Method) && context.Request.Headers.IfNoneMatch.Count == 0
            && await artifacts.DownloadUrlAsync(artifact, DownloadUrlLifetime, cancellationToken) is { } url)
        {
            // Access was checked above; the store serves the bytes (and their ranges) for a few minutes to whoever
            // follows. HEAD and revalidations stay here: a URL signed for GET refuses HEAD.
            context.Response.Headers.CacheControl = "private, no-store";
            return TypedResults.Redirect(url.AbsoluteUri);
        }
        else if (await artifacts.OpenServedAsync(artifact, cancellationToken) is { } content)
        {
            // A store without local files: small files are read once and then served from memory; larger ones are
            // streamed, and a Range request reads only its range from the store.
            if (contents.Fits(content.Length))
            {
                byte[] loaded;
                await using (content.Stream)
                {
                    loaded = await contents.LoadAsync(artifact, content.Stream, content.Length, cancellationToken);
                }

                result = TypedResults.File(loaded, contentType, lastModified: file.UploadedAt, entityTag: etag, enableRangeProcessing: true);
            }
            else
            {
                result = TypedResults.Stream(content.Stream, contentType, lastModified: file.UploadedAt, entityTag: etag, enableRangeProcessing: true);
            }
        }
        else if (file.Upstream)
        {
            // Trimmed from the cache (garbage collection) since this process last looked: the next request fetches it again.
            upstream.Forget(artifact);
            context.Response.Headers.RetryAfter = "1";
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, $"'{filename}' was removed from the upstream cache meanwhile; ask again to fetch it anew");
        }
        else
        {
            return Problems.NotFound($"file '{filename}' is listed but missing from storage");
        }

        return new FileAnswer(result, principal.IsAnonymous ? PublicFileCacheControl : PrivateFileCacheControl, metrics);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NoSuchFile(string project, string filename) =>
        Problems.NotFound($"no file '{filename}' in project '{project}'");

    /// <summary>Upstream failed (and no copy is kept), or sent bytes other than its index advertised.</summary>
    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult UpstreamFailed(string detail) =>
        Problems.Of(StatusCodes.Status502BadGateway, detail);

    /// <summary>The one answer for a project that does not exist and for one the principal may not see.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NoSuchProject(string normalized) =>
        Problems.NotFound($"no project named '{normalized}' on this index");

    // Clients send a handful of distinct Accept headers (pip's, uv's, a browser's): remember the answer for each,
    // so the hot path does not parse the header again. Bounded, in case a client sends ever-new ones.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> Negotiated = new(StringComparer.Ordinal);

    private static string? Negotiate(HttpRequest request)
    {
        var accept = request.Headers.Accept.ToString();
        var format = request.QueryString.HasValue ? request.Query["format"].FirstOrDefault() : null;
        if (format is not null)
        {
            return SimpleContentType.Select(accept, format);
        }

        if (Negotiated.TryGetValue(accept, out var known))
        {
            return known;
        }

        var selected = SimpleContentType.Select(accept, null);
        if (Negotiated.Count < 1024)
        {
            Negotiated.TryAdd(accept, selected);
        }

        return selected;
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotAcceptable(HttpRequest request) => Problems.Of(StatusCodes.Status406NotAcceptable, $"format '{request.Query["format"]}' is not served here; use {SimpleContentType.Html}, {SimpleContentType.HtmlV1} or {SimpleContentType.JsonV1}");

    private const string HtmlUtf8 = SimpleContentType.Html + "; charset=utf-8";
    private const string HtmlV1Utf8 = SimpleContentType.HtmlV1 + "; charset=utf-8";

    /// <summary>A cached page: Vary/ETag/Cache-Control, 304 for a matching If-None-Match, no body for HEAD.</summary>
    private sealed class PageResult(RenderedPage page, string contentType, bool isPublic, string? upstream = null) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            var headers = response.Headers;
            headers.Vary = "Accept";
            if (upstream is not null)
            {
                headers[UpstreamHeader] = upstream;
            }

            headers.ETag = page.ETag;
            headers.CacheControl = isPublic ? PublicPageCacheControl : PrivatePageCacheControl;
            if (!SimpleContentType.IsJson(contentType))
            {
                // A browser opening /simple/ gets a page like the UI's: it may not be framed, and runs nothing.
                SecurityHeaders.ApplyPagePolicies(headers);
            }

            var ifNoneMatch = httpContext.Request.Headers.IfNoneMatch;
            if (ifNoneMatch.Count > 0 && ifNoneMatch.Any(v => v is not null && (v == "*" || v.Contains(page.ETag, StringComparison.Ordinal))))
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            }

            response.ContentType = contentType switch
            {
                SimpleContentType.Html => HtmlUtf8,
                SimpleContentType.HtmlV1 => HtmlV1Utf8,
                _ => contentType,
            };
            response.ContentLength = page.Body.Length;
            return HttpMethods.IsHead(httpContext.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(page.Body).AsTask();
        }
    }

    /// <summary>
    /// A file's answer with its Cache-Control; once written, its bytes count as served
    /// (<c>builder_served_bytes_total</c>): the Content-Length of a complete 200 or 206 answer to a GET. HEAD, 304 and
    /// 416 answers send no body; an answer cut off by the client ends in an exception here and counts nothing.
    /// </summary>
    private sealed class FileAnswer(IResult inner, string cacheControl, BuilderMetrics metrics) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.Headers.CacheControl = cacheControl;
            await inner.ExecuteAsync(httpContext);
            if (HttpMethods.IsGet(httpContext.Request.Method) && response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status206PartialContent
                && response.ContentLength is { } length and > 0)
            {
                metrics.CountServedBytes(length);
            }
        }
    }
}
