using Builder.Core.Index;
using Builder.Core.Packaging;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Index.Upstream;

/// <summary>What the guard says about one name.</summary>
public enum UpstreamStanding
{
    /// <summary>Nobody here owns the name: it comes from upstream.</summary>
    Public,

    /// <summary>Owned here (a file, a build, a reservation): never fetched from upstream.</summary>
    Private,

    /// <summary>Owned here, and an admin allowed its upstream files beside the private ones (PEP 708 tracks).</summary>
    Overlap,
}

/// <summary>
/// The one owner of "may this name come from upstream" (dependency-confusion guard). A name is private when any file of
/// it was ever published here (deleted ones too), when a build of a registered repository produced it, or when an admin
/// reserved it; such a name is never fetched from upstream, whoever asks and whatever the version, unless an admin allowed
/// the overlap. Names are compared normalized (PEP 503). Also answers which young versions an admin let through early.
/// </summary>
/// <remarks>
/// The names are read from the database at once and kept: re-read after every index or rule change this process hears
/// of (before the next answer), and at least every <see cref="Refresh"/> in the background (a build names its project
/// when it starts, which no index change announces).
/// </remarks>
public sealed class UpstreamGuard : IDisposable
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(5);

    private readonly IServiceScopeFactory _scopes;
    private readonly ChangeFeed _feed;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private readonly Lock _gate = new();
    private Snapshot? _snapshot;
    private long _changes;
    private long _loads;
    private int _refreshing;

    public UpstreamGuard(IServiceScopeFactory scopes, ChangeFeed feed, TimeProvider time)
    {
        _scopes = scopes;
        _feed = feed;
        _time = time;
        _feed.Changed += OnChanged;
    }

    /// <summary>The names and rules at one moment; <see cref="Version"/> changes whenever they may have.</summary>
    public sealed class Snapshot(HashSet<string> owned, HashSet<string> overlaps, HashSet<string> early, long version, long changes, DateTimeOffset loadedAt)
    {
        /// <summary>Distinct for every load: what was derived from an older snapshot is not reused with a newer one.</summary>
        public long Version { get; } = version;

        /// <summary>How many changes this process had heard of when the snapshot was read.</summary>
        public long Changes { get; } = changes;

        public DateTimeOffset LoadedAt { get; } = loadedAt;

        public UpstreamStanding Standing(string project) =>
            !owned.Contains(project) ? UpstreamStanding.Public : overlaps.Contains(project) ? UpstreamStanding.Overlap : UpstreamStanding.Private;

        /// <summary>Whether an admin let this version (normalized) through before the cooldown passed.</summary>
        public bool AllowedEarly(string project, string version) => early.Contains(project + " " + version);
    }

    public async ValueTask<Snapshot> GetAsync(CancellationToken cancellationToken)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is null)
        {
            return await LoadAsync(cancellationToken);
        }

        if (_time.GetUtcNow() - snapshot.LoadedAt > Refresh && Interlocked.Exchange(ref _refreshing, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await LoadAsync(CancellationToken.None);
                }
                catch (Exception)
                {
                    // The next request tries again; the snapshot it has is at most a few seconds old.
                }
                finally
                {
                    Volatile.Write(ref _refreshing, 0);
                }
            }, CancellationToken.None);
        }

        return snapshot;
    }

    private async Task<Snapshot> LoadAsync(CancellationToken cancellationToken)
    {
        long changes;
        lock (_gate)
        {
            changes = _changes;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (Volatile.Read(ref _snapshot) is { } current && current.Changes >= changes && _time.GetUtcNow() - current.LoadedAt <= Refresh)
            {
                return current;
            }

            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            var owned = new HashSet<string>(await db.Files.AsNoTracking().Select(f => f.Project).Distinct().ToListAsync(cancellationToken), StringComparer.Ordinal);
            foreach (var project in await db.Builds.AsNoTracking().Where(b => b.Project != null).Select(b => b.Project!).Distinct().ToListAsync(cancellationToken))
            {
                owned.Add(PackageName.Normalize(project));
            }

            var overlaps = new HashSet<string>(StringComparer.Ordinal);
            var early = new HashSet<string>(StringComparer.Ordinal);
            foreach (var rule in await db.UpstreamRules.AsNoTracking().ToListAsync(cancellationToken))
            {
                switch (rule.Kind)
                {
                    case UpstreamRuleKinds.Reserve:
                        owned.Add(rule.Project);
                        break;
                    case UpstreamRuleKinds.Overlap:
                        overlaps.Add(rule.Project);
                        break;
                    case UpstreamRuleKinds.Early when rule.Version is not null:
                        early.Add(rule.Project + " " + rule.Version);
                        break;
                }
            }

            var snapshot = new Snapshot(owned, overlaps, early, Interlocked.Increment(ref _loads), changes, _time.GetUtcNow());
            lock (_gate)
            {
                if (_changes == changes)
                {
                    // Not when a change came while it was read: that change may be missing from it.
                    _snapshot = snapshot;
                }
            }

            return snapshot;
        }
        finally
        {
            _loading.Release();
        }
    }

    private void OnChanged(string topic, string key)
    {
        if (topic is ChangeTopics.Index or ChangeFeed.Everything)
        {
            // The next answer waits for the names as they are now.
            lock (_gate)
            {
                _changes++;
                _snapshot = null;
            }
        }
    }

    public void Dispose()
    {
        _feed.Changed -= OnChanged;
        _loading.Dispose();
    }
}
