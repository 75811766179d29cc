namespace Builder.Core.Index;

/// <summary>
/// When a file kept from the upstream index was last read (table <c>builder_upstream_reads</c>): the cache is trimmed to
/// <c>Builder:Upstream:CacheBytes</c> least recently read first. One row per kept object, written at most once a minute per
/// object and process; a kept object without a row counts as read when it was stored.
/// </summary>
public sealed class UpstreamRead
{
    /// <summary>The artifact store key of the kept file or sidecar (Builder.Index's <c>PackageArtifacts</c> formats it).</summary>
    public required string Key { get; set; }

    public DateTimeOffset LastReadAt { get; set; }
}
