using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Builder.Core.Builds;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Storage;

/// <summary>
/// Artifacts as objects in an S3 bucket, under <c>Builder:Storage:S3:Prefix</c>. Writes are conditional
/// (<c>If-None-Match: *</c>) and then verified by what the server says it stored (size, and the sha256 Builder stored
/// with the object), because S3-compatible servers differ in what they honour. Writes wait out an unreachable server
/// (retrying with backoff) up to <c>Builder:Storage:RetrySeconds</c>; reads do not wait: they fail at once with
/// <see cref="ArtifactStoreUnavailableException"/>, which the index answers with 503. Every object is written with its
/// SHA-256 checksum (<c>x-amz-checksum-sha256</c>, which the server checks against the bytes it received and keeps), so
/// a promotion (<see cref="CopyAsync"/>) verifies a staged object with a HEAD instead of reading it.
/// </summary>
public sealed partial class S3ArtifactStore : IArtifactStore, IDisposable
{
    /// <summary>The object metadata field (<c>x-amz-meta-sha256</c>) holding the sha256 of the bytes, in hex.</summary>
    private const string Sha256Metadata = "sha256";

    private const long FirstRange = 1024 * 1024;

    private readonly AmazonS3Client _s3;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly string _where;
    private readonly bool _http;
    private readonly TimeSpan _retryFor;
    private readonly TimeProvider _time;
    private readonly ILogger<S3ArtifactStore> _logger;

    public S3ArtifactStore(IOptions<StorageOptions> options, TimeProvider time, ILogger<S3ArtifactStore> logger)
    {
        var s3 = options.Value.S3;
        var config = new AmazonS3Config
        {
            ForcePathStyle = s3.ForcePathStyle,
            Timeout = TimeSpan.FromSeconds(s3.TimeoutSeconds),
            // Builder retries writes itself (up to RetrySeconds); reads answer 503 at once rather than keep a client waiting.
            MaxErrorRetry = 0,
            // Recent SDKs add checksums to every request and check them on answers; servers other than AWS refuse or
            // lack them. Builder verifies what was stored through the sha256 it keeps with each object instead.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (s3.ServiceUrl.Length > 0)
        {
            config.ServiceURL = s3.ServiceUrl;
            config.AuthenticationRegion = s3.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(s3.Region);
        }

        _s3 = s3.AccessKey.Length > 0 ? new AmazonS3Client(new BasicAWSCredentials(s3.AccessKey, s3.SecretKey), config) : new AmazonS3Client(config);
        _bucket = s3.Bucket;
        _prefix = s3.Prefix.Length == 0 || s3.Prefix.EndsWith('/') ? s3.Prefix : s3.Prefix + "/";
        _where = $"s3://{_bucket}/{_prefix}" + (s3.ServiceUrl.Length > 0 ? $" at {s3.ServiceUrl}" : string.Empty);
        _http = s3.ServiceUrl.StartsWith("http://", StringComparison.OrdinalIgnoreCase);
        _retryFor = TimeSpan.FromSeconds(options.Value.RetrySeconds);
        _time = time;
        _logger = logger;
    }

    private string ObjectKey(string key) => _prefix + key;

    public async Task<StoreOutcome> PutAsync(string key, Stream content, long length, string sha256, CancellationToken cancellationToken)
    {
        await VerifySourceAsync(key, content, sha256, cancellationToken);
        return await WriteAsync($"storing {key}", async ct =>
        {
            try
            {
                await PutObjectAsync(key, content, length, sha256, conditional: true, ct);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                // Taken: the same bytes are fine (a retry, or another run that built the same), others a conflict.
                return await StoredSha256Async(key, ct) == sha256 ? StoreOutcome.AlreadyExists : StoreOutcome.Conflict;
            }

            await VerifyStoredAsync(key, length, sha256, ct);
            return StoreOutcome.Created;
        }, cancellationToken);
    }

    public async Task ReplaceAsync(string key, Stream content, long length, string sha256, CancellationToken cancellationToken)
    {
        await VerifySourceAsync(key, content, sha256, cancellationToken);
        await WriteAsync($"replacing {key}", async ct =>
        {
            await PutObjectAsync(key, content, length, sha256, conditional: false, ct);
            await VerifyStoredAsync(key, length, sha256, ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// The bytes about to be sent must be the ones named (the source may have changed since it was hashed): checked once
    /// per write, before its attempts, which each send the stream from its start.
    /// </summary>
    private static async Task VerifySourceAsync(string key, Stream content, string sha256, CancellationToken cancellationToken)
    {
        content.Position = 0;
        var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken));
        content.Position = 0;
        if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"the bytes given for {key} have sha256 {actual}, not the expected {sha256}; nothing was stored");
        }
    }

    private async Task PutObjectAsync(string key, Stream content, long length, string sha256, bool conditional, CancellationToken cancellationToken)
    {
        content.Position = 0;
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = ObjectKey(key),
            InputStream = content,
            AutoCloseStream = false,
            ContentType = "application/octet-stream",
            UseChunkEncoding = false,
        };
        request.Headers.ContentLength = length;
        request.Metadata.Add(Sha256Metadata, sha256.ToLowerInvariant());
        // The server checks the bytes it received against it, and keeps it with the object for a HEAD to read back.
        request.ChecksumAlgorithm = ChecksumAlgorithm.SHA256;
        request.ChecksumSHA256 = Convert.ToBase64String(Convert.FromHexString(sha256));
        if (conditional)
        {
            request.IfNoneMatch = "*";
        }

        await _s3.PutObjectAsync(request, cancellationToken);
    }

    /// <summary>What the server stored must be what was sent: a server that ignored the condition may have replaced bytes.</summary>
    private async Task VerifyStoredAsync(string key, long length, string sha256, CancellationToken cancellationToken)
    {
        var head = await HeadAsync(key, cancellationToken);
        var stored = head?.Metadata[Sha256Metadata];
        if (head is null || head.ContentLength != length || !string.Equals(stored, sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"{_where} holds {head?.ContentLength ?? 0} bytes with sha256 '{stored}' under {key} after storing {length} bytes with sha256 {sha256}: another writer replaced them (does the server honour If-None-Match?)");
        }
    }

    /// <summary>The sha256 of what a key holds: the one Builder stored with it, else (written by something else) by reading it.</summary>
    private async Task<string?> StoredSha256Async(string key, CancellationToken cancellationToken)
    {
        var head = await HeadAsync(key, cancellationToken);
        if (head is null)
        {
            return null;
        }

        if (head.Metadata[Sha256Metadata] is { Length: > 0 } stored)
        {
            return stored.ToLowerInvariant();
        }

        return await ReadSha256Async(key, cancellationToken);
    }

    private async Task<GetObjectMetadataResponse?> HeadAsync(string key, CancellationToken cancellationToken, bool checksum = false)
    {
        try
        {
            var request = new GetObjectMetadataRequest { BucketName = _bucket, Key = ObjectKey(key) };
            if (checksum)
            {
                request.ChecksumMode = ChecksumMode.ENABLED;
            }

            return await _s3.GetObjectMetadataAsync(request, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// The source is verified with a HEAD: the SHA-256 checksum the server kept when it received the bytes (an object
    /// written without one, by an older Builder or a server that keeps none, is read and hashed instead). Then the server
    /// copies it (<c>CopyObject</c>, on the condition that the source is still the object verified: its ETag), and the copy
    /// is checked as every write is. S3 copies objects up to 5 GiB in one request.
    /// </summary>
    public Task<CopyResult> CopyAsync(string sourceKey, string key, string sha256, CancellationToken cancellationToken) =>
        WriteAsync($"copying {sourceKey} to {key}", async ct =>
        {
            var head = await HeadAsync(sourceKey, ct, checksum: true);
            if (head is null)
            {
                return new CopyResult(CopyOutcome.SourceMissing);
            }

            var actual = head.ChecksumSHA256 is { Length: > 0 } checksum && !checksum.Contains('-', StringComparison.Ordinal)
                ? Convert.ToHexStringLower(Convert.FromBase64String(checksum))
                : await ReadSha256Async(sourceKey, ct);
            if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
            {
                return new CopyResult(CopyOutcome.SourceChanged, actual);
            }

            var copy = new CopyObjectRequest
            {
                SourceBucket = _bucket,
                SourceKey = ObjectKey(sourceKey),
                DestinationBucket = _bucket,
                DestinationKey = ObjectKey(key),
                ETagToMatch = head.ETag,
                // The copy carries the verified sha256 whatever the source carried (an older object may have none).
                MetadataDirective = S3MetadataDirective.REPLACE,
                ContentType = "application/octet-stream",
                ChecksumAlgorithm = ChecksumAlgorithm.SHA256,
            };
            copy.Metadata.Add(Sha256Metadata, actual);
            try
            {
                await _s3.CopyObjectAsync(copy, ct);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                return new CopyResult(CopyOutcome.SourceMissing); // removed after the HEAD (its build ended)
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                return new CopyResult(CopyOutcome.SourceChanged); // rewritten after the HEAD: not the object verified
            }

            await VerifyStoredAsync(key, head.ContentLength, sha256, ct);
            return new CopyResult(CopyOutcome.Copied, actual);
        }, cancellationToken);

    private async Task<string> ReadSha256Async(string key, CancellationToken cancellationToken)
    {
        using var response = await _s3.GetObjectAsync(_bucket, ObjectKey(key), cancellationToken);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(response.ResponseStream, cancellationToken));
    }

    public Task<ArtifactContent?> OpenReadAsync(string key, CancellationToken cancellationToken) =>
        ReadAsync($"reading {key}", async ct =>
        {
            GetObjectResponse first;
            try
            {
                first = await GetRangeAsync(key, 0, FirstRange, ct);
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // An empty object has no byte 0.
                return new ArtifactContent(new MemoryStream([], writable: false), 0, DateTimeOffset.UnixEpoch);
            }

            var length = first.ContentRange is { } range && range.LastIndexOf('/') is var slash and > 0 && long.TryParse(range[(slash + 1)..], out var total)
                ? total
                : first.ContentLength;
            var stream = new RangeReadStream(length, first.ResponseStream, Math.Min(length, FirstRange), (offset, count, c) => OpenRangeAsync(key, offset, count, c));
            return new ArtifactContent(stream, length, first.LastModified is { } modified ? new DateTimeOffset(modified.ToUniversalTime()) : DateTimeOffset.UnixEpoch);
        }, cancellationToken);

    private Task<GetObjectResponse> GetRangeAsync(string key, long offset, long count, CancellationToken cancellationToken) =>
        _s3.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = ObjectKey(key), ByteRange = new ByteRange(offset, offset + count - 1) }, cancellationToken);

    private Task<Stream> OpenRangeAsync(string key, long offset, long count, CancellationToken cancellationToken) =>
        ReadAsync($"reading {key}", async ct => (await GetRangeAsync(key, offset, count, ct)).ResponseStream, cancellationToken);

    public async Task<Uri?> DownloadUrlAsync(string key, string filename, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var request = new GetPreSignedUrlRequest
        {
            BucketName = _bucket,
            Key = ObjectKey(key),
            Verb = HttpVerb.GET,
            Expires = _time.GetUtcNow().UtcDateTime.Add(lifetime),
            Protocol = _http ? Protocol.HTTP : Protocol.HTTPS,
        };
        request.ResponseHeaderOverrides.ContentDisposition = $"attachment; filename=\"{filename}\"";
        return new Uri(await _s3.GetPreSignedURLAsync(request));
    }

    public string? LocalPath(string key) => null;

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) =>
        ReadAsync($"looking up {key}", async ct => await HeadAsync(key, ct) is not null, cancellationToken);

    /// <summary>ListObjectsV2 under <c>Prefix</c> + <paramref name="prefix"/>, a page (up to 1000 keys) per request; keys without the store's prefix.</summary>
    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = ObjectKey(prefix) };
        while (true)
        {
            var page = await ReadAsync($"listing {_prefix}{prefix}", ct => _s3.ListObjectsV2Async(request, ct), cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                if (item.Key.Length > _prefix.Length)
                {
                    var modified = item.LastModified is { } at ? new DateTimeOffset(at.ToUniversalTime()) : DateTimeOffset.UnixEpoch;
                    yield return new StoredObject(item.Key[_prefix.Length..], item.Size ?? 0, modified);
                }
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        WriteAsync($"deleting {key}", async ct =>
        {
            await _s3.DeleteObjectAsync(_bucket, ObjectKey(key), ct);
            return true;
        }, cancellationToken);

    public async Task<string?> ReadinessProblemAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix, MaxKeys = 1 }, cancellationToken);
            return null;
        }
        catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or IOException or TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return $"{_where} does not answer: {Describe(ex)}";
        }
    }

    /// <summary>Runs a write, waiting out an unreachable server with backoff (0.5 s doubling to 10 s) up to the configured time.</summary>
    private async Task<T> WriteAsync<T>(string what, Func<CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        var started = _time.GetUtcNow();
        var delay = TimeSpan.FromMilliseconds(500);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await write(cancellationToken);
            }
            catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
            {
                var waited = _time.GetUtcNow() - started;
                if (waited + delay > _retryFor)
                {
                    throw new ArtifactStoreUnavailableException(
                        $"the artifact store {_where} did not answer {what} for {Math.Round(waited.TotalSeconds)} s ({attempt} attempts; Builder:Storage:RetrySeconds is {_retryFor.TotalSeconds}): {Describe(ex)}", ex);
                }

                LogWriteRetry(_logger, what, attempt, delay.TotalSeconds, Describe(ex));
                await Task.Delay(delay, _time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
            catch (AmazonS3Exception ex)
            {
                throw new IOException($"the artifact store {_where} refused {what}: {Describe(ex)}", ex);
            }
        }
    }

    private async Task<T> ReadAsync<T>(string what, Func<CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        try
        {
            return await read(cancellationToken);
        }
        catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
        {
            throw new ArtifactStoreUnavailableException($"the artifact store {_where} did not answer {what}: {Describe(ex)}", ex);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode != HttpStatusCode.NotFound)
        {
            throw new IOException($"the artifact store {_where} refused {what}: {Describe(ex)}", ex);
        }
    }

    /// <summary>A server that does not answer, or answers that it cannot now (5xx, 429, 408): worth waiting for.</summary>
    private static bool IsUnavailable(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        AmazonServiceException service when service.StatusCode is 0 => true,
        AmazonServiceException service => (int)service.StatusCode >= 500 || service.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or HttpStatusCode.Conflict,
        HttpRequestException or IOException or System.Net.Sockets.SocketException or TimeoutException => ex is not ArtifactStoreUnavailableException,
        AmazonClientException => true,
        _ => false,
    };

    private static string Describe(Exception ex) => ex switch
    {
        AmazonServiceException { StatusCode: not 0 } service => $"{(int)service.StatusCode} {service.ErrorCode}: {service.Message}",
        OperationCanceledException or TimeoutException => "no answer within the timeout",
        _ => ex.InnerException is { } inner && ex.Message.Length == 0 ? inner.Message : ex.Message,
    };

    public void Dispose() => _s3.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Artifact store: {What} failed (attempt {Attempt}), retrying in {Seconds} s: {Reason}")]
    private static partial void LogWriteRetry(ILogger logger, string what, int attempt, double seconds, string reason);
}
