using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Builder.Index.Upstream;

/// <summary>The upstream did not answer usefully (network, timeout, 5xx, an unreadable page): the message names it.</summary>
public sealed class UpstreamUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Bytes from upstream that are not the ones its index advertised: never stored, never served.</summary>
public sealed class UpstreamIntegrityException(string message) : Exception(message);

/// <summary>What a page request to upstream gave.</summary>
public abstract record PageFetch
{
    public sealed record Fetched(UpstreamProject Project, string? ETag) : PageFetch;

    public sealed record NotModified : PageFetch;

    public sealed record Missing : PageFetch;
}

/// <summary>HTTP to the upstream index: project pages (conditional) and files (verified against their sha256).</summary>
public sealed class UpstreamClient : IDisposable
{
    private const string Accept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";
    private const int MaxPageBytes = 64 * 1024 * 1024;

    private readonly HttpClient _http;
    private readonly UpstreamOptions _options;

    public UpstreamClient(IOptions<UpstreamOptions> options)
    {
        _options = options.Value;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = _options.Timeout,
        })
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Builder-upstream-proxy/1.0");
    }

    /// <summary>The upstream URL of a project's page (normalized name).</summary>
    public Uri PageUrl(string project) => new(_options.BaseUri!, Uri.EscapeDataString(project) + "/");

    /// <summary>Fetches a project's page; with <paramref name="etag"/>, a 304 answers <see cref="PageFetch.NotModified"/>.</summary>
    public async Task<PageFetch> FetchPageAsync(string project, string? etag, CancellationToken cancellationToken)
    {
        var url = PageUrl(project);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd(Accept);
        if (etag is not null && EntityTagHeaderValue.TryParse(etag, out var tag))
        {
            request.Headers.IfNoneMatch.Add(tag);
        }

        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotModified:
                    return new PageFetch.NotModified();
                case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                    return new PageFetch.Missing();
                case HttpStatusCode.OK:
                    break;
                default:
                    throw new UpstreamUnavailableException($"upstream {url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            if (response.Content.Headers.ContentLength > MaxPageBytes)
            {
                throw new UpstreamUnavailableException($"upstream {url} sent a page of {response.Content.Headers.ContentLength} bytes (at most {MaxPageBytes})");
            }

            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            var finalUrl = response.RequestMessage?.RequestUri ?? url;
            UpstreamProject parsed;
            try
            {
                parsed = UpstreamPageParser.Parse(project, finalUrl, response.Content.Headers.ContentType?.MediaType, body);
            }
            catch (System.Text.Json.JsonException e)
            {
                throw new UpstreamUnavailableException($"upstream {url} sent a page that is not PEP 691 JSON: {e.Message}", e);
            }

            return new PageFetch.Fetched(parsed, response.Headers.ETag?.ToString());
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var what = e is OperationCanceledException ? $"did not answer within {_options.TimeoutSeconds} s" : $"failed: {e.Message}";
            throw new UpstreamUnavailableException($"upstream {url} {what}", e);
        }
    }

    /// <summary>
    /// Downloads <paramref name="url"/> into <paramref name="target"/> and checks its sha256 (and size, when known)
    /// against what upstream's page advertised; a mismatch throws <see cref="UpstreamIntegrityException"/>.
    /// </summary>
    public async Task DownloadAsync(Uri url, string filename, string sha256, long? size, Stream target, CancellationToken cancellationToken)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stall.CancelAfter(_options.Timeout);
        try
        {
            using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, stall.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new UpstreamUnavailableException($"upstream {url} answered {(int)response.StatusCode} {response.ReasonPhrase} for {filename}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(stall.Token);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            long length = 0;
            while (true)
            {
                // The time limit is per read: a large file may take long, a stalled one may not.
                stall.CancelAfter(_options.Timeout);
                var read = await body.ReadAsync(buffer, stall.Token);
                if (read == 0)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                length += read;
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != sha256)
            {
                throw new UpstreamIntegrityException($"{filename} from upstream {url} has sha256 {actual}, but upstream's index advertises {sha256}: refused, not stored");
            }

            if (size is { } expected && expected != length)
            {
                throw new UpstreamIntegrityException($"{filename} from upstream {url} has {length} bytes, but upstream's index advertises {expected}: refused, not stored");
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var what = e is OperationCanceledException ? $"stalled for {_options.TimeoutSeconds} s" : $"failed: {e.Message}";
            throw new UpstreamUnavailableException($"downloading {filename} from upstream {url} {what}", e);
        }
    }

    public void Dispose() => _http.Dispose();
}
