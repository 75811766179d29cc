using Builder.Data;

namespace Builder.Index;

/// <summary>The counters the index keeps; the host's metrics registry implements them (<c>BuilderMetrics</c>).</summary>
public interface IIndexMetrics
{
    /// <summary><c>cache</c> label of the index page cache.</summary>
    public const string PageCache = "index";

    /// <summary><c>cache</c> label of the download content cache.</summary>
    public const string FileCache = "file";

    void CountPublish(PublishOutcome outcome);

    void CountPublishConflict();

    /// <summary>One request of the upstream proxy: <see cref="Upstream.UpstreamOutcomes"/> names its kind and outcome.</summary>
    void CountUpstreamRequest(string kind, string outcome);

    /// <summary>One lookup of <paramref name="cache"/> (<see cref="PageCache"/> or <see cref="FileCache"/>).</summary>
    void CountCacheLookup(string cache, bool hit);
}

/// <summary>
/// The release lifecycle's part in a build's publication (<c>ReleaseLifecycle</c>, the owner of a release's state): the
/// build is recorded published inside the transaction that makes its files visible.
/// </summary>
public interface IBuildPublication
{
    /// <summary>False: the build was cancelled or failed meanwhile, and the publisher rolls the files back.</summary>
    Task<bool> PublishedAsync(BuilderDbContext db, long buildId, string project, IReadOnlyList<string> files, CancellationToken cancellationToken);
}
