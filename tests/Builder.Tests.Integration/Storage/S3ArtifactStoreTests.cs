using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Builder.Core.Builds;
using Builder.Storage;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Builder.Tests.Integration.Storage;

/// <summary>
/// The S3 artifact store against a real S3 API server (moto) on loopback: the class's, with a bucket per test, or, for the
/// test that freezes the server, one of its own.
/// </summary>
public sealed class S3ArtifactStoreTests(SharedS3Server shared) : IClassFixture<SharedS3Server>, IAsyncLifetime
{
    private string Bucket { get; } = "artifacts-" + Guid.NewGuid().ToString("N")[..8];
    private S3Server _server = shared.Server;
    private S3Server? _own;

    public Task InitializeAsync() => _server.CreateBucketAsync(Bucket);

    public async Task DisposeAsync()
    {
        if (_own is not null)
        {
            await _own.DisposeAsync();
        }
    }

    /// <summary>This test's own server from here on, with the test's bucket: for a test that stops it.</summary>
    private async Task UseOwnServerAsync()
    {
        _server = _own = await S3Server.StartAsync();
        await _server.CreateBucketAsync(Bucket);
    }

    private S3ArtifactStore Store(int retrySeconds = 120, int timeoutSeconds = 30, string prefix = "team/") => new(
        Options.Create(new StorageOptions
        {
            Provider = StorageOptions.S3Provider,
            RetrySeconds = retrySeconds,
            S3 = new S3StorageOptions
            {
                Bucket = Bucket,
                Prefix = prefix,
                ServiceUrl = _server.Url,
                ForcePathStyle = true,
                AccessKey = S3Server.AccessKey,
                SecretKey = S3Server.SecretKey,
                TimeoutSeconds = timeoutSeconds,
            },
        }),
        TimeProvider.System,
        NullLogger<S3ArtifactStore>.Instance);

    private static (MemoryStream Stream, string Sha256) Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return (new MemoryStream(bytes), Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    [Fact]
    public async Task Writes_never_overwrite_other_bytes_and_the_same_bytes_twice_are_fine()
    {
        using var store = Store();
        var (first, firstSha) = Bytes(1000, 1);
        var (other, otherSha) = Bytes(1000, 2);

        Assert.Equal(StoreOutcome.Created, await store.PutAsync("acme/a-1.0.tar.gz", first, first.Length, firstSha, CancellationToken.None));
        Assert.Equal(StoreOutcome.AlreadyExists, await store.PutAsync("acme/a-1.0.tar.gz", first, first.Length, firstSha, CancellationToken.None));
        Assert.Equal(StoreOutcome.Conflict, await store.PutAsync("acme/a-1.0.tar.gz", other, other.Length, otherSha, CancellationToken.None));
        Assert.Equal(firstSha, await Sha256Async(store, "acme/a-1.0.tar.gz"));

        // The prefix is where the objects are; the sha256 travels with each object.
        Assert.Equal(new Dictionary<string, long> { ["team/acme/a-1.0.tar.gz"] = 1000 }, await _server.ListAsync(Bucket));

        await store.ReplaceAsync("acme/a-1.0.tar.gz", other, other.Length, otherSha, CancellationToken.None);
        Assert.Equal(otherSha, await Sha256Async(store, "acme/a-1.0.tar.gz"));

        // Bytes that are not the ones named are never stored.
        var (bad, _) = Bytes(10, 3);
        await Assert.ThrowsAsync<InvalidDataException>(() => store.PutAsync("acme/b-1.0.tar.gz", bad, bad.Length, firstSha, CancellationToken.None));
        Assert.False(await store.ExistsAsync("acme/b-1.0.tar.gz", CancellationToken.None));

        Assert.True(await store.ExistsAsync("acme/a-1.0.tar.gz", CancellationToken.None));
        await store.DeleteAsync("acme/a-1.0.tar.gz", CancellationToken.None);
        await store.DeleteAsync("acme/a-1.0.tar.gz", CancellationToken.None);
        Assert.False(await store.ExistsAsync("acme/a-1.0.tar.gz", CancellationToken.None));
        Assert.Null(await store.OpenReadAsync("acme/a-1.0.tar.gz", CancellationToken.None));
        Assert.Null(await store.ReadinessProblemAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_copy_is_checked_with_a_HEAD_and_made_by_the_server_and_a_changed_or_missing_source_is_told_not_copied()
    {
        using var store = Store();
        var (bytes, sha) = Bytes(300_000, 9);
        await store.PutAsync("_staging-1/x.whl", bytes, bytes.Length, sha, CancellationToken.None);
        var logAt = _server.Log.Length;

        Assert.Equal(new CopyResult(CopyOutcome.Copied, sha), await store.CopyAsync("_staging-1/x.whl", "acme/x.whl", sha, CancellationToken.None));

        Assert.Equal(sha, await Sha256Async(store, "acme/x.whl"));
        Assert.True(await store.ExistsAsync("_staging-1/x.whl", CancellationToken.None)); // the source stays until deleted
        var log = _server.Log[logAt..];
        Assert.Contains($"\"HEAD /{Bucket}/team/_staging-1/x.whl HTTP/1.1\" 200", log, StringComparison.Ordinal);
        Assert.DoesNotContain($"\"GET /{Bucket}/team/_staging-1/x.whl", log, StringComparison.Ordinal);

        // A source someone rewrote (with the checksum of its own bytes, as S3 keeps it): told with its digest, not copied.
        var (other, otherSha) = Bytes(300_000, 10);
        await store.PutAsync("_staging-1/y.whl", bytes, bytes.Length, sha, CancellationToken.None);
        await _server.WriteAsync(Bucket, "team/_staging-1/y.whl", other.ToArray());
        Assert.Equal(new CopyResult(CopyOutcome.SourceChanged, otherSha), await store.CopyAsync("_staging-1/y.whl", "acme/y.whl", sha, CancellationToken.None));
        Assert.False(await store.ExistsAsync("acme/y.whl", CancellationToken.None));

        // A source with no checksum kept (written by an older Builder, or a server that keeps none) is read to verify it.
        using (var http = new HttpClient())
        {
            (await http.PutAsync($"{_server.Url}/{Bucket}/team/_staging-1/old.whl", new ByteArrayContent(bytes.ToArray()))).EnsureSuccessStatusCode();
        }

        logAt = _server.Log.Length;
        Assert.Equal(new CopyResult(CopyOutcome.Copied, sha), await store.CopyAsync("_staging-1/old.whl", "acme/old.whl", sha, CancellationToken.None));
        Assert.Contains($"\"GET /{Bucket}/team/_staging-1/old.whl", _server.Log[logAt..], StringComparison.Ordinal);
        Assert.Equal(sha, await Sha256Async(store, "acme/old.whl"));

        Assert.Equal(new CopyResult(CopyOutcome.SourceMissing), await store.CopyAsync("_staging-1/none.whl", "acme/none.whl", sha, CancellationToken.None));
        Assert.False(await store.ExistsAsync("acme/none.whl", CancellationToken.None));
    }

    [Fact]
    public async Task Reads_are_seekable_and_fetch_ranges_of_large_objects()
    {
        using var store = Store();
        var (bytes, sha) = Bytes(5 * 1024 * 1024 + 17, 4);
        await store.PutAsync("acme/big.whl", bytes, bytes.Length, sha, CancellationToken.None);

        var content = await store.OpenReadAsync("acme/big.whl", CancellationToken.None);
        Assert.NotNull(content);
        Assert.Equal(bytes.Length, content.Length);
        await using (content.Stream)
        {
            Assert.Equal(sha, Convert.ToHexStringLower(await SHA256.HashDataAsync(content.Stream)));

            // A seek, then a short read: the bytes from there (a Range request's path).
            content.Stream.Position = bytes.Length - 100;
            var tail = new byte[100];
            await content.Stream.ReadExactlyAsync(tail);
            Assert.Equal(bytes.ToArray()[^100..], tail);
            Assert.Equal(0, await content.Stream.ReadAsync(new byte[1]));
        }

        // An empty object reads as empty.
        var empty = new MemoryStream();
        await store.PutAsync("acme/empty", empty, 0, Convert.ToHexStringLower(SHA256.HashData([])), CancellationToken.None);
        var nothing = await store.OpenReadAsync("acme/empty", CancellationToken.None);
        Assert.NotNull(nothing);
        Assert.Equal(0, nothing.Length);
    }

    [Fact]
    public async Task A_presigned_url_serves_get_with_ranges_and_names_the_file()
    {
        using var store = Store();
        var (bytes, sha) = Bytes(4096, 5);
        await store.PutAsync("acme/acme-1.0-py3-none-any.whl", bytes, bytes.Length, sha, CancellationToken.None);

        var url = await store.DownloadUrlAsync("acme/acme-1.0-py3-none-any.whl", "acme-1.0-py3-none-any.whl", TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.NotNull(url);
        Assert.StartsWith(_server.Url + "/", url.AbsoluteUri, StringComparison.Ordinal);
        using var http = new HttpClient();
        using var whole = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(bytes.ToArray(), await whole.Content.ReadAsByteArrayAsync());
        // The URL asks the server to name the file (moto does not apply the override; AWS does).
        Assert.Contains("response-content-disposition=attachment%3B%20filename%3D%22acme-1.0-py3-none-any.whl%22", url.Query, StringComparison.Ordinal);

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(100, 199);
        using var range = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(bytes.ToArray()[100..200], await range.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task During_an_outage_reads_fail_at_once_and_writes_wait_then_succeed_or_give_up_with_a_message()
    {
        await UseOwnServerAsync();
        using var store = Store(retrySeconds: 60, timeoutSeconds: 2);
        var (kept, keptSha) = Bytes(2000, 6);
        await store.PutAsync("acme/kept.tar.gz", kept, kept.Length, keptSha, CancellationToken.None);

        await _server.StopAsync();
        try
        {
            await Assert.ThrowsAsync<ArtifactStoreUnavailableException>(() => store.OpenReadAsync("acme/kept.tar.gz", CancellationToken.None));
            Assert.Contains("does not answer", await store.ReadinessProblemAsync(CancellationToken.None), StringComparison.Ordinal);

            // A write waits out the outage: the server comes back while it retries, and the write lands once.
            var (bytes, sha) = Bytes(3000, 7);
            var clock = Stopwatch.StartNew();
            var write = store.PutAsync("acme/during.tar.gz", bytes, bytes.Length, sha, CancellationToken.None);
            await Task.Delay(TimeSpan.FromSeconds(5));
            Assert.False(write.IsCompleted);
            await _server.ResumeAsync();
            // Created, or AlreadyExists when an attempt the frozen server had received landed as it resumed, before the
            // retry: the object then holds these same bytes (the store compared its SHA-256), written once either way.
            Assert.Contains(await write, new[] { StoreOutcome.Created, StoreOutcome.AlreadyExists });
            Assert.InRange(clock.Elapsed.TotalSeconds, 5, 60);
        }
        finally
        {
            await _server.ResumeAsync();
        }

        Assert.Equal(3000, (await _server.ListAsync(Bucket))["team/acme/during.tar.gz"]);

        // A write that outlasts the limit fails with a message naming the store and the limit. (A request the frozen server
        // had already received may still land when it resumes: such bytes are named by no row, so never served.)
        using var impatient = Store(retrySeconds: 4, timeoutSeconds: 1);
        await _server.StopAsync();
        try
        {
            var (bytes, sha) = Bytes(3000, 8);
            var failure = await Assert.ThrowsAsync<ArtifactStoreUnavailableException>(() => impatient.PutAsync("acme/never.tar.gz", bytes, bytes.Length, sha, CancellationToken.None));
            Assert.Contains($"s3://{Bucket}/team/", failure.Message, StringComparison.Ordinal);
            Assert.Contains("Builder:Storage:RetrySeconds is 4", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await _server.ResumeAsync();
        }
    }

    private static async Task<string> Sha256Async(S3ArtifactStore store, string key)
    {
        var content = await store.OpenReadAsync(key, CancellationToken.None);
        Assert.NotNull(content);
        await using var stream = content.Stream;
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
    }
}
