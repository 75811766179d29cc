using Builder.Access;
using Builder.Core.Builds;
using Builder.Data;
using Builder.Index.Upstream;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Builder.Index.Collection;

/// <summary>What one collection removed (or, in a dry run, would remove): the object, its kind, its size and why.</summary>
/// <param name="Kind"><see cref="StorageCollector.Staging"/>, <see cref="StorageCollector.Orphan"/> or <see cref="StorageCollector.Upstream"/>.</param>
public sealed record GcRemoval(string Key, string Kind, long Bytes, string Reason);

/// <summary>
/// The answer of one collection: what it removed (<see cref="DryRun"/>: would remove) and how many bytes, what it kept
/// (<see cref="WithinGrace"/>: objects no row names that are younger than the grace), the upstream cache and staging as
/// they are after it, and objects outside Builder's layout, which are never touched.
/// </summary>
public sealed record GcReport(
    bool DryRun, DateTimeOffset StartedAt, double GraceHours, long? UpstreamCacheLimit, IReadOnlyList<GcRemoval> Removed, long RemovedFiles, long RemovedBytes,
    StoredBytes Kept, StoredBytes WithinGrace, StoredBytes UpstreamCache, StoredBytes Staging, StoredBytes Foreign);

/// <summary>
/// Garbage collection of the artifact store: removes what nobody will read or promote again, and reports it.
/// <list type="bullet">
/// <item>Staging (<c>_staging-{build}/</c>) of a build that is no longer running (succeeded, failed, cancelled, or gone):
/// a publication promotes staged files only while its build runs, and records the build's end in the transaction that
/// publishes, so no publication in flight needs them. A queued or running build's staging is kept, whatever its age.</item>
/// <item>Published keys (<c>{project}/{file}</c> and sidecars) no live row names: bytes of a deleted file (removed at
/// once), and bytes a publication stored but never committed, once older than <c>Builder:Storage:GcGraceHours</c>. Each
/// is removed under its project's <see cref="PublishLock"/> after the rows are read again: a publication holds that lock
/// from its first write to its commit, so bytes it is about to commit are never touched, whatever the grace.</item>
/// <item>Upstream files beyond <c>Builder:Upstream:CacheBytes</c>, least recently read first (<see cref="UpstreamReads"/>;
/// an object never read since it was kept counts as read when it was written). A removed file is fetched again when asked
/// for.</item>
/// </list>
/// One collection at a time in the installation (<see cref="StorageGcLock"/>); each that removes (not a dry run) is
/// audited (<c>storage:gc</c>), and the schedule (<see cref="StorageGcSchedule"/>) counts from the last one.
/// </summary>
public sealed partial class StorageCollector(
    BuilderDbContext db, PackageArtifacts artifacts, PublishLock publishLock, StorageGcLock gcLock, AuditLog audit,
    IOptions<StorageGcOptions> options, IOptions<UpstreamOptions> upstream, TimeProvider time, ILogger<StorageCollector> logger)
{
    public const string Staging = "staging";
    public const string Orphan = "orphan";
    public const string Upstream = "upstream";

    /// <summary>A collection now (an admin's); null when another one is running.</summary>
    public async Task<GcReport?> RunAsync(bool dryRun, AuditActor actor, CancellationToken cancellationToken)
    {
        await using var held = await gcLock.AcquireAsync(wait: false, cancellationToken);
        return held is null ? null : await CollectAsync(dryRun, actor, cancellationToken);
    }

    /// <summary>
    /// The scheduled collection: runs when the last one (scheduled or an admin's) is at least <c>Builder:Storage:GcHours</c>
    /// old and no other is running; null otherwise.
    /// </summary>
    public async Task<GcReport?> RunIfDueAsync(CancellationToken cancellationToken)
    {
        await using var held = await gcLock.AcquireAsync(wait: false, cancellationToken);
        if (held is null)
        {
            return null;
        }

        var last = await db.Audit.AsNoTracking().Where(a => a.Action == AuditActions.StorageCollected)
            .OrderByDescending(a => a.Id).Select(a => (DateTimeOffset?)a.At).FirstOrDefaultAsync(cancellationToken);
        if (last is { } at && time.GetUtcNow() - at < options.Value.Every)
        {
            return null;
        }

        return await CollectAsync(dryRun: false, ScheduleActor, cancellationToken);
    }

    /// <summary>The audit log's actor of scheduled collections.</summary>
    public static AuditActor ScheduleActor { get; } = new("schedule:storage-gc", null, null);

    private async Task<GcReport> CollectAsync(bool dryRun, AuditActor actor, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var grace = options.Value.Grace;
        var limit = upstream.Value.CacheBytes;
        var listed = new List<(StoredObject Object, StoredKey Key)>();
        await foreach (var item in artifacts.ListAsync(cancellationToken))
        {
            listed.Add((item, PackageArtifacts.Classify(item.Key)));
        }

        var removals = new List<GcRemoval>();
        var removedKeys = new HashSet<string>(StringComparer.Ordinal);
        var withinGrace = default(StoredBytes);

        // Staging of builds that no longer run.
        var builds = listed.Where(l => l.Key.Kind == StoredKind.Staging).Select(l => l.Key.BuildId!.Value).Distinct().ToList();
        var states = await db.Builds.AsNoTracking().Where(b => builds.Contains(b.Id)).Select(b => new { b.Id, b.State }).ToDictionaryAsync(b => b.Id, b => b.State, cancellationToken);
        foreach (var (item, key) in listed.Where(l => l.Key.Kind == StoredKind.Staging))
        {
            var build = key.BuildId!.Value;
            string? reason = !states.TryGetValue(build, out var state) ? $"no build {build} exists"
                : state is BuildState.Succeeded or BuildState.Failed or BuildState.Cancelled ? $"build {build} is {BuildStates.Name(state)}"
                : null;
            if (reason is not null)
            {
                await RemoveAsync(item, Staging, reason);
            }
        }

        // Published keys no live row names.
        var candidates = new List<(StoredObject Object, StoredKey Key, bool Deleted, string Reason)>();
        var published = listed.Where(l => l.Key.Kind == StoredKind.Published).ToList();
        var names = published.Select(l => l.Key.Filename!).Distinct(StringComparer.Ordinal).ToList();
        var rows = await RowsAsync(names, cancellationToken);
        foreach (var (item, key) in published)
        {
            rows.TryGetValue(key.Filename!, out var row);
            if (row is not null && row.Project == key.Project && row.DeletedAt is { } deletedAt)
            {
                candidates.Add((item, key, true, $"{key.Filename} was deleted at {IndexPages.UploadTime(deletedAt)}"));
            }
            else if (row is null || row.Project != key.Project || (key.Metadata && !row.HasMetadata))
            {
                if (startedAt - item.LastModified < grace)
                {
                    withinGrace = withinGrace.Add(item.Size);
                    continue;
                }

                candidates.Add((item, key, false,
                    $"no published file names it; written at {IndexPages.UploadTime(item.LastModified)}, longer ago than Builder:Storage:GcGraceHours ({options.Value.GcGraceHours} h)"));
            }
        }

        foreach (var project in candidates.GroupBy(c => c.Key.Project!, StringComparer.Ordinal))
        {
            if (dryRun)
            {
                foreach (var candidate in project)
                {
                    await RemoveAsync(candidate.Object, Orphan, candidate.Reason);
                }

                continue;
            }

            // Under the project's publish lock, with the rows read again: a publication that stored these bytes and has
            // not committed yet holds the lock, so it is waited for, and what it committed is kept.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await using (await publishLock.AcquireAsync(db, project.Key, cancellationToken))
            {
                var now = await RowsAsync(project.Select(c => c.Key.Filename!).Distinct(StringComparer.Ordinal).ToList(), cancellationToken);
                foreach (var candidate in project)
                {
                    now.TryGetValue(candidate.Key.Filename!, out var row);
                    var live = row is not null && row.Project == project.Key && row.DeletedAt is null && (!candidate.Key.Metadata || row.HasMetadata);
                    if (!live)
                    {
                        await RemoveAsync(candidate.Object, Orphan, candidate.Reason);
                    }
                }

                await transaction.CommitAsync(cancellationToken);
            }
        }

        // The upstream cache, down to its limit, least recently read first.
        var cached = listed.Where(l => l.Key.Kind == StoredKind.Upstream).Select(l => l.Object).ToList();
        var cacheBytes = cached.Sum(o => o.Size);
        if (limit is { } most && cacheBytes > most)
        {
            var keys = cached.Select(o => o.Key).ToList();
            var reads = await db.UpstreamReads.AsNoTracking().Where(r => keys.Contains(r.Key)).ToDictionaryAsync(r => r.Key, r => r.LastReadAt, StringComparer.Ordinal, cancellationToken);
            var order = cached
                .Select(o => (Object: o, LastRead: reads.TryGetValue(o.Key, out var read) && read > o.LastModified ? read : o.LastModified))
                .OrderBy(o => o.LastRead).ThenBy(o => o.Object.Key, StringComparer.Ordinal);
            foreach (var (item, lastRead) in order)
            {
                if (cacheBytes <= most)
                {
                    break;
                }

                await RemoveAsync(item, Upstream,
                    $"the upstream cache holds {cacheBytes} bytes, more than Builder:Upstream:CacheBytes ({most}); last read at {IndexPages.UploadTime(lastRead)}");
                cacheBytes -= item.Size;
                if (!dryRun)
                {
                    await db.UpstreamReads.Where(r => r.Key == item.Key).ExecuteDeleteAsync(cancellationToken);
                }
            }
        }

        var kept = default(StoredBytes);
        var cache = default(StoredBytes);
        var staging = default(StoredBytes);
        var foreign = default(StoredBytes);
        foreach (var (item, key) in listed.Where(l => !removedKeys.Contains(l.Object.Key)))
        {
            kept = kept.Add(item.Size);
            switch (key.Kind)
            {
                case StoredKind.Upstream:
                    cache = cache.Add(item.Size);
                    break;
                case StoredKind.Staging:
                    staging = staging.Add(item.Size);
                    break;
                case StoredKind.Foreign:
                    foreign = foreign.Add(item.Size);
                    break;
            }
        }

        var removedBytes = removals.Sum(r => r.Bytes);
        if (!dryRun)
        {
            audit.Add(db, actor, AuditActions.StorageCollected, AuditOutcomes.Ok, detail:
                $"removed {removals.Count} objects ({removedBytes} bytes): {Count(Staging)} staging, {Count(Orphan)} orphan, {Count(Upstream)} upstream; kept {kept.Files} ({kept.Bytes} bytes)");
            await db.SaveChangesAsync(cancellationToken);
            LogCollected(logger, removals.Count, removedBytes, kept.Files, kept.Bytes);
        }

        return new GcReport(dryRun, startedAt, options.Value.GcGraceHours, limit, removals, removals.Count, removedBytes, kept, withinGrace, cache, staging, foreign);

        int Count(string kind) => removals.Count(r => r.Kind == kind);

        async Task RemoveAsync(StoredObject item, string kind, string reason)
        {
            if (!dryRun)
            {
                await artifacts.DeleteStoredAsync(item.Key, cancellationToken);
            }

            removals.Add(new GcRemoval(item.Key, kind, item.Size, reason));
            removedKeys.Add(item.Key);
        }
    }

    private sealed record FileRow(string Project, bool HasMetadata, DateTimeOffset? DeletedAt);

    /// <summary>The rows of these file names (file names are unique across projects).</summary>
    private async Task<Dictionary<string, FileRow>> RowsAsync(List<string> names, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, FileRow>(StringComparer.Ordinal);
        foreach (var chunk in names.Chunk(500))
        {
            var found = await db.Files.AsNoTracking().Where(f => chunk.Contains(f.Filename))
                .Select(f => new { f.Filename, f.Project, f.MetadataSha256, f.DeletedAt }).ToListAsync(cancellationToken);
            foreach (var f in found)
            {
                rows[f.Filename] = new FileRow(f.Project, f.MetadataSha256 != null, f.DeletedAt);
            }
        }

        return rows;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage garbage collection removed {Files} objects ({Bytes} bytes); {KeptFiles} kept ({KeptBytes} bytes)")]
    private static partial void LogCollected(ILogger logger, int files, long bytes, long keptFiles, long keptBytes);
}
