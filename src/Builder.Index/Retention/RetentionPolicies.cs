using System.Globalization;
using System.Text.RegularExpressions;
using Builder.Access;
using Builder.Core.Access;
using Builder.Core.Index;
using Builder.Core.Packaging;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Builder.Index.Retention;

/// <summary>Body of <c>POST /api/retention-policies</c>.</summary>
public sealed record RetentionPolicyRequest(
    IReadOnlyList<string>? Projects, int? KeepLatest, string? KeepPattern, int? PrereleaseDays, int? OlderThanDays, string? Action);

public sealed record RetentionPolicyView(
    long Id, IReadOnlyList<string> Projects, int KeepLatest, string? KeepPattern, int? PrereleaseDays, int? OlderThanDays, string Action,
    string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? LastRunAt, DateTimeOffset NextRunAt);

/// <summary>One release a policy acts on now: <c>yank</c> or <c>delete</c>, its files, and why.</summary>
public sealed record RetentionStep(string Project, string Version, string Action, IReadOnlyList<string> Files, string Why);

/// <summary>A release the policy yanked that it deletes once the grace has passed.</summary>
public sealed record RetentionWaiting(string Project, string Version, DateTimeOffset YankedAt, DateTimeOffset DeleteAfter);

/// <summary>A release the policy leaves, and why.</summary>
public sealed record RetentionKept(string Project, string Version, string Why);

/// <summary>What a policy would do now (<c>GET .../preview</c>): the releases it acts on, those waiting for the grace, those it keeps.</summary>
public sealed record RetentionPreview(long PolicyId, DateTimeOffset At, IReadOnlyList<RetentionStep> Releases, IReadOnlyList<RetentionWaiting> Waiting, IReadOnlyList<RetentionKept> Kept);

/// <summary>What a run did: the steps applied, and those that found nothing to do (the release changed meanwhile), with why.</summary>
public sealed record RetentionRun(long PolicyId, DateTimeOffset At, IReadOnlyList<RetentionStep> Done, IReadOnlyList<RetentionKept> Skipped);

/// <summary>An outcome of the policy routes: a value, or a status and a sentence saying why not.</summary>
public sealed record RetentionResult<T>(T? Value, int Status, string? Problem)
    where T : class;

internal static class RetentionResult
{
    public static RetentionResult<T> Of<T>(T value)
        where T : class => new(value, StatusCodes.Status200OK, null);

    public static RetentionResult<T> Fail<T>(int status, string problem)
        where T : class => new(null, status, problem);
}

/// <summary>
/// Retention policies: their rows, what each would do now (<see cref="PreviewAsync"/>), and runs (on request, and on the
/// schedule through <see cref="RunDueAsync"/>), one at a time across processes (<see cref="RetentionLock"/>). A run only
/// asks <see cref="ReleaseAdmin"/> to yank or delete, so every change is audited (with the policy as the actor) and
/// reaches the index like an admin's. The newest release of a project and releases matching the keep pattern are never
/// touched; a release is deleted only after the policy yanked it and the grace passed since.
/// </summary>
public sealed class RetentionPolicies(
    BuilderDbContext db, ReleaseAdmin admin, AuditLog audit, RetentionLock retentionLock, IOptions<RetentionOptions> options, TimeProvider time)
{
    private const int MaxDays = 36500;
    private const int MaxKeepLatest = 100_000;
    private const int MaxPattern = 500;
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>Who acts in the audit log when a policy yanks or deletes: the policy itself.</summary>
    public static AuditActor Actor(long policyId) => new($"retention-policy:{policyId}", null, null);

    /// <summary>The actor of scheduled runs.</summary>
    public static AuditActor Schedule { get; } = new("retention-schedule", null, null);

    public RetentionPolicyView View(RetentionPolicy policy) => new(
        policy.Id, ProjectGlobs.FromStored(policy.Projects) is { IsAll: true } ? ["*"] : ProjectGlobs.FromStored(policy.Projects).Patterns,
        policy.KeepLatest, policy.KeepPattern, policy.PrereleaseDays, policy.OlderThanDays, policy.Action, policy.CreatedBy, policy.CreatedAt, policy.LastRunAt,
        (policy.LastRunAt ?? policy.CreatedAt) + options.Value.Period);

    public async Task<IReadOnlyList<RetentionPolicyView>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await db.RetentionPolicies.AsNoTracking().OrderBy(p => p.Id).ToListAsync(cancellationToken)).Select(View)];

    public async Task<RetentionResult<RetentionPolicyView>> CreateAsync(RetentionPolicyRequest? request, AuditActor actor, CancellationToken cancellationToken)
    {
        if (Check(request) is { } problem)
        {
            return RetentionResult.Fail<RetentionPolicyView>(StatusCodes.Status400BadRequest, problem);
        }

        var globs = ProjectGlobs.TryParse(request!.Projects, out var parsed, out _) ? parsed : throw new InvalidOperationException("checked above");
        var policy = new RetentionPolicy
        {
            Projects = globs.ToStored(),
            KeepLatest = request.KeepLatest!.Value,
            KeepPattern = string.IsNullOrEmpty(request.KeepPattern) ? null : request.KeepPattern,
            PrereleaseDays = request.PrereleaseDays,
            OlderThanDays = request.OlderThanDays,
            Action = request.Action!,
            CreatedBy = actor.Principal,
            CreatedAt = time.GetUtcNow(),
        };
        db.RetentionPolicies.Add(policy);
        await db.SaveChangesAsync(cancellationToken);
        audit.Add(db, actor, AuditActions.RetentionPolicyCreated, AuditOutcomes.Ok, null, Target(policy.Id), Describe(policy));
        await db.SaveChangesAsync(cancellationToken);
        return RetentionResult.Of<RetentionPolicyView>(View(policy));
    }

    /// <summary>Removes a policy (what it yanked stays yanked, and is no longer deleted by it).</summary>
    public async Task<RetentionResult<RetentionPolicyView>> DeleteAsync(long id, AuditActor actor, CancellationToken cancellationToken)
    {
        var policy = await db.RetentionPolicies.SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (policy is null)
        {
            return RetentionResult.Fail<RetentionPolicyView>(StatusCodes.Status404NotFound, $"no retention policy {id}");
        }

        db.RetentionYanks.RemoveRange(await db.RetentionYanks.Where(y => y.PolicyId == id).ToListAsync(cancellationToken));
        db.RetentionPolicies.Remove(policy);
        audit.Add(db, actor, AuditActions.RetentionPolicyDeleted, AuditOutcomes.Ok, null, Target(id), Describe(policy));
        await db.SaveChangesAsync(cancellationToken);
        return RetentionResult.Of<RetentionPolicyView>(View(policy));
    }

    public async Task<RetentionResult<RetentionPreview>> PreviewAsync(long id, CancellationToken cancellationToken)
    {
        var policy = await db.RetentionPolicies.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        return policy is null
            ? RetentionResult.Fail<RetentionPreview>(StatusCodes.Status404NotFound, $"no retention policy {id}")
            : RetentionResult.Of<RetentionPreview>(await PlanAsync(policy, cancellationToken));
    }

    /// <summary>Runs a policy now (an admin asked): waits for a run of another process to finish first.</summary>
    public async Task<RetentionResult<RetentionRun>> RunAsync(long id, AuditActor actor, CancellationToken cancellationToken)
    {
        await using var held = await retentionLock.AcquireAsync(wait: true, cancellationToken);
        var policy = await db.RetentionPolicies.SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        return policy is null
            ? RetentionResult.Fail<RetentionRun>(StatusCodes.Status404NotFound, $"no retention policy {id}")
            : RetentionResult.Of<RetentionRun>(await RunLockedAsync(policy, actor, cancellationToken));
    }

    /// <summary>
    /// The schedule's round: runs every policy whose period has passed since it last ran (or was created). Does nothing
    /// while another process runs policies: the due times are read again under the lock, so each period's run happens once.
    /// </summary>
    public async Task<IReadOnlyList<RetentionRun>> RunDueAsync(CancellationToken cancellationToken)
    {
        await using var held = await retentionLock.AcquireAsync(wait: false, cancellationToken);
        if (held is null)
        {
            return [];
        }

        var now = time.GetUtcNow();
        var period = options.Value.Period;
        var due = (await db.RetentionPolicies.OrderBy(p => p.Id).ToListAsync(cancellationToken))
            .Where(p => (p.LastRunAt ?? p.CreatedAt) + period <= now).ToList();
        var runs = new List<RetentionRun>();
        foreach (var policy in due)
        {
            runs.Add(await RunLockedAsync(policy, Schedule, cancellationToken));
        }

        return runs;
    }

    private async Task<RetentionRun> RunLockedAsync(RetentionPolicy policy, AuditActor actor, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(policy, cancellationToken);
        var by = Actor(policy.Id);
        var done = new List<RetentionStep>();
        var skipped = new List<RetentionKept>();
        foreach (var step in plan.Releases)
        {
            var marks = await db.RetentionYanks.Where(y => y.PolicyId == policy.Id && y.Project == step.Project && y.Version == step.Version).ToListAsync(cancellationToken);
            FilesChangeResult result;
            if (step.Action == RetentionActions.Yank)
            {
                // The mark commits with the yank (ReleaseAdmin saves the context's changes in its transaction).
                if (marks.FirstOrDefault() is { } mark)
                {
                    mark.YankedAt = time.GetUtcNow();
                }
                else
                {
                    db.RetentionYanks.Add(new RetentionYank { PolicyId = policy.Id, Project = step.Project, Version = step.Version, YankedAt = time.GetUtcNow() });
                }
                result = await admin.SetYankedAsync(step.Project, step.Version, null, true, $"retention policy {policy.Id}: {step.Why}", by, cancellationToken);
            }
            else
            {
                db.RetentionYanks.RemoveRange(marks);
                result = await admin.DeleteAsync(step.Project, step.Version, null, by, cancellationToken);
            }

            if (result.Changed is not null)
            {
                done.Add(step);
            }
            else
            {
                // The release went meanwhile (an admin deleted it): nothing was saved, forget what this step tracked.
                db.ChangeTracker.Clear();
                skipped.Add(new RetentionKept(step.Project, step.Version, result.Problem ?? "nothing to do"));
            }
        }

        var tracked = await db.RetentionPolicies.SingleAsync(p => p.Id == policy.Id, cancellationToken);
        // The end of the run, not its start: the next one comes a whole period after this one finished.
        tracked.LastRunAt = time.GetUtcNow();
        audit.Add(db, actor, AuditActions.RetentionPolicyRun, AuditOutcomes.Ok, null, Target(policy.Id),
            $"retention policy {policy.Id}: {Count(done, RetentionActions.Yank)} release(s) yanked, {Count(done, RetentionActions.Delete)} deleted"
            + (plan.Waiting.Count > 0 ? $", {plan.Waiting.Count} waiting for the grace" : string.Empty)
            + (done.Count > 0 ? ": " + string.Join(", ", done.Select(s => $"{s.Action} {s.Project} {s.Version}")) : string.Empty));
        await db.SaveChangesAsync(cancellationToken);
        return new RetentionRun(policy.Id, plan.At, done, skipped);
    }

    private static int Count(List<RetentionStep> steps, string action) => steps.Count(s => s.Action == action);

    /// <summary>What <paramref name="policy"/> does now, project by project, from the published files and the policy's marks.</summary>
    internal async Task<RetentionPreview> PlanAsync(RetentionPolicy policy, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var grace = options.Value.Grace;
        var globs = ProjectGlobs.FromStored(policy.Projects);
        var keep = policy.KeepPattern is null ? null : new Regex(policy.KeepPattern, RegexOptions.CultureInvariant, PatternTimeout);
        var projects = (await db.Files.AsNoTracking().Where(f => f.DeletedAt == null).Select(f => f.Project).Distinct().ToListAsync(cancellationToken))
            .Where(globs.Matches).Order(StringComparer.Ordinal).ToList();
        var marks = (await db.RetentionYanks.AsNoTracking().Where(y => y.PolicyId == policy.Id).ToListAsync(cancellationToken))
            .ToDictionary(y => (y.Project, y.Version));

        var steps = new List<RetentionStep>();
        var waiting = new List<RetentionWaiting>();
        var kept = new List<RetentionKept>();
        foreach (var project in projects)
        {
            var files = await db.Files.AsNoTracking().Where(f => f.Project == project && f.DeletedAt == null).ToListAsync(cancellationToken);
            var releases = files.GroupBy(f => Normalized(f.Version), StringComparer.Ordinal)
                .Select(g => (Version: g.Key, Files: g.ToList(), UploadedAt: g.Min(f => f.UploadedAt), Yanked: g.All(f => f.Yanked)))
                .OrderByDescending(r => r.Version, Pep440Comparer.Instance)
                .ToList();
            for (var i = 0; i < releases.Count; i++)
            {
                var release = releases[i];
                var age = now - release.UploadedAt;
                if (Kept(i, release.Version, age) is { } why)
                {
                    kept.Add(new RetentionKept(project, release.Version, why));
                    continue;
                }

                var reasons = Reasons(release.Version, age);
                var names = release.Files.Select(f => f.Filename).Order(StringComparer.Ordinal).ToList();
                marks.TryGetValue((project, release.Version), out var mark);
                if (!release.Yanked)
                {
                    steps.Add(new RetentionStep(project, release.Version, RetentionActions.Yank, names, reasons));
                }
                else if (policy.Action == RetentionActions.Delete)
                {
                    if (mark is not null && mark.YankedAt + grace <= now)
                    {
                        steps.Add(new RetentionStep(project, release.Version, RetentionActions.Delete, names,
                            $"{reasons}; yanked by this policy {mark.YankedAt:u}, the grace of {options.Value.GraceDays} day(s) has passed"));
                    }
                    else if (mark is not null)
                    {
                        waiting.Add(new RetentionWaiting(project, release.Version, mark.YankedAt, mark.YankedAt + grace));
                    }
                    else
                    {
                        // Yanked by someone else: the policy yanks it itself, so the grace counts from its own yank.
                        steps.Add(new RetentionStep(project, release.Version, RetentionActions.Yank, names, reasons + "; yanked before, not by this policy: the grace starts now"));
                    }
                }
            }
        }

        return new RetentionPreview(policy.Id, now, steps, waiting, kept);

        string? Kept(int index, string version, TimeSpan age)
        {
            if (index == 0)
            {
                return "the newest release";
            }

            if (index < policy.KeepLatest)
            {
                return $"among the newest {policy.KeepLatest}";
            }

            if (keep is not null)
            {
                try
                {
                    if (keep.IsMatch(version))
                    {
                        return $"matches keepPattern '{policy.KeepPattern}'";
                    }
                }
                catch (RegexMatchTimeoutException)
                {
                    return $"keepPattern '{policy.KeepPattern}' took too long on this version (kept to be safe)";
                }
            }

            if (policy.PrereleaseDays is { } prereleaseDays)
            {
                if (!Pep440Comparer.IsPrerelease(version))
                {
                    return "not a pre-release (the policy acts on pre-releases only)";
                }

                if (age < TimeSpan.FromDays(prereleaseDays))
                {
                    return $"a pre-release younger than {prereleaseDays} day(s)";
                }
            }

            if (policy.OlderThanDays is { } olderThanDays && age < TimeSpan.FromDays(olderThanDays))
            {
                return $"younger than {olderThanDays} day(s)";
            }

            return null;
        }

        string Reasons(string version, TimeSpan age)
        {
            var why = new List<string> { policy.KeepLatest > 1 ? $"not among the newest {policy.KeepLatest}" : "not the newest release" };
            if (policy.KeepPattern is not null)
            {
                why.Add($"does not match keepPattern '{policy.KeepPattern}'");
            }

            var days = ((int)age.TotalDays).ToString(CultureInfo.InvariantCulture);
            if (policy.PrereleaseDays is { } prereleaseDays)
            {
                why.Add($"a pre-release uploaded {days} day(s) ago (prereleaseDays {prereleaseDays})");
            }

            if (policy.OlderThanDays is { } olderThanDays)
            {
                why.Add($"uploaded {days} day(s) ago (olderThanDays {olderThanDays})");
            }

            return string.Join("; ", why);
        }
    }

    private static string Normalized(string version) => Pep440Version.TryNormalize(version, out var normalized) ? normalized : version;

    private static string Target(long id) => $"retention-policy:{id}";

    private static string Describe(RetentionPolicy policy)
    {
        var parts = new List<string>
        {
            $"projects {ProjectGlobs.FromStored(policy.Projects)}",
            $"keepLatest {policy.KeepLatest}",
        };
        if (policy.KeepPattern is not null)
        {
            parts.Add($"keepPattern '{policy.KeepPattern}'");
        }

        if (policy.PrereleaseDays is { } prereleaseDays)
        {
            parts.Add($"prereleaseDays {prereleaseDays}");
        }

        if (policy.OlderThanDays is { } olderThanDays)
        {
            parts.Add($"olderThanDays {olderThanDays}");
        }

        parts.Add($"action {policy.Action}");
        return string.Join(", ", parts);
    }

    /// <summary>The first thing wrong with a request, as a sentence naming the field; null when it is usable.</summary>
    private static string? Check(RetentionPolicyRequest? request)
    {
        if (request is null)
        {
            return "a retention policy needs a JSON body: {\"projects\": [globs], \"keepLatest\": N, \"action\": \"yank\" | \"delete\"}";
        }

        if (request.Projects is not { Count: > 0 })
        {
            return "\"projects\" needs at least one project glob (\"*\" for every project)";
        }

        if (!ProjectGlobs.TryParse(request.Projects, out _, out var globError))
        {
            return "\"projects\": " + globError;
        }

        if (request.KeepLatest is not { } keepLatest || keepLatest < 0 || keepLatest > MaxKeepLatest)
        {
            return $"\"keepLatest\" must be a number of releases from 0 to {MaxKeepLatest} (the newest release is always kept)";
        }

        if (!string.IsNullOrEmpty(request.KeepPattern))
        {
            if (request.KeepPattern.Length > MaxPattern)
            {
                return $"\"keepPattern\" must be at most {MaxPattern} characters";
            }

            try
            {
                _ = new Regex(request.KeepPattern, RegexOptions.CultureInvariant, PatternTimeout);
            }
            catch (ArgumentException ex)
            {
                return $"\"keepPattern\" is not a regular expression: {ex.Message}";
            }
        }

        if (request.PrereleaseDays is < 0 or > MaxDays)
        {
            return $"\"prereleaseDays\" must be from 0 to {MaxDays}";
        }

        if (request.OlderThanDays is < 0 or > MaxDays)
        {
            return $"\"olderThanDays\" must be from 0 to {MaxDays}";
        }

        if (request.Action is not (RetentionActions.Yank or RetentionActions.Delete))
        {
            return $"\"action\" must be \"{RetentionActions.Yank}\" or \"{RetentionActions.Delete}\" (it is '{request.Action}')";
        }

        return null;
    }
}
