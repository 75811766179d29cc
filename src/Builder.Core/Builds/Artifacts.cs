namespace Builder.Core.Builds;

public enum StoreOutcome
{
    Created,
    AlreadyExists,
    Conflict,
}

/// <summary>
/// What <see cref="IArtifactStore.CopyAsync"/> did: copied the source's bytes, found no source, or found the source
/// holding other bytes than the ones named (<see cref="CopyResult.SourceSha256"/> says which; nothing was copied).
/// </summary>
public enum CopyOutcome
{
    Copied,
    SourceMissing,
    SourceChanged,
}

public readonly record struct CopyResult(CopyOutcome Outcome, string? SourceSha256 = null);

/// <summary>
/// Bytes read from the store. <see cref="Stream"/> is seekable: on a remote store a seek costs nothing, and the reads
/// after it fetch only the bytes from there on (a Range request is one short read).
/// </summary>
public sealed record ArtifactContent(Stream Stream, long Length, DateTimeOffset LastModified);

/// <summary>One object a store holds, as <see cref="IArtifactStore.ListAsync"/> lists it: its key, size and when it was last written.</summary>
public readonly record struct StoredObject(string Key, long Size, DateTimeOffset LastModified);

/// <summary>
/// The store cannot be reached or does not answer (an S3 server down, a volume gone): a temporary condition that callers
/// answer with 503 and <c>Retry-After</c>, or wait out; never a reason to record anything as missing.
/// </summary>
public sealed class ArtifactStoreUnavailableException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Where bytes live, by opaque key: narrow and package-agnostic (<c>Builder.Index.PackageArtifacts</c> alone knows what the keys
/// mean). Writes are verified (the bytes stored are checked against the sha256 given before they count) and never
/// overwrite other bytes, except through <see cref="ReplaceAsync"/>. A partly written object is never readable.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Stores the bytes when the key is free; the same bytes already there are fine; other bytes are a conflict.</summary>
    Task<StoreOutcome> PutAsync(string key, Stream content, long length, string sha256, CancellationToken cancellationToken);

    /// <summary>Stores the bytes under the key whatever is there (see <c>PackageArtifacts.StoreFileAsync</c> in Builder.Index).</summary>
    Task ReplaceAsync(string key, Stream content, long length, string sha256, CancellationToken cancellationToken);

    /// <summary>
    /// Makes <paramref name="key"/> hold the bytes <paramref name="sourceKey"/> holds, inside the store (no byte leaves it:
    /// a hard link on a file system, <c>CopyObject</c> on S3), once the source is checked to hold <paramref name="sha256"/>
    /// (by the checksum the store kept when it was written, where it keeps one; else by reading it in place). Other bytes
    /// under <paramref name="key"/> are replaced; the source stays until deleted.
    /// </summary>
    Task<CopyResult> CopyAsync(string sourceKey, string key, string sha256, CancellationToken cancellationToken);

    /// <summary>The bytes, or null when the key holds nothing.</summary>
    Task<ArtifactContent?> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>A short-lived URL that serves the bytes to anyone who has it, where the store has such URLs; else null.</summary>
    Task<Uri?> DownloadUrlAsync(string key, string filename, TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>The file's path when the store keeps artifacts on a local file system (served with sendfile); else null.</summary>
    string? LocalPath(string key);

    Task<bool> ExistsAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Every object whose key starts with <paramref name="prefix"/> ("" lists all), in no particular order; objects being
    /// written (not readable yet) are not listed.
    /// </summary>
    IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Removes the bytes; absent is fine.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Why the store cannot take writes now (a sentence naming the place); null when it can (<c>/readyz</c>).</summary>
    Task<string?> ReadinessProblemAsync(CancellationToken cancellationToken);
}
