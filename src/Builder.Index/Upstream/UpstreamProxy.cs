using System.Collections.Concurrent;
using Builder.Core.Access;
using Builder.Core.Builds;
using Microsoft.Extensions.Options;
using Outcomes = Builder.Index.Upstream.UpstreamOutcomes;

namespace Builder.Index.Upstream;

/// <summary>What the proxy answers for a name.</summary>
public abstract record ProxyAnswer
{
    /// <summary>The name is Builder's own (or the proxy is off): the private index answers as without a proxy.</summary>
    public sealed record NotProxied : ProxyAnswer;

    /// <summary>
    /// The pages as this principal may see them: upstream files (after the cooldown) and, for an allowed overlap, the
    /// private ones beside them. <see cref="Cooling"/> names the files the cooldown hides, with why.
    /// </summary>
    public sealed record Pages(ProjectPages Project, bool Stale, IReadOnlyDictionary<string, UpstreamFile> UpstreamFiles, IReadOnlyDictionary<string, string> Cooling) : ProxyAnswer;

    /// <summary>Upstream has no such project (or this principal may not read it through the proxy).</summary>
    public sealed record NotFound : ProxyAnswer;

    /// <summary>Upstream failed and no copy of the page is kept.</summary>
    public sealed record Unavailable(string Detail) : ProxyAnswer;
}

/// <summary>
/// The upstream proxy of the simple index (<c>Builder:Upstream</c>): which names come from upstream (asking
/// <see cref="UpstreamGuard"/>), the pages each principal sees of them (read rights, cooldown, PEP 708 tracks for an
/// allowed overlap), and upstream files fetched once, verified against upstream's sha256 and kept in the artifact store.
/// </summary>
public sealed class UpstreamProxy(
    IOptions<UpstreamOptions> options, UpstreamGuard guard, UpstreamPages pages, UpstreamClient client, IndexCache index, PackageArtifacts artifacts,
    UpstreamReads reads, IIndexMetrics metrics, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<UpstreamProxy> logger)
{
    private const int MaxViews = 20_000;
    private const int MaxKept = 100_000;

    private readonly UpstreamOptions _options = options.Value;
    private readonly ConcurrentDictionary<(string Project, string Access), View> _views = new();
    private readonly ConcurrentDictionary<ServedArtifact, Lazy<Task>> _fetches = new();
    // When each file was last found (or made) kept: looked for again after a while, since garbage collection may have
    // trimmed it from the cache (StorageCollector), in this process or another.
    private readonly ConcurrentDictionary<ServedArtifact, DateTimeOffset> _kept = new();

    public bool Enabled => _options.Enabled;

    /// <summary>A rendering and what it was made from (it is reused while those are the same and nothing cooled down).</summary>
    private sealed record View(
        UpstreamEntry Entry, long GuardVersion, string? PrivateTag, DateTimeOffset ValidUntil, ProjectPages Pages,
        IReadOnlyDictionary<string, UpstreamFile> UpstreamFiles, IReadOnlyDictionary<string, string> Cooling);

    /// <summary>The answer for <paramref name="project"/> (normalized) as <paramref name="access"/> may see it.</summary>
    public async Task<ProxyAnswer> GetProjectAsync(string project, ReadAccess access, bool anonymous, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return new ProxyAnswer.NotProxied();
        }

        var owned = await index.GetProjectAsync(project, cancellationToken);
        var snapshot = await guard.GetAsync(cancellationToken);
        var standing = snapshot.Standing(project);
        if (owned is not null && standing == UpstreamStanding.Public)
        {
            // Published a moment ago, before the guard heard of it: private all the same.
            standing = UpstreamStanding.Private;
        }

        if (standing == UpstreamStanding.Private)
        {
            return new ProxyAnswer.NotProxied();
        }

        var overlap = standing == UpstreamStanding.Overlap;
        if (!access.Any || (anonymous && !_options.AnonymousRead))
        {
            return overlap ? new ProxyAnswer.NotProxied() : new ProxyAnswer.NotFound();
        }

        UpstreamLookup lookup;
        try
        {
            lookup = await pages.GetAsync(project, cancellationToken);
        }
        catch (UpstreamUnavailableException e)
        {
            return overlap ? new ProxyAnswer.NotProxied() : new ProxyAnswer.Unavailable(e.Message);
        }

        if (lookup.Entry.Project is null)
        {
            return overlap ? new ProxyAnswer.NotProxied() : new ProxyAnswer.NotFound();
        }

        var now = time.GetUtcNow();
        var privateTag = overlap ? owned?.Json.ETag : null;
        var key = (project, access.Key);
        if (!_views.TryGetValue(key, out var view) || view.Entry != lookup.Entry || view.GuardVersion != snapshot.Version || view.PrivateTag != privateTag || now >= view.ValidUntil)
        {
            var published = overlap && owned is not null ? await index.ReadPublishedAsync(project, cancellationToken) : [];
            view = Render(project, lookup.Entry, lookup.Entry.Project, overlap, published, access, snapshot, privateTag, now);
            if (_views.Count >= MaxViews)
            {
                _views.Clear();
            }

            _views[key] = view;
        }

        return new ProxyAnswer.Pages(view.Pages, lookup.Stale, view.UpstreamFiles, view.Cooling);
    }

    private View Render(
        string project, UpstreamEntry entry, UpstreamProject upstream, bool overlap, IReadOnlyList<PackageFile> published, ReadAccess access,
        UpstreamGuard.Snapshot snapshot, string? privateTag, DateTimeOffset now)
    {
        var entries = published.Where(f => f.DeletedAt is null && access.Allows(f.Version)).Select(IndexEntry.From).ToList();
        var names = entries.Select(e => e.Filename).ToHashSet(StringComparer.Ordinal);
        var upstreamFiles = new Dictionary<string, UpstreamFile>(StringComparer.Ordinal);
        var cooling = new Dictionary<string, string>(StringComparer.Ordinal);
        var validUntil = DateTimeOffset.MaxValue;
        var minimumAge = _options.MinimumAge;
        foreach (var file in upstream.Files)
        {
            if (names.Contains(file.Filename) || !access.Allows(file.Version))
            {
                continue;
            }

            if (minimumAge > TimeSpan.Zero && !snapshot.AllowedEarly(project, file.Version))
            {
                if (file.UploadTime is not { } uploaded)
                {
                    cooling[file.Filename] = $"upstream gives no upload time for {file.Filename}, so Builder:Upstream:MinimumAgeHours ({_options.MinimumAgeHours} h) cannot be checked";
                    continue;
                }

                if (now - uploaded < minimumAge)
                {
                    cooling[file.Filename] = $"{file.Filename} was uploaded upstream at {IndexPages.UploadTime(uploaded)}, less than Builder:Upstream:MinimumAgeHours ({_options.MinimumAgeHours} h) ago";
                    validUntil = uploaded + minimumAge < validUntil ? uploaded + minimumAge : validUntil;
                    continue;
                }
            }

            upstreamFiles[file.Filename] = file;
            entries.Add(new IndexEntry(file.Filename, file.Version, file.Sha256, file.RequiresPython, file.Yanked, file.YankedReason, file.MetadataSha256, file.Size, file.UploadTime, Upstream: true));
        }

        var rendered = IndexPages.RenderProject(project, entries, overlap ? [upstream.PageUrl.AbsoluteUri] : [], index.PublicBase);
        return new View(entry, snapshot.Version, privateTag, validUntil, rendered, upstreamFiles, cooling);
    }

    /// <summary>
    /// Makes sure the artifact store keeps <paramref name="file"/> (or its metadata sidecar): fetched once from upstream,
    /// however many ask at the same time, and kept only when its sha256 is the one upstream's page advertised. Each call
    /// is a read of the file (<see cref="UpstreamReads"/>): the cache is trimmed least recently read first.
    /// </summary>
    public async Task<ServedArtifact> KeepAsync(string project, UpstreamFile file, bool metadata, CancellationToken cancellationToken)
    {
        var artifact = new ServedArtifact(project, file.Filename, metadata, metadata ? file.MetadataSha256 : file.Sha256);
        var now = time.GetUtcNow();
        if (!(_kept.TryGetValue(artifact, out var seen) && now >= seen && now - seen < UpstreamReads.Interval))
        {
            var fetch = _fetches.GetOrAdd(artifact, a => new Lazy<Task>(() => FetchAsync(a, file)));
            await fetch.Value.WaitAsync(cancellationToken);
        }

        await reads.RecordAsync(artifact, cancellationToken);
        return artifact;
    }

    /// <summary>The store no longer holds <paramref name="artifact"/> (trimmed meanwhile): the next <see cref="KeepAsync"/> fetches it again.</summary>
    public void Forget(ServedArtifact artifact) => _kept.TryRemove(artifact, out _);

    private async Task FetchAsync(ServedArtifact artifact, UpstreamFile file)
    {
        await Task.Yield();
        var stopping = lifetime.ApplicationStopping;
        var temporary = Path.Combine(Path.GetTempPath(), "builder-upstream-" + Guid.NewGuid().ToString("N"));
        try
        {
            if (!await artifacts.ExistsAsync(artifact, stopping))
            {
                var url = artifact.Metadata ? new Uri(file.Url.AbsoluteUri + PublicRoutes.MetadataSuffix) : file.Url;
                var name = artifact.Metadata ? file.Filename + PublicRoutes.MetadataSuffix : file.Filename;
                await using (var target = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.Asynchronous | FileOptions.DeleteOnClose))
                {
                    try
                    {
                        await client.DownloadAsync(url, name, artifact.UpstreamSha256!, artifact.Metadata ? null : file.Size, target, stopping);
                    }
                    catch (UpstreamIntegrityException e)
                    {
                        metrics.CountUpstreamRequest(Outcomes.File, Outcomes.Refused);
                        logger.LogWarning("Upstream file refused: {Problem}", e.Message);
                        throw;
                    }
                    catch (UpstreamUnavailableException)
                    {
                        metrics.CountUpstreamRequest(Outcomes.File, Outcomes.Failed);
                        throw;
                    }

                    var length = target.Length;
                    target.Position = 0;
                    await artifacts.StoreUpstreamAsync(artifact, target, length, stopping);
                    metrics.CountUpstreamRequest(Outcomes.File, Outcomes.Kept);
                    if (logger.IsEnabled(LogLevel.Information))
                    {
                        logger.LogInformation("Kept {File} of {Project} from upstream ({Bytes} bytes, sha256 {Sha256})", name, artifact.Project, length, artifact.UpstreamSha256);
                    }
                }
            }

            if (_kept.Count >= MaxKept)
            {
                _kept.Clear();
            }

            _kept[artifact] = time.GetUtcNow();
        }
        finally
        {
            _fetches.TryRemove(artifact, out _);
        }
    }
}
