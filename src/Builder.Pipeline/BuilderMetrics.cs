using System.Collections.Concurrent;
using System.Data.Common;
using Builder.Core;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Data;
using Builder.Index;
using Builder.Index.Upstream;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Builder.Pipeline;

/// <summary>
/// The one owner of Builder's Prometheus series (<c>GET /metrics</c>, every name prefixed <c>builder_</c>): each instrument
/// is defined here, and the code that decides an outcome (the publisher, the upload route, the index caches, the file
/// route, the lifecycle's events) reports it through one of these methods. Builds by state and the job queues are read
/// at scrape time, from the database and Hangfire's monitoring API, so every process answers them alike whichever
/// process changed them. Label values come from small fixed sets (states, architectures, queues, outcomes, route
/// templates): never a project, file or version.
/// </summary>
/// <remarks>
/// The series live in this host's own registry, not the library's static default one: tests host several apps in one
/// process, and a scrape callback registered on the static registry would outlive its host's services. The registry
/// also carries the library's basic process collector (<c>process_*</c>, <c>dotnet_*</c>).
/// </remarks>
public sealed partial class BuilderMetrics : IIndexMetrics
{
    // Seconds: a part takes from seconds (a pure wheel) to hours (emulated aarch64); a build adds its queue time.
    private static readonly double[] BuildBuckets = [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];
    private static readonly double[] RequestBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private static readonly string[] FinalBuildStates = [StateName(BuildState.Succeeded), StateName(BuildState.Failed), StateName(BuildState.Cancelled)];
    private static readonly string[] FinalPartStates = [StateName(BuildState.Succeeded), StateName(BuildState.Failed)];

    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Gauge _builds;
    private readonly Histogram _buildDuration;
    private readonly Histogram _partDuration;
    private readonly Gauge _queueDepth;
    private readonly Gauge _queueOldestAge;
    private static readonly TimeSpan StoreMeasureInterval = TimeSpan.FromMinutes(1);
    private readonly Gauge _storageBytes;
    private DateTimeOffset _storeMeasuredAt = DateTimeOffset.MinValue;
    private readonly Counter _publishes;
    private readonly Counter _uploads;
    private readonly Counter _servedBytes;
    private readonly Counter _cacheRequests;
    private readonly Counter _upstreamRequests;
    private readonly ConcurrentDictionary<string, bool> _queues = new(StringComparer.Ordinal);

    public BuilderMetrics(IServiceScopeFactory scopes, TimeProvider time, ILogger<BuilderMetrics> logger)
    {
        _scopes = scopes;
        _time = time;
        _logger = logger;
        var factory = Metrics.WithCustomRegistry(Registry);
        // No exemplars: nothing here is traced, and taking one from the ambient trace context costs every observation
        // (every request) a lookup that would only ever publish the hosting layer's random trace ids.
        factory.ExemplarBehavior = new ExemplarBehavior { DefaultExemplarProvider = (_, _) => Exemplar.None };
        _builds = factory.CreateGauge("builder_builds", "Builds by state (queued, running, succeeded, failed, cancelled), counted in the database at scrape time.", ["state"]);
        _buildDuration = factory.CreateHistogram("builder_build_duration_seconds", "Time from a build's queueing to its end, by final state; observed from the release lifecycle's events.",
            ["state"], new HistogramConfiguration { Buckets = BuildBuckets });
        _partDuration = factory.CreateHistogram("builder_part_duration_seconds", "Time a part's run took from its start to its success or failure, by architecture; observed from the release lifecycle's events.",
            ["architecture", "state"], new HistogramConfiguration { Buckets = BuildBuckets });
        _queueDepth = factory.CreateGauge("builder_queue_depth", "Jobs waiting in a Hangfire queue (not yet taken by a worker), read at scrape time.", ["queue"]);
        _queueOldestAge = factory.CreateGauge("builder_queue_oldest_job_age_seconds", "Seconds since the oldest waiting job of a Hangfire queue was enqueued (0: none waits), read at scrape time.", ["queue"]);
        _storageBytes = factory.CreateGauge("builder_storage_bytes",
            "Bytes the artifact store holds, by kind (published: every project's distribution files and metadata sidecars, as GET /api/usage counts them, read at scrape time; upstream: the upstream proxy's cache; staging: builds' staged files; these two listed from the store at most once a minute).",
            ["kind"]);
        _publishes = factory.CreateCounter("builder_publishes_total", "Publications of files (builds, uploads, imports) by outcome: published, already_published, build_ended, conflict.", ["outcome"]);
        _uploads = factory.CreateCounter("builder_uploads_total", "Answers of the upload API (POST /legacy/) by outcome: published, already_published, refused (any 4xx).", ["outcome"]);
        _servedBytes = factory.CreateCounter("builder_served_bytes_total", "Bytes of distribution files and metadata sidecars served: the Content-Length of each complete 200 or 206 answer to a GET of /files/.");
        _cacheRequests = factory.CreateCounter("builder_cache_requests_total", "Lookups of the index page cache (cache=index) and the download content cache (cache=file), by result (hit, miss).", ["cache", "result"]);
        _upstreamRequests = factory.CreateCounter("builder_upstream_requests_total",
            "Requests the upstream proxy made, by kind (page, file) and outcome (page: fetched, not_modified, missing, failed; file: kept, refused (sha256 or size other than advertised), failed).",
            ["kind", "outcome"]);
        HttpRequests = factory.CreateCounter("builder_http_requests_received_total", "HTTP requests answered, by status code, method and route template (endpoint).", ["code", "method", "endpoint"]);
        HttpDuration = factory.CreateHistogram("builder_http_request_duration_seconds", "Time to answer HTTP requests, by status code, method and route template (endpoint).",
            ["code", "method", "endpoint"], new HistogramConfiguration { Buckets = RequestBuckets });
        HttpInProgress = factory.CreateGauge("builder_http_requests_in_progress", "HTTP requests being answered, by method and route template (endpoint).", ["method", "endpoint"]);

        // Every known label value starts at zero, so rate() and ratios work from the first scrape.
        foreach (var state in Enum.GetValues<BuildState>())
        {
            _builds.WithLabels(StateName(state));
        }

        foreach (var state in FinalBuildStates)
        {
            _buildDuration.WithLabels(state);
        }

        foreach (var architecture in BuildOptions.KnownArchitectures)
        {
            foreach (var state in FinalPartStates)
            {
                _partDuration.WithLabels(architecture, state);
            }
        }

        foreach (var queue in (string[])[BuildQueues.Plan, .. BuildOptions.KnownArchitectures.Select(BuildQueues.ForArchitecture)])
        {
            _queues[queue] = true;
        }

        foreach (var outcome in (string[])["published", "already_published", "build_ended", "conflict"])
        {
            _publishes.WithLabels(outcome);
        }

        foreach (var outcome in (string[])[UploadOutcomes.Published, UploadOutcomes.AlreadyPublished, UploadOutcomes.Refused])
        {
            _uploads.WithLabels(outcome);
        }

        foreach (var cache in (string[])[IIndexMetrics.PageCache, IIndexMetrics.FileCache])
        {
            _cacheRequests.WithLabels(cache, "hit");
            _cacheRequests.WithLabels(cache, "miss");
        }

        foreach (var (kind, outcome) in UpstreamOutcomes.All)
        {
            _upstreamRequests.WithLabels(kind, outcome);
        }

        DotNetStats.Register(Registry);
        Registry.AddBeforeCollectCallback(CountBuildsAsync);
        Registry.AddBeforeCollectCallback(ReadQueuesAsync);
        Registry.AddBeforeCollectCallback(MeasureStorageAsync);
    }

    /// <summary>What <c>GET /metrics</c> exports.</summary>
    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    internal Counter HttpRequests { get; }

    internal Histogram HttpDuration { get; }

    internal Gauge HttpInProgress { get; }

    /// <summary>The upload API's outcomes (<c>builder_uploads_total{outcome}</c>).</summary>
    public static class UploadOutcomes
    {
        public const string Published = "published";
        public const string Upstream = "upstream";
        public const string Staging = "staging";
        public const string AlreadyPublished = "already_published";
        public const string Refused = "refused";
    }

    public void CountPublish(PublishOutcome outcome) => _publishes.WithLabels(outcome switch
    {
        PublishOutcome.Published => "published",
        PublishOutcome.AlreadyPublished => "already_published",
        _ => "build_ended",
    }).Inc();

    /// <summary>A publication refused because a file name is taken by other bytes or was deleted.</summary>
    public void CountPublishConflict() => _publishes.WithLabels("conflict").Inc();

    /// <summary>One answer of the upload API; <paramref name="outcome"/> is one of <see cref="UploadOutcomes"/>.</summary>
    public void CountUpload(string outcome) => _uploads.WithLabels(outcome).Inc();

    public void CountServedBytes(long bytes) => _servedBytes.Inc(bytes);

    /// <summary>One request of the upstream proxy: <see cref="UpstreamOutcomes"/> names its kind and outcome.</summary>
    public void CountUpstreamRequest(string kind, string outcome) => _upstreamRequests.WithLabels(kind, outcome).Inc();

    /// <summary>One lookup of <paramref name="cache"/> (<see cref="IIndexMetrics.PageCache"/> or <see cref="IIndexMetrics.FileCache"/>).</summary>
    public void CountCacheLookup(string cache, bool hit) => _cacheRequests.WithLabels(cache, hit ? "hit" : "miss").Inc();

    public void ObserveBuild(BuildState state, TimeSpan duration) => _buildDuration.WithLabels(StateName(state)).Observe(Math.Max(0, duration.TotalSeconds));

    public void ObservePart(string architecture, BuildState state, TimeSpan duration) =>
        _partDuration.WithLabels(architecture, StateName(state)).Observe(Math.Max(0, duration.TotalSeconds));

    private static string StateName(BuildState state) => state.ToString().ToLowerInvariant();

    /// <summary>Builds by state: one GROUP BY over the builds table per scrape. The database away: the series are withdrawn (not left stale).</summary>
    private async Task CountBuildsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            var counts = await db.Builds.AsNoTracking().GroupBy(b => b.State).Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
            foreach (var state in Enum.GetValues<BuildState>())
            {
                _builds.WithLabels(StateName(state)).Set(counts.FirstOrDefault(c => c.State == state)?.Count ?? 0);
            }
        }
        catch (Exception ex) when (ex.Contains<DbException>())
        {
            LogScrapeFailed(_logger, ex, "builds by state");
            foreach (var state in Enum.GetValues<BuildState>())
            {
                _builds.RemoveLabelled(StateName(state));
            }
        }
    }

    /// <summary>
    /// Published bytes: one SUM over the published rows per scrape (<see cref="ProjectQuotas"/> counts them the same way).
    /// The upstream cache and staging: listed from the store (<see cref="PackageArtifacts.MeasureAsync"/>), at most once
    /// a minute, since listing a bucket costs more than a scrape should.
    /// </summary>
    private async Task MeasureStorageAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            _storageBytes.WithLabels(StorageKinds.Published).Set(await ProjectQuotas.PublishedBytesAsync(db, cancellationToken));
        }
        catch (Exception ex) when (ex.Contains<DbException>())
        {
            LogScrapeFailed(_logger, ex, "published bytes");
            _storageBytes.RemoveLabelled(StorageKinds.Published);
        }

        var now = _time.GetUtcNow();
        if (now - _storeMeasuredAt < StoreMeasureInterval)
        {
            return;
        }

        _storeMeasuredAt = now;
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            if (scope.ServiceProvider.GetService<PackageArtifacts>() is { } artifacts)
            {
                var usage = await artifacts.MeasureAsync(cancellationToken);
                _storageBytes.WithLabels(StorageKinds.Upstream).Set(usage.Upstream.Bytes);
                _storageBytes.WithLabels(StorageKinds.Staging).Set(usage.Staging.Bytes);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogScrapeFailed(_logger, ex, "stored bytes");
            _storageBytes.RemoveLabelled(StorageKinds.Upstream);
            _storageBytes.RemoveLabelled(StorageKinds.Staging);
        }
    }

    /// <summary>The kinds of <c>builder_storage_bytes</c>.</summary>
    public static class StorageKinds
    {
        public const string Published = "published";
        public const string Upstream = "upstream";
        public const string Staging = "staging";
    }

    /// <summary>
    /// Depth and oldest waiting job of each Hangfire queue, from the storage's monitoring API (PostgreSQL in production,
    /// memory in the embedded default). A queue that emptied reads 0 rather than keeping its last value. Hangfire's
    /// queue listing holds the first five waiting jobs of each queue, in enqueue order: the oldest is among them.
    /// </summary>
    private Task ReadQueuesAsync(CancellationToken cancellationToken)
    {
        using var scope = _scopes.CreateScope();
        if (scope.ServiceProvider.GetService<JobStorage>() is not { } storage)
        {
            return Task.CompletedTask;
        }

        try
        {
            var now = _time.GetUtcNow().UtcDateTime;
            var waiting = new HashSet<string>(StringComparer.Ordinal);
            foreach (var queue in storage.GetMonitoringApi().Queues())
            {
                var enqueued = queue.FirstJobs.Select(j => j.Value?.EnqueuedAt).OfType<DateTime>().Select(t => DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToList();
                _queues[queue.Name] = true;
                waiting.Add(queue.Name);
                _queueDepth.WithLabels(queue.Name).Set(queue.Length);
                _queueOldestAge.WithLabels(queue.Name).Set(enqueued.Count == 0 ? 0 : Math.Max(0, (now - enqueued.Min()).TotalSeconds));
            }

            foreach (var queue in _queues.Keys.Where(q => !waiting.Contains(q)))
            {
                _queueDepth.WithLabels(queue).Set(0);
                _queueOldestAge.WithLabels(queue).Set(0);
            }
        }
        catch (Exception ex) when (ex.Contains<DbException>())
        {
            LogScrapeFailed(_logger, ex, "job queues");
            foreach (var queue in _queues.Keys)
            {
                _queueDepth.RemoveLabelled(queue);
                _queueOldestAge.RemoveLabelled(queue);
            }
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Metrics: reading {What} at scrape time failed; those series are left out of this scrape")]
    private static partial void LogScrapeFailed(ILogger logger, Exception exception, string what);
}

/// <summary>
/// Build and part durations, from the release lifecycle's events: a part's success or failure, a build's publication,
/// failure or cancellation. Events are committed with the transitions they record, so only what happened is observed,
/// by whichever process delivers the event (at least once: a delivery cut short by a crash may observe its batch again).
/// </summary>
internal sealed class DurationSubscriber(IDbContextFactory<BuilderDbContext> contexts, BuilderMetrics metrics) : IBuildEventSubscriber
{
    public string Name => "metrics-durations";

    public async Task HandleAsync(BuildEvent buildEvent, CancellationToken cancellationToken)
    {
        if (buildEvent.Kind is BuildEventKinds.PartSucceeded or BuildEventKinds.PartFailed && buildEvent.PartId is { } partId)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var part = await db.BuildParts.AsNoTracking().Where(p => p.Id == partId)
                .Select(p => new { p.Architecture, p.State, p.StartedAt, p.FinishedAt }).SingleOrDefaultAsync(cancellationToken);
            if (part is { StartedAt: { } started, FinishedAt: { } finished, State: BuildState.Succeeded or BuildState.Failed })
            {
                metrics.ObservePart(part.Architecture, part.State, finished - started);
            }
        }
        else if (BuildEventKinds.IsFinal(buildEvent.Kind))
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var build = await db.Builds.AsNoTracking().Where(b => b.Id == buildEvent.BuildId)
                .Select(b => new { b.State, b.CreatedAt, b.FinishedAt }).SingleOrDefaultAsync(cancellationToken);
            if (build is { FinishedAt: { } finished, State: BuildState.Succeeded or BuildState.Failed or BuildState.Cancelled })
            {
                metrics.ObserveBuild(build.State, finished - build.CreatedAt);
            }
        }
    }
}
