using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Builder.Index;

/// <summary>Index settings (<c>Builder:Index</c>).</summary>
public sealed class IndexOptions
{
    public const string SectionName = "Builder:Index";

    /// <summary>Memory for the contents of recently downloaded small files; 0 turns the cache off.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, long.MaxValue, ErrorMessage = "Builder:Index:FileCacheBytes must be 0 or more.")]
    public long FileCacheBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Files larger than this are always streamed from storage.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, int.MaxValue, ErrorMessage = "Builder:Index:FileCacheMaxFileBytes must be 0 or more.")]
    public int FileCacheMaxFileBytes { get; set; } = 1024 * 1024;

    /// <summary>Render every project's pages in the background at start, so no reader waits for a cold page.</summary>
    public bool WarmOnStart { get; set; } = true;
}

/// <summary>
/// The bytes of recently downloaded small files, bounded in total size. Files are immutable (a file name is never
/// reused), so entries need no invalidation: a deleted file is no longer listed, and the file route checks the list first.
/// Counted (<c>builder_cache_requests_total{cache="file"}</c>): a hit for each answer from memory, a miss for each file
/// that fits the cache but had to be read from storage; files too large for it (or the cache off) count neither.
/// </summary>
public sealed class FileContentCache(IOptions<IndexOptions> options, IIndexMetrics metrics) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Math.Max(1, options.Value.FileCacheBytes) });
    private readonly bool _enabled = options.Value.FileCacheBytes > 0;
    private readonly int _maxFileBytes = options.Value.FileCacheMaxFileBytes;

    public bool TryGet(ServedArtifact key, out byte[] content)
    {
        if (_cache.TryGetValue(key, out content!))
        {
            metrics.CountCacheLookup(IIndexMetrics.FileCache, hit: true);
            return true;
        }

        return false;
    }

    /// <summary>Whether a file of this length is kept.</summary>
    public bool Fits(long length) => _enabled && length <= _maxFileBytes;

    /// <summary>Reads a file that fits the cache from <paramref name="path"/> and keeps it; null when it does not fit.</summary>
    public async Task<byte[]?> LoadAsync(ServedArtifact key, string path, CancellationToken cancellationToken)
    {
        if (new FileInfo(path) is not { Exists: true } info || !Fits(info.Length))
        {
            return null;
        }

        return Keep(key, await File.ReadAllBytesAsync(path, cancellationToken));
    }

    /// <summary>Reads a stream of a length that <see cref="Fits"/> to its end and keeps the bytes.</summary>
    public async Task<byte[]> LoadAsync(ServedArtifact key, Stream stream, long length, CancellationToken cancellationToken)
    {
        var content = new byte[length];
        await stream.ReadExactlyAsync(content, cancellationToken);
        return Keep(key, content);
    }

    private byte[] Keep(ServedArtifact key, byte[] content)
    {
        metrics.CountCacheLookup(IIndexMetrics.FileCache, hit: false);
        _cache.Set(key, content, new MemoryCacheEntryOptions { Size = Math.Max(1, content.Length) });
        return content;
    }

    public void Dispose() => _cache.Dispose();
}
