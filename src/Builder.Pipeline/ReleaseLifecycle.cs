using System.Globalization;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Data;
using Builder.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Pipeline;

/// <summary>
/// The one owner of a build's and its parts' state. Every transition is a conditional update on the state it expects
/// (and, for a running plan or part, on the lease of the run that holds it), returns whether it applied, and writes a
/// <see cref="BuildEvent"/> in the same transaction (the outbox <see cref="BuildEventDispatcher"/> delivers). No other
/// code writes the state, lease or result columns of builds and parts.
/// </summary>
/// <remarks>
/// Jobs run at least once and may run twice at once; the rules that make their effects happen once:
/// a plan or part runs only under a lease it took with a conditional update (a second run sees the lease and stops);
/// a lease is refreshed by its run's heartbeat and taken over when older than <see cref="JobOptions.LeaseTimeout"/>;
/// a run that lost its lease (taken over, build cancelled or failed) stops; the release is published by one idempotent
/// step (<see cref="PublishReleaseJob"/>) whose success is recorded in the transaction that makes its files visible.
/// </remarks>
public sealed partial class ReleaseLifecycle(
    IDbContextFactory<BuilderDbContext> contexts,
    IBuildDispatcher dispatcher,
    PackageArtifacts artifacts,
    IOptions<JobOptions> jobs,
    TimeProvider time,
    ILogger<ReleaseLifecycle> logger) : IBuildPublication
{
    /// <summary>A new lease for one job run (<see cref="RunLease.New"/>).</summary>
    public static string NewLease(string workerName) => RunLease.New(workerName, Environment.ProcessId);

    /// <summary>Records a build of a tag push (or of "build again") as queued, then enqueues its plan.</summary>
    /// <exception cref="DbUpdateException">The same (repository, tag, commit, generation) exists: a redelivered webhook.</exception>
    public async Task<Build> QueueAsync(Build build, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        build.State = BuildState.Queued;
        build.CreatedAt = time.GetUtcNow();
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            db.Builds.Add(build);
            await db.SaveChangesAsync(cancellationToken);
            Record(db, build.Id, null, BuildEventKinds.Queued, BuildState.Queued,
                build.RetryOf is { } of ? $"build again of build {of} (generation {build.Generation})" : build.DeliveryId is { } d ? "delivery " + d : null);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        // Recorded first, then enqueued: if enqueueing fails the build stays queued, and the watchdog enqueues it.
        dispatcher.Enqueue(build.Id);
        return build;
    }

    /// <summary>
    /// Takes the build's planning lease: a queued build, or one whose planning run's lease expired. False: another run
    /// plans it (or planned it: its parts run), or it is finished.
    /// </summary>
    public async Task<bool> StartPlanAsync(long buildId, string lease, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expired = now - jobs.Value.LeaseTimeout;
        return await TransitionAsync(buildId, null, BuildEventKinds.Started, BuildState.Running, lease, db =>
            db.Builds.Where(b => b.Id == buildId && (b.State == BuildState.Queued || (b.State == BuildState.Running && b.LeaseOwner != null && b.HeartbeatAt < expired)))
                .ExecuteUpdateAsync(u => u
                    .SetProperty(b => b.State, BuildState.Running)
                    .SetProperty(b => b.StartedAt, now)
                    .SetProperty(b => b.Attempts, b => b.Attempts + 1)
                    .SetProperty(b => b.Error, (string?)null)
                    .SetProperty(b => b.LeaseOwner, lease)
                    .SetProperty(b => b.HeartbeatAt, now), cancellationToken), cancellationToken);
    }

    /// <summary>Refreshes a planning lease; false when it is no longer this run's (taken over, or the build ended).</summary>
    public async Task<bool> PlanHeartbeatAsync(long buildId, string lease, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        return await db.Builds.Where(b => b.Id == buildId && b.State == BuildState.Running && b.LeaseOwner == lease)
            .ExecuteUpdateAsync(u => u.SetProperty(b => b.HeartbeatAt, now), cancellationToken) == 1;
    }

    /// <summary>Hands a planning lease back after a fault: the build is queued again for the job's retry.</summary>
    public Task<bool> ReleasePlanAsync(long buildId, string lease, string reason) =>
        TransitionAsync(buildId, null, BuildEventKinds.Queued, BuildState.Queued, reason, db =>
            db.Builds.Where(b => b.Id == buildId && b.State == BuildState.Running && b.LeaseOwner == lease)
                .ExecuteUpdateAsync(u => u.SetProperty(b => b.State, BuildState.Queued).SetProperty(b => b.LeaseOwner, (string?)null).SetProperty(b => b.HeartbeatAt, (DateTimeOffset?)null)),
            CancellationToken.None);

    /// <summary>Records what the clone found (the tag's version and commit) while the plan still holds its lease.</summary>
    public async Task<bool> RecordSourceAsync(long buildId, string lease, string version, string resolvedCommit, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Builds.Where(b => b.Id == buildId && b.State == BuildState.Running && b.LeaseOwner == lease)
            .ExecuteUpdateAsync(u => u.SetProperty(b => b.Version, version).SetProperty(b => b.ResolvedCommit, resolvedCommit), cancellationToken) == 1;
    }

    /// <summary>
    /// Ends planning: records the parts, the project's settings and the staged source bundle (null: none), and releases the
    /// planning lease in one transaction, then enqueues each part. False (nothing recorded): the lease is no longer this run's.
    /// </summary>
    public async Task<bool> RecordPlanAsync(
        long buildId, string lease, IReadOnlyList<BuildPart> parts, ProjectBuildSettings settings, string? sourceBundleSha256, CancellationToken cancellationToken)
    {
        var plannedSettings = settings.ToJson();
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var updated = await db.Builds.Where(b => b.Id == buildId && b.State == BuildState.Running && b.LeaseOwner == lease)
                .ExecuteUpdateAsync(u => u.SetProperty(b => b.LeaseOwner, (string?)null).SetProperty(b => b.HeartbeatAt, (DateTimeOffset?)null)
                    .SetProperty(b => b.PlannedSettings, plannedSettings).SetProperty(b => b.SourceBundleSha256, sourceBundleSha256), cancellationToken);
            if (updated == 0)
            {
                return false;
            }

            // A plan taken over from a run that died after it recorded parts cannot happen (parts and the lease's end
            // commit together), but a half-built run's targets may exist: they are the new plan's to write.
            await db.BuildTargets.Where(t => t.BuildId == buildId).ExecuteDeleteAsync(cancellationToken);
            foreach (var part in parts)
            {
                part.State = BuildState.Queued;
            }

            db.BuildParts.AddRange(parts);
            await db.SaveChangesAsync(cancellationToken);
            Record(db, buildId, null, BuildEventKinds.Planned, BuildState.Running,
                string.Create(CultureInfo.InvariantCulture, $"{parts.Count} part(s): {string.Join(", ", parts.Select(p => $"{p.Id} {p.Architecture}"))}"));
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        foreach (var part in parts)
        {
            await EnqueuePartAsync(part.Id, part.Architecture);
        }

        return true;
    }

    /// <summary>
    /// A build whose tag is already published from the same commit (a redelivery, "build again" of a published tag):
    /// it succeeds without building. False: the lease is no longer this run's.
    /// </summary>
    public Task<bool> SucceedAlreadyPublishedAsync(long buildId, string lease, string project) =>
        TransitionAsync(buildId, null, BuildEventKinds.Published, BuildState.Succeeded, $"{project}: already published from this commit; nothing built", db =>
            db.Builds.Where(b => b.Id == buildId && b.State == BuildState.Running && b.LeaseOwner == lease)
                .ExecuteUpdateAsync(u => u.SetProperty(b => b.State, BuildState.Succeeded).SetProperty(b => b.Project, project)
                    .SetProperty(b => b.FinishedAt, time.GetUtcNow()).SetProperty(b => b.LeaseOwner, (string?)null).SetProperty(b => b.HeartbeatAt, (DateTimeOffset?)null)),
            CancellationToken.None);

    /// <summary>
    /// Takes a part's lease: a queued part, or a running one whose lease expired, of a running build. Returns the part
    /// (with its build and repository) when this run now holds it; null when another run holds it, it is finished, or
    /// its build is.
    /// </summary>
    public async Task<(Build Build, BuildPart Part, string? TakenFrom)?> StartPartAsync(long partId, string lease, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expired = now - jobs.Value.LeaseTimeout;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        string? takenFrom = null;
        var started = false;
        // The start is conditional on the state it read, so its event says what it replaced: a queued part, or the run
        // whose lease expired. When the part changed in between (the watchdog queued it again at that moment), it reads again.
        for (var attempt = 0; attempt < 3 && !started; attempt++)
        {
            var before = await db.BuildParts.AsNoTracking().Where(p => p.Id == partId).Select(p => new { p.BuildId, p.LeaseOwner, p.State }).SingleOrDefaultAsync(cancellationToken);
            if (before is null || before.State is not (BuildState.Queued or BuildState.Running))
            {
                return null;
            }

            var queued = before.State == BuildState.Queued;
            takenFrom = queued ? null : before.LeaseOwner;
            started = await TransitionAsync(before.BuildId, partId, BuildEventKinds.PartStarted, BuildState.Running,
                takenFrom is null ? lease : $"{lease} (took over from {takenFrom}: its lease expired)", tx =>
                tx.BuildParts.Where(p => p.Id == partId
                        && (queued
                            ? p.State == BuildState.Queued
                            : p.State == BuildState.Running && p.LeaseOwner == before.LeaseOwner && (p.HeartbeatAt == null || p.HeartbeatAt < expired))
                        && tx.Builds.Any(b => b.Id == p.BuildId && b.State == BuildState.Running && b.LeaseOwner == null))
                    .ExecuteUpdateAsync(u => u
                        .SetProperty(p => p.State, BuildState.Running)
                        .SetProperty(p => p.StartedAt, now)
                        .SetProperty(p => p.FinishedAt, (DateTimeOffset?)null)
                        .SetProperty(p => p.Attempts, p => p.Attempts + 1)
                        .SetProperty(p => p.Error, (string?)null)
                        .SetProperty(p => p.LeaseOwner, lease)
                        .SetProperty(p => p.HeartbeatAt, now), cancellationToken), cancellationToken);
        }

        if (!started)
        {
            return null;
        }

        var part = await db.BuildParts.AsNoTracking().SingleAsync(p => p.Id == partId, cancellationToken);
        var build = await db.Builds.AsNoTracking().Include(b => b.Repository).SingleAsync(b => b.Id == part.BuildId, cancellationToken);
        return (build, part, takenFrom);
    }

    /// <summary>Refreshes a part's lease; false when it is no longer this run's (taken over, cancelled, build ended).</summary>
    public async Task<bool> PartHeartbeatAsync(long partId, string lease, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        return await db.BuildParts.Where(p => p.Id == partId && p.State == BuildState.Running && p.LeaseOwner == lease)
            .ExecuteUpdateAsync(u => u.SetProperty(p => p.HeartbeatAt, now), cancellationToken) == 1;
    }

    /// <summary>Whether this run still holds the part, read fresh (a run checks before it records results).</summary>
    public async Task<bool> HoldsPartAsync(long partId, string lease, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.BuildParts.AnyAsync(p => p.Id == partId && p.State == BuildState.Running && p.LeaseOwner == lease, cancellationToken);
    }

    /// <summary>The workers of the runs that started this part before (from its part-started events), earliest first.</summary>
    public async Task<IReadOnlyList<string>> EarlierRunWorkersAsync(long partId, string currentLease, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var leases = await db.BuildEvents.AsNoTracking().Where(e => e.PartId == partId && e.Kind == BuildEventKinds.PartStarted)
            .OrderBy(e => e.Id).Select(e => e.Detail).ToListAsync(cancellationToken);
        return leases.Where(l => l is not null && !l.StartsWith(currentLease, StringComparison.Ordinal))
            .Select(l => RunLease.WorkerOf(l!)).Where(w => w.Length > 0).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Why a run no longer holds its part, for its log: the part's end (cancelled, the release failed) or a takeover.</summary>
    public async Task<string> LostReasonAsync(long partId)
    {
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        var part = await db.BuildParts.AsNoTracking().Where(p => p.Id == partId).Select(p => new { p.State, p.Error, p.LeaseOwner }).SingleOrDefaultAsync(CancellationToken.None);
        return part switch
        {
            null => "the part no longer exists",
            { State: BuildState.Cancelled or BuildState.Failed, Error: { } error } => error,
            { State: BuildState.Running, LeaseOwner: { } owner } => $"this run's lease expired and another run ({owner}) took the part over",
            { State: BuildState.Succeeded } => "this run's lease expired and another run took the part over and finished it",
            _ => $"this run's lease expired; the part is {part.State.ToString().ToLowerInvariant()} again",
        };
    }

    /// <summary>
    /// The part built and staged its files: it succeeds (while this run holds it and the build runs), and its staged
    /// files' rows are written with it. When it was the last part, the release's publication is enqueued. False: the
    /// lease is no longer this run's; nothing recorded.
    /// </summary>
    public async Task<bool> PartSucceededAsync(long partId, long buildId, string lease, IReadOnlyList<StagedFile> files, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var names = string.Join(' ', files.Select(f => f.Filename));
        bool last = false;
        var applied = await TransitionAsync(buildId, partId, BuildEventKinds.PartSucceeded, BuildState.Succeeded, names, async tx =>
        {
            var updated = await tx.BuildParts.Where(p => p.Id == partId && p.State == BuildState.Running && p.LeaseOwner == lease
                    && tx.Builds.Any(b => b.Id == p.BuildId && b.State == BuildState.Running))
                .ExecuteUpdateAsync(u => u
                    .SetProperty(p => p.State, BuildState.Succeeded)
                    .SetProperty(p => p.FinishedAt, now)
                    .SetProperty(p => p.LeaseOwner, (string?)null)
                    .SetProperty(p => p.HeartbeatAt, (DateTimeOffset?)null), cancellationToken);
            if (updated == 1)
            {
                // Saved with the event, in the transaction of the part's success.
                tx.StagedFiles.AddRange(files.Select(f => new StagedFile
                {
                    BuildId = buildId,
                    PartId = partId,
                    Filename = f.Filename,
                    Sha256 = f.Sha256,
                    Size = f.Size,
                    Project = f.Project,
                    Version = f.Version,
                    RequiresPython = f.RequiresPython,
                    MetadataSha256 = f.MetadataSha256,
                    MetadataSize = f.MetadataSize,
                    Target = f.Target,
                    Sboms = f.Sboms,
                }));
            }

            last = updated == 1 && !await tx.BuildParts.AnyAsync(p => p.BuildId == buildId && p.State != BuildState.Succeeded, cancellationToken);
            if (last)
            {
                await tx.Builds.Where(b => b.Id == buildId).ExecuteUpdateAsync(u => u.SetProperty(b => b.PublishQueuedAt, now), cancellationToken);
            }

            return updated;
        }, cancellationToken);
        if (applied && last)
        {
            dispatcher.EnqueuePublish(buildId);
        }

        return applied;
    }

    /// <summary>The part failed for its own reasons (a target failed): the part and the release fail together.</summary>
    public async Task<bool> PartFailedAsync(long partId, long buildId, string lease, string message)
    {
        var now = time.GetUtcNow();
        var applied = await TransitionAsync(buildId, partId, BuildEventKinds.PartFailed, BuildState.Failed, message, async tx =>
        {
            var updated = await tx.BuildParts.Where(p => p.Id == partId && p.State == BuildState.Running && p.LeaseOwner == lease)
                .ExecuteUpdateAsync(u => u.SetProperty(p => p.State, BuildState.Failed).SetProperty(p => p.Error, message)
                    .SetProperty(p => p.FinishedAt, now).SetProperty(p => p.LeaseOwner, (string?)null).SetProperty(p => p.HeartbeatAt, (DateTimeOffset?)null));
            if (updated == 1)
            {
                await EndBuildAsync(tx, buildId, BuildState.Failed, BuildEventKinds.Failed, message, now);
            }

            return updated;
        }, CancellationToken.None);
        if (applied)
        {
            await StopPartsAsync(buildId);
        }

        return applied;
    }

    /// <summary>Hands a part back after a fault (its job will be retried): queued again, its lease cleared.</summary>
    public Task<bool> ReleasePartAsync(long partId, long buildId, string lease, string reason) =>
        TransitionAsync(buildId, partId, BuildEventKinds.PartRequeued, BuildState.Queued, reason, tx =>
            tx.BuildParts.Where(p => p.Id == partId && p.State == BuildState.Running && p.LeaseOwner == lease)
                .ExecuteUpdateAsync(u => u.SetProperty(p => p.State, BuildState.Queued).SetProperty(p => p.LeaseOwner, (string?)null).SetProperty(p => p.HeartbeatAt, (DateTimeOffset?)null)),
            CancellationToken.None);

    /// <summary>
    /// Fails an unfinished build (a plan or publish step failed, or a fault outlasted its retries), stops its parts and
    /// drops what they staged. False: it was already finished, and that state stands.
    /// </summary>
    public async Task<bool> FailAsync(long buildId, string message)
    {
        var now = time.GetUtcNow();
        var applied = await TransitionAsync(buildId, null, null, BuildState.Failed, message,
            tx => EndBuildAsync(tx, buildId, BuildState.Failed, BuildEventKinds.Failed, message, now), CancellationToken.None);
        if (applied)
        {
            LogFailed(logger, buildId, message);
            await StopPartsAsync(buildId);
        }

        return applied;
    }

    /// <summary>
    /// Cancels the unfinished builds of a deleted tag: each build and its unfinished parts are recorded cancelled
    /// (so no publication applies and every run's next heartbeat stops it), then their jobs are deleted. Returns the
    /// builds cancelled.
    /// </summary>
    public async Task<IReadOnlyList<long>> CancelTagAsync(long repositoryId, string tag, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var candidates = await db.Builds.AsNoTracking()
            .Where(b => b.RepositoryId == repositoryId && b.Tag == tag && (b.State == BuildState.Queued || b.State == BuildState.Running))
            .Select(b => b.Id).ToListAsync(cancellationToken);
        var cancelled = new List<long>();
        var now = time.GetUtcNow();
        var message = $"cancelled: tag '{tag}' was deleted";
        foreach (var id in candidates)
        {
            if (await TransitionAsync(id, null, null, BuildState.Cancelled, message,
                    tx => EndBuildAsync(tx, id, BuildState.Cancelled, BuildEventKinds.Cancelled, message, now), CancellationToken.None))
            {
                cancelled.Add(id);
                await StopPartsAsync(id);
            }
        }

        return cancelled;
    }

    /// <summary>
    /// A publish run starts: the build runs, planning is over and every part succeeded. Counts the run (each writes an
    /// end-of-attempt marker to the log). False: nothing to publish (finished, or not every part succeeded).
    /// </summary>
    public async Task<bool> StartPublishAsync(long buildId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await ReadyToPublish(db).Where(b => b.Id == buildId)
            .ExecuteUpdateAsync(u => u.SetProperty(b => b.PublishAttempts, b => b.PublishAttempts + 1), cancellationToken) == 1;
    }

    /// <summary>
    /// Records the release published, inside the transaction that makes its files visible (<see cref="ReleasePublisher"/>):
    /// the build must still be running with every part succeeded. False: it was cancelled or failed meanwhile, and the
    /// caller rolls the files back.
    /// </summary>
    public async Task<bool> PublishedAsync(BuilderDbContext db, long buildId, string project, IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var updated = await ReadyToPublish(db).Where(b => b.Id == buildId)
            .ExecuteUpdateAsync(u => u.SetProperty(b => b.State, BuildState.Succeeded).SetProperty(b => b.Project, project).SetProperty(b => b.FinishedAt, now), cancellationToken);
        if (updated == 0)
        {
            return false;
        }

        Record(db, buildId, null, BuildEventKinds.Published, BuildState.Succeeded, $"{project}: {string.Join(' ', files)}");
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// What the watchdog does each heartbeat (and the embedded default once at start, with every lease dead): parts
    /// and plans whose lease expired are queued again and enqueued; a build whose parts all succeeded but whose
    /// publication never ran is enqueued for publishing; a queued build or part left without a job is enqueued.
    /// Returns how many things it enqueued.
    /// </summary>
    public async Task<int> RecoverAsync(bool everyLeaseIsDead, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expired = everyLeaseIsDead ? DateTimeOffset.MaxValue : now - jobs.Value.LeaseTimeout;
        var enqueued = 0;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);

        var parts = await db.BuildParts.AsNoTracking()
            .Where(p => p.State == BuildState.Running && (p.HeartbeatAt == null || p.HeartbeatAt < expired) && db.Builds.Any(b => b.Id == p.BuildId && b.State == BuildState.Running))
            .Select(p => new { p.Id, p.BuildId, p.Architecture, p.LeaseOwner }).ToListAsync(cancellationToken);
        foreach (var part in parts)
        {
            var requeued = await TransitionAsync(part.BuildId, part.Id, BuildEventKinds.PartRequeued, BuildState.Queued,
                $"the lease of {part.LeaseOwner} expired (no heartbeat for {jobs.Value.LeaseTimeoutSeconds} s): queued again", tx =>
                tx.BuildParts.Where(p => p.Id == part.Id && p.State == BuildState.Running && p.LeaseOwner == part.LeaseOwner && (p.HeartbeatAt == null || p.HeartbeatAt < expired))
                    .ExecuteUpdateAsync(u => u.SetProperty(p => p.State, BuildState.Queued).SetProperty(p => p.LeaseOwner, (string?)null).SetProperty(p => p.HeartbeatAt, (DateTimeOffset?)null)),
                cancellationToken);
            if (requeued)
            {
                LogPartRequeued(logger, part.Id, part.BuildId, part.LeaseOwner ?? "?");
                await EnqueuePartAsync(part.Id, part.Architecture);
                enqueued++;
            }
        }

        var plans = await db.Builds.AsNoTracking()
            .Where(b => b.State == BuildState.Running && b.LeaseOwner != null && b.HeartbeatAt < expired)
            .Select(b => new { b.Id, b.LeaseOwner }).ToListAsync(cancellationToken);
        foreach (var plan in plans)
        {
            if (await ReleasePlanAsync(plan.Id, plan.LeaseOwner!, $"the planning lease of {plan.LeaseOwner} expired: queued again"))
            {
                dispatcher.Enqueue(plan.Id);
                enqueued++;
            }
        }

        if (everyLeaseIsDead)
        {
            // The embedded default's job queue lived in this process's memory: everything queued lost its job.
            var requeuedPlans = plans.Select(p => p.Id).ToList();
            foreach (var id in await db.Builds.AsNoTracking().Where(b => b.State == BuildState.Queued && !requeuedPlans.Contains(b.Id)).OrderBy(b => b.Id).Select(b => b.Id).ToListAsync(cancellationToken))
            {
                dispatcher.Enqueue(id);
                enqueued++;
                LogUnfinished(logger, id);
            }

            foreach (var id in requeuedPlans.Concat(parts.Select(p => p.BuildId)).Distinct())
            {
                LogUnfinished(logger, id);
            }

            var queued = await db.BuildParts.AsNoTracking()
                .Where(p => p.State == BuildState.Queued && db.Builds.Any(b => b.Id == p.BuildId && b.State == BuildState.Running))
                .Select(p => new { p.Id, p.BuildId, p.Architecture }).ToListAsync(cancellationToken);
            foreach (var part in queued.Where(q => !parts.Any(p => p.Id == q.Id)))
            {
                await EnqueuePartAsync(part.Id, part.Architecture);
                enqueued++;
                LogUnfinished(logger, part.BuildId);
            }
        }

        // Every part succeeded, but no publication finished: the enqueue was lost (a crash right after the last part's
        // commit), or the publish job failed its attempts on faults, or it still waits behind long builds. Publishing is
        // idempotent, so enqueueing it again is safe; once per lease timeout at most (PublishQueuedAt, a conditional
        // update: one watchdog of many wins), so a waiting publication is not duplicated every heartbeat.
        var ready = await ReadyToPublish(db).AsNoTracking()
            .Where(b => b.PublishQueuedAt == null || b.PublishQueuedAt < expired)
            .Select(b => new { b.Id, b.PublishQueuedAt }).ToListAsync(cancellationToken);
        foreach (var build in ready)
        {
            var claimed = await db.Builds.Where(b => b.Id == build.Id && b.State == BuildState.Running && b.PublishQueuedAt == build.PublishQueuedAt)
                .ExecuteUpdateAsync(u => u.SetProperty(b => b.PublishQueuedAt, now), cancellationToken);
            if (claimed == 1)
            {
                dispatcher.EnqueuePublish(build.Id);
                enqueued++;
            }
        }

        return enqueued;
    }

    /// <summary>
    /// Builds ready to be published: running, planned (no planning lease), with parts, every one succeeded. The one
    /// definition the publish run's start, its success and the watchdog's re-enqueue share.
    /// </summary>
    private static IQueryable<Build> ReadyToPublish(BuilderDbContext db) =>
        db.Builds.Where(b => b.State == BuildState.Running && b.LeaseOwner == null
            && db.BuildParts.Any(p => p.BuildId == b.Id) && !db.BuildParts.Any(p => p.BuildId == b.Id && p.State != BuildState.Succeeded));

    /// <summary>The build's ending: build and unfinished parts, one conditional update each, and the build's event.</summary>
    private async Task<int> EndBuildAsync(BuilderDbContext tx, long buildId, BuildState state, string kind, string message, DateTimeOffset now)
    {
        var updated = await tx.Builds.Where(b => b.Id == buildId && (b.State == BuildState.Queued || b.State == BuildState.Running))
            .ExecuteUpdateAsync(u => u.SetProperty(b => b.State, state).SetProperty(b => b.Error, message).SetProperty(b => b.FinishedAt, now)
                .SetProperty(b => b.LeaseOwner, (string?)null).SetProperty(b => b.HeartbeatAt, (DateTimeOffset?)null));
        if (updated == 0)
        {
            return 0;
        }

        var open = await tx.BuildParts.Where(p => p.BuildId == buildId && (p.State == BuildState.Queued || p.State == BuildState.Running)).Select(p => p.Id).ToListAsync();
        await tx.BuildParts.Where(p => open.Contains(p.Id))
            .ExecuteUpdateAsync(u => u.SetProperty(p => p.State, BuildState.Cancelled).SetProperty(p => p.FinishedAt, now)
                .SetProperty(p => p.Error, state == BuildState.Cancelled ? message : "stopped: the release failed in another step")
                .SetProperty(p => p.LeaseOwner, (string?)null).SetProperty(p => p.HeartbeatAt, (DateTimeOffset?)null));
        foreach (var part in open)
        {
            Record(tx, buildId, part, BuildEventKinds.PartCancelled, BuildState.Cancelled, state == BuildState.Cancelled ? message : "the release failed");
        }

        Record(tx, buildId, null, kind, state, message);
        return updated;
    }

    /// <summary>After a build ended: its parts' jobs are deleted (their runs stop) and what they staged is dropped.</summary>
    private async Task StopPartsAsync(long buildId)
    {
        await using (var db = await contexts.CreateDbContextAsync(CancellationToken.None))
        {
            var parts = await db.BuildParts.AsNoTracking().Where(p => p.BuildId == buildId).ToListAsync(CancellationToken.None);
            foreach (var part in parts.Where(p => p.JobId is not null && p.State == BuildState.Cancelled))
            {
                dispatcher.Cancel(part.JobId!);
            }
        }

        await DropStagedAsync(buildId, CancellationToken.None);
    }

    /// <summary>
    /// Removes what the build's parts staged, objects first, then their rows (an object whose removal failed keeps its
    /// row, which names it), and the build's source bundle.
    /// </summary>
    public async Task DropStagedAsync(long buildId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var staged = await db.StagedFiles.AsNoTracking().Where(f => f.BuildId == buildId).ToListAsync(cancellationToken);
        await artifacts.DropStagedAsync(staged, cancellationToken);
        await db.StagedFiles.Where(f => f.BuildId == buildId).ExecuteDeleteAsync(cancellationToken);
        if (await db.Builds.Where(b => b.Id == buildId).Select(b => b.SourceBundleSha256).SingleOrDefaultAsync(cancellationToken) is { } bundle)
        {
            await artifacts.DropSourceBundleAsync(buildId, bundle, cancellationToken);
        }
    }

    private async Task EnqueuePartAsync(long partId, string architecture)
    {
        var jobId = dispatcher.EnqueuePart(partId, architecture);
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        await db.BuildParts.Where(p => p.Id == partId).ExecuteUpdateAsync(u => u.SetProperty(p => p.JobId, jobId), CancellationToken.None);
    }

    /// <summary>
    /// One transition: <paramref name="update"/> (the conditional update; it returns the rows it changed) and, when it
    /// applied, the event, in one transaction. Returns whether it applied.
    /// </summary>
    private async Task<bool> TransitionAsync(long buildId, long? partId, string? kind, BuildState state, string? detail,
        Func<BuilderDbContext, Task<int>> update, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using IDbContextTransaction transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        // The transition's own event comes first, before any the update records (a part failing ends its build):
        // events are delivered in the order they were written, and "part failed" precedes the "failed" it caused.
        if (kind is not null)
        {
            Record(db, buildId, partId, kind, state, detail);
        }

        if (await update(db) == 0)
        {
            return false;
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private void Record(BuilderDbContext db, long buildId, long? partId, string kind, BuildState state, string? detail) =>
        db.BuildEvents.Add(new BuildEvent
        {
            BuildId = buildId,
            PartId = partId,
            Kind = kind,
            State = state.ToString().ToLowerInvariant(),
            Detail = detail is { Length: > 2000 } ? detail[..2000] : detail,
            At = time.GetUtcNow(),
        });

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, long buildId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} was unfinished at the last stop; enqueued again")]
    private static partial void LogUnfinished(ILogger logger, long buildId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Part {PartId} of build {BuildId}: the lease of {Lease} expired; queued again")]
    private static partial void LogPartRequeued(ILogger logger, long partId, long buildId, string lease);
}
