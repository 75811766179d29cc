using System.Globalization;
using System.Text;
using Builder.Access;
using Builder.Core.Access;
using Builder.Core.Builds;
using Builder.Data;
using Builder.Pipeline;
using Builder.Web.Access;
using Builder.Web.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Api;

public sealed record TargetResponse(string Name, string Architecture, bool Succeeded, double Seconds, IReadOnlyList<string> Files, string? Error);

public sealed record PartResponse(
    long Id,
    string Architecture,
    string Queue,
    IReadOnlyList<string> Identifiers,
    bool Sdist,
    string State,
    int Attempts,
    string? Error,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Worker,
    DateTimeOffset? HeartbeatAt);

public sealed record FileResponse(string Filename, string Url, string Sha256, long Size, string? RequiresPython);

public sealed record BuildResponse(
    long Id,
    string State,
    string Repository,
    string Tag,
    string Commit,
    string? ResolvedCommit,
    string? Project,
    string? Version,
    string? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<TargetResponse> Targets,
    IReadOnlyList<PartResponse> Parts,
    IReadOnlyList<FileResponse> Files,
    string LogUrl,
    int Generation,
    long? RetryOf,
    string EventsUrl,
    IReadOnlyList<StatusReportResponse> Statuses);

/// <summary>
/// One report to the build's forge: <c>state</c> (pending, running, success, failure, cancelled; assets for release
/// files), <c>target</c> (github-status, gitlab-status, gitea-status, github-release, gitlab-release), <c>sentAt</c>
/// (the last attempt; null before the first), <c>outcome</c> (null while waiting; sent, retrying, refused, gave-up,
/// superseded) and the forge's answer.
/// </summary>
public sealed record StatusReportResponse(string State, string Target, string? Description, DateTimeOffset? SentAt, string? Outcome, string? Detail, int Attempts);

/// <summary>One lifecycle event of a build (<c>GET /api/builds/{id}/events</c>).</summary>
public sealed record BuildEventResponse(long Id, long? Part, string Kind, string State, string? Detail, DateTimeOffset At);

internal static class BuildEndpoints
{
    public const string Build = "/api/builds/{id:long}";
    public const string Log = "/api/builds/{id:long}/log";
    public const string Events = "/api/builds/{id:long}/events";
    public const string Retry = "/api/builds/{id:long}/retry";

    public static void MapBuildApi(this IEndpointRouteBuilder app)
    {
        // Build status and logs need credentials (even with anonymous reads: logs show a repository's internals), and
        // read rights on the build's project and version; a build the principal may not see does not exist for them.
        var group = app.MapGroup(string.Empty).AddEndpointFilter<RequireCredentials>();
        group.MapGet(Build, GetAsync);
        group.MapGet(Log, GetLogAsync);
        group.MapGet(Events, GetEventsAsync);
        app.MapPost(Retry, RetryAsync).AddEndpointFilter<RequireAdmin>();
    }

    /// <summary>The one rule (<see cref="AccessRights.CanSeeBuild"/>), which <c>GET /api/builds</c> applies too.</summary>
    private static bool MaySee(Principal principal, Builder.Core.Builds.Build build) => principal.Rights.CanSeeBuild(build.Project, build.Version);

    private static ProblemHttpResult NoSuchBuild(long id) => Problems.NotFound($"build {id} does not exist");

    private static async Task<Results<Ok<BuildResponse>, ProblemHttpResult>> GetAsync(long id, HttpContext context, BuilderDbContext db, CancellationToken cancellationToken)
    {
        var build = await db.Builds.AsNoTracking().Include(b => b.Repository).Include(b => b.Targets).Include(b => b.Parts).AsSplitQuery()
            .SingleOrDefaultAsync(b => b.Id == id, cancellationToken);
        if (build is null || !MaySee(context.Principal(), build))
        {
            return NoSuchBuild(id);
        }

        var files = await db.Files.AsNoTracking().Where(f => f.BuildId == id).OrderBy(f => f.Filename).ToListAsync(cancellationToken);
        var statuses = await db.ForgeReports.AsNoTracking().Where(r => r.BuildId == id).OrderBy(r => r.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(new BuildResponse(
            build.Id,
            BuildStates.Name(build.State),
            build.Repository!.Name,
            build.Tag,
            build.CommitSha,
            build.ResolvedCommit,
            build.Project,
            build.Version,
            build.Error,
            build.CreatedAt,
            build.StartedAt,
            build.FinishedAt,
            build.Targets.OrderBy(t => t.Id)
                .Select(t => new TargetResponse(t.Name, t.Architecture, t.Succeeded, t.Seconds, t.Files.Split(' ', StringSplitOptions.RemoveEmptyEntries), t.Error))
                .ToList(),
            build.Parts.OrderBy(p => p.Id)
                .Select(p => new PartResponse(p.Id, p.Architecture, BuildQueues.ForArchitecture(p.Architecture), p.IdentifierList, p.IncludeSdist,
                    BuildStates.Name(p.State), p.Attempts, p.Error, p.StartedAt, p.FinishedAt, p.LeaseOwner, p.HeartbeatAt))
                .ToList(),
            files.Select(f => new FileResponse(f.Filename, PublicRoutes.File(f.Project, f.Filename), f.Sha256, f.Size, f.RequiresPython)).ToList(),
            PublicRoutes.Build(id) + "/log",
            build.Generation,
            build.RetryOf,
            PublicRoutes.Build(id) + "/events",
            statuses.Select(r => new StatusReportResponse(r.State, r.Target, r.Description, r.SentAt, r.Outcome, r.Detail, r.Attempts)).ToList()));
    }

    /// <summary>The build's lifecycle events in order (queued, started, planned, part-…, published / failed / cancelled).</summary>
    private static async Task<Results<Ok<List<BuildEventResponse>>, ProblemHttpResult>> GetEventsAsync(long id, long? after, HttpContext context, BuilderDbContext db, CancellationToken cancellationToken)
    {
        var build = await db.Builds.AsNoTracking().SingleOrDefaultAsync(b => b.Id == id, cancellationToken);
        if (build is null || !MaySee(context.Principal(), build))
        {
            return NoSuchBuild(id);
        }

        var from = after ?? 0;
        var events = await db.BuildEvents.AsNoTracking().Where(e => e.BuildId == id && e.Id > from).OrderBy(e => e.Id)
            .Select(e => new BuildEventResponse(e.Id, e.PartId, e.Kind, e.State, e.Detail, e.At)).ToListAsync(cancellationToken);
        return TypedResults.Ok(events);
    }

    /// <summary>
    /// "Build again" (admin): a new build of a failed or cancelled build's tag and commit — the next generation — queued
    /// at once. 409 when that tag is already published (its files are immutable), or when the build is not failed or
    /// cancelled (still running: wait; succeeded: nothing to build).
    /// </summary>
    private static async Task<IResult> RetryAsync(long id, HttpContext context, BuilderDbContext db, ReleaseLifecycle lifecycle, AuditLog audit, CancellationToken cancellationToken)
    {
        var build = await db.Builds.AsNoTracking().Include(b => b.Repository).SingleOrDefaultAsync(b => b.Id == id, cancellationToken);
        if (build is null)
        {
            return NoSuchBuild(id);
        }

        if (build.State is not (BuildState.Failed or BuildState.Cancelled))
        {
            return Conflict(build, $"build {id} is {BuildStates.Name(build.State)}; only a failed or cancelled build can be built again");
        }

        var published = await db.Builds.AsNoTracking()
            .Where(b => b.RepositoryId == build.RepositoryId && b.Tag == build.Tag && b.State == BuildState.Succeeded)
            .Select(b => (long?)b.Id).FirstOrDefaultAsync(cancellationToken);
        if (published is { } publishedId)
        {
            return Conflict(build, $"tag '{build.Tag}' of {build.Repository!.Name} is already published (build {publishedId}); published files are immutable: tag a new version instead");
        }

        Builder.Core.Builds.Build again;
        try
        {
            var generation = await db.Builds.Where(b => b.RepositoryId == build.RepositoryId && b.Tag == build.Tag && b.CommitSha == build.CommitSha)
                .MaxAsync(b => b.Generation, cancellationToken) + 1;
            again = await lifecycle.QueueAsync(new Builder.Core.Builds.Build
            {
                RepositoryId = build.RepositoryId,
                Tag = build.Tag,
                CommitSha = build.CommitSha,
                Generation = generation,
                RetryOf = build.Id,
            }, cancellationToken);
        }
        catch (DbUpdateException)
        {
            return Conflict(build, $"build {id} is being built again by another request at this moment");
        }

        await audit.RecordAsync(context.Actor(), AuditActions.BuildRetried, AuditOutcomes.Ok, project: build.Project,
            target: "build:" + again.Id.ToString(CultureInfo.InvariantCulture),
            detail: $"build again of build {id} ({build.Repository!.Name} tag {build.Tag}, commit {build.CommitSha}), generation {again.Generation}",
            cancellationToken: cancellationToken);
        var url = PublicRoutes.Build(again.Id);
        return TypedResults.Created(url, new { id = again.Id, url, retryOf = id, generation = again.Generation });
    }

    private static ProblemHttpResult Conflict(Builder.Core.Builds.Build build, string detail) =>
        Problems.Of(StatusCodes.Status409Conflict, detail, new Dictionary<string, object?> { ["state"] = BuildStates.Name(build.State) });

    /// <summary>
    /// The build's output. Until the build is finished and its last lines are stored it follows the log (chunked
    /// text/plain, or server-sent events for <c>Accept: text/event-stream</c>); <c>?follow=false</c> answers with what is
    /// stored so far; <c>?target=</c> keeps one target's lines (see <see cref="LogTargetFilter"/>). Server-sent events
    /// resume after the chunk id of <c>Last-Event-ID</c>, or of <c>?lastEventId=</c> (a page's first connection: an
    /// EventSource cannot send the header then); the header wins.
    /// </summary>
    private static async Task<IResult> GetLogAsync(
        long id, string? target, bool? follow, string? lastEventId, HttpContext context, BuilderDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var request = context.Request;
        LogTargetFilter? filter = null;
        if (target is not null && !LogTargetFilter.TryParse(target, out filter))
        {
            return Problems.BadRequest($"{LogTargetFilter.Usage}; got '{target}'");
        }

        long? resumeAfter = null;
        if (lastEventId is not null)
        {
            if (!TryParseChunkId(lastEventId, out var fromQuery))
            {
                return Problems.BadRequest($"'lastEventId' is the id of the last event received (a whole number, as in its 'id:' field); got '{lastEventId}'");
            }

            resumeAfter = fromQuery;
        }

        var build = await db.Builds.AsNoTracking().SingleOrDefaultAsync(b => b.Id == id, cancellationToken);
        if (build is null || !MaySee(context.Principal(), build))
        {
            return NoSuchBuild(id);
        }

        var serverSentEvents = request.GetTypedHeaders().Accept.Any(a =>
            a.MediaType.Equals(BuildLogStream.EventStream, StringComparison.OrdinalIgnoreCase) && a.Quality is not 0);
        // A build that finished a moment ago may not have stored its last lines yet ("[builder] FAILED: ..."): follow
        // those too, so "finished" plus one GET is the whole log.
        var following = follow is not false && !await BuildLogStream.IsCompleteAsync(build, db, time, cancellationToken);
        if (serverSentEvents || following)
        {
            // An EventSource that reconnects sends the id of the last chunk it got; a page that showed the log up to a
            // chunk starts its EventSource after it with ?lastEventId= (the header wins: it is newer).
            var after = TryParseChunkId(request.Headers["Last-Event-ID"].FirstOrDefault(), out var fromHeader) ? fromHeader : resumeAfter ?? 0;
            return new BuildLogStream(id, filter, following, serverSentEvents, serverSentEvents ? after : 0, db, time);
        }

        var chunks = await db.BuildLogChunks.AsNoTracking().Where(c => c.BuildId == id).OrderBy(c => c.Id).Select(c => c.Text).ToListAsync(cancellationToken);
        if (filter is null)
        {
            return TypedResults.Text(string.Concat(chunks), "text/plain; charset=utf-8", Encoding.UTF8);
        }

        var text = new StringBuilder();
        foreach (var line in chunks.SelectMany(c => BuildLogStream.SelectLines(c, filter)))
        {
            text.Append(line).Append('\n');
        }

        return TypedResults.Text(text.ToString(), "text/plain; charset=utf-8", Encoding.UTF8);
    }

    private static bool TryParseChunkId(string? text, out long id) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);
}
