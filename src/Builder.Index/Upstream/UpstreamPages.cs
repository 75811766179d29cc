using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Outcomes = Builder.Index.Upstream.UpstreamOutcomes;

namespace Builder.Index.Upstream;

/// <summary>An upstream page as Builder last saw it: <see cref="Project"/> null means upstream has no such project.</summary>
public sealed class UpstreamEntry(UpstreamProject? project, string? etag, DateTimeOffset checkedAt, DateTimeOffset? retryAt = null)
{
    public UpstreamProject? Project { get; } = project;

    public string? ETag { get; } = etag;

    /// <summary>When upstream last confirmed this copy.</summary>
    public DateTimeOffset CheckedAt { get; } = checkedAt;

    /// <summary>After a failed revalidation: until when this copy is served stale without asking upstream again.</summary>
    public DateTimeOffset? RetryAt { get; } = retryAt;

    public UpstreamEntry Confirmed(DateTimeOffset now) => new(Project, ETag, now);
}

/// <summary>A page lookup's answer: the entry, and whether it is served stale because upstream failed.</summary>
public readonly record struct UpstreamLookup(UpstreamEntry Entry, bool Stale);

/// <summary>
/// Upstream project pages kept in memory: fresh for <c>Builder:Upstream:MaxAgeSeconds</c>, then revalidated with
/// <c>If-None-Match</c>. One upstream request per page at a time, however many readers wait for it. When upstream fails,
/// the last copy is served stale (and upstream is asked again at most every <see cref="FailureBackoff"/>); a page never
/// fetched fails with <see cref="UpstreamUnavailableException"/>.
/// </summary>
public sealed class UpstreamPages(
    UpstreamClient client, IOptions<UpstreamOptions> options, IIndexMetrics metrics, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<UpstreamPages> logger)
{
    private const int MaxEntries = 50_000;
    private static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, UpstreamEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<UpstreamEntry>>> _inFlight = new(StringComparer.Ordinal);
    private readonly TimeSpan _maxAge = options.Value.MaxAge;

    public async Task<UpstreamLookup> GetAsync(string project, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(project, out var entry))
        {
            if (now - entry.CheckedAt < _maxAge)
            {
                return new UpstreamLookup(entry, Stale: false);
            }

            if (entry.RetryAt is { } retryAt && now < retryAt)
            {
                return new UpstreamLookup(entry, Stale: true);
            }
        }

        var flight = _inFlight.GetOrAdd(project, p => new Lazy<Task<UpstreamEntry>>(() => RefreshAsync(p, entry)));
        try
        {
            return new UpstreamLookup(await flight.Value.WaitAsync(cancellationToken), Stale: false);
        }
        catch (UpstreamUnavailableException) when (_entries.TryGetValue(project, out var stale))
        {
            return new UpstreamLookup(stale, Stale: true);
        }
    }

    private async Task<UpstreamEntry> RefreshAsync(string project, UpstreamEntry? previous)
    {
        // The fetch belongs to every waiter, not to the request that started it: only shutdown stops it.
        await Task.Yield();
        try
        {
            var fetched = await client.FetchPageAsync(project, previous?.Project is null ? null : previous.ETag, lifetime.ApplicationStopping);
            var now = time.GetUtcNow();
            metrics.CountUpstreamRequest(Outcomes.Page, fetched switch
            {
                PageFetch.NotModified => Outcomes.NotModified,
                PageFetch.Fetched => Outcomes.Fetched,
                _ => Outcomes.Missing,
            });
            var entry = fetched switch
            {
                PageFetch.NotModified when previous is not null => previous.Confirmed(now),
                PageFetch.Fetched page => new UpstreamEntry(page.Project, page.ETag, now),
                _ => new UpstreamEntry(null, null, now),
            };
            if (_entries.Count >= MaxEntries && !_entries.ContainsKey(project))
            {
                _entries.Clear();
            }

            _entries[project] = entry;
            return entry;
        }
        catch (UpstreamUnavailableException e)
        {
            metrics.CountUpstreamRequest(Outcomes.Page, Outcomes.Failed);
            logger.LogWarning("Upstream page of {Project}: {Failure}{Stale}", project, e.Message, previous is null ? string.Empty : " (serving the copy checked at " + previous.CheckedAt.ToString("O") + ")");
            if (previous is not null)
            {
                // Ask again only after the back-off, however many requests come meanwhile (each is served the copy).
                _entries[project] = new UpstreamEntry(previous.Project, previous.ETag, previous.CheckedAt, time.GetUtcNow() + FailureBackoff);
            }

            throw;
        }
        finally
        {
            _inFlight.TryRemove(project, out _);
        }
    }
}
