using System.Globalization;
using System.Text;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Data;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Api;

/// <summary>
/// Sends a build's log as it is stored: text/plain (chunked) or server-sent events. The database is the only channel
/// between the worker that writes the log and the web process that serves it (they may be different processes), so new
/// chunks are found by polling, after the last chunk id sent.
/// </summary>
/// <remarks>
/// The stream ends when the build's log is complete (<see cref="IsComplete"/>): the job records the final state before
/// its last lines are flushed, so a finished state alone does not mean every line is stored.
/// </remarks>
internal sealed class BuildLogStream(
    long buildId,
    LogTargetFilter? filter,
    bool follow,
    bool serverSentEvents,
    long afterChunkId,
    BuilderDbContext db,
    TimeProvider time) : IResult
{
    // Per follower and interval: two small indexed reads (the build row; chunks after the last id, on (BuildId, Id)).
    // The writer flushes every 500 ms, so a line waits at most about 0.75 s between the build and the reader.
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long after a build finished its log may still lack end markers; then it is taken as complete.</summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(30);

    public const string EventStream = "text/event-stream";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var cancellationToken = httpContext.RequestAborted;
        response.ContentType = serverSentEvents ? EventStream : "text/plain; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        // Reverse proxies (nginx) would otherwise collect the response before passing it on.
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        try
        {
            // Headers now: a client sees 200 (and can start reading) before the first line of a build still queued.
            // A flush sends them (Kestrel, TestServer); StartAsync alone may keep them in the output buffer.
            await response.Body.FlushAsync(cancellationToken);
            var state = await StreamAsync(response, cancellationToken);
            if (serverSentEvents)
            {
                var end = JsonSerializer.Serialize(new { state = state.State.ToString().ToLowerInvariant(), error = state.Error });
                await response.WriteAsync($"event: end\ndata: {end}\n\n", cancellationToken);
            }

            await response.Body.FlushAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away: nothing to answer.
        }
    }

    /// <summary>
    /// Every line of the build is stored: it is finished, and each job run (the plan's attempts and every attempt of
    /// each part; <paramref name="attempts"/> is their sum) stored its end-of-attempt marker
    /// (<see cref="BuildLogChunk.IsEndOfAttempt"/>) or it finished <see cref="SettleTime"/> ago (a worker that died
    /// mid-run never writes its marker, and logs stored before markers existed have none).
    /// </summary>
    public static bool IsComplete(bool finished, int attempts, DateTimeOffset? finishedAt, int markers, DateTimeOffset now) =>
        finished && (markers >= attempts || finishedAt is not { } at || now - at >= SettleTime);

    /// <summary><see cref="IsComplete"/> for a build just read, counting its markers only when that can matter.</summary>
    public static async Task<bool> IsCompleteAsync(Build build, BuilderDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!build.IsFinished || IsComplete(true, build.Attempts, build.FinishedAt, markers: 0, time.GetUtcNow()))
        {
            return build.IsFinished;
        }

        var runs = build.Attempts + build.PublishAttempts + await db.BuildParts.Where(p => p.BuildId == build.Id).SumAsync(p => p.Attempts, cancellationToken);
        var markers = await db.BuildLogChunks.CountAsync(c => c.BuildId == build.Id && c.Text == string.Empty, cancellationToken);
        return markers >= runs;
    }

    private sealed record BuildProgress(BuildState State, string? Error, int Attempts, DateTimeOffset? FinishedAt)
    {
        public bool IsFinished => Build.IsFinal(State);
    }

    // How far back (in chunk ids) a follower looks for chunks committed out of order by concurrent writers.
    private const long LookbackIds = 10_000;

    private async Task<BuildProgress> StreamAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        var last = afterChunkId;
        // Markers before a resumed position (Last-Event-ID) count too.
        var markers = last == 0 ? 0 : await db.BuildLogChunks.CountAsync(c => c.BuildId == buildId && c.Id <= last && c.Text == string.Empty, cancellationToken);
        var text = new StringBuilder();
        var sent = new HashSet<long>();
        var lastEvent = 0L;
        while (true)
        {
            // The state first, then the chunks: chunks stored before the state was read are all in this batch.
            var build = await db.Builds.AsNoTracking().Where(b => b.Id == buildId)
                .Select(b => new BuildProgress(b.State, b.Error, b.Attempts + b.PublishAttempts + b.Parts.Sum(p => p.Attempts), b.FinishedAt)).SingleAsync(cancellationToken);
            // The plan and the parts of a build write its log concurrently: a chunk may commit after one with a higher
            // id was read. Looking back a little (ids are global, the window is cheap on (BuildId, Id)) catches it late.
            var floor = Math.Max(afterChunkId, last - LookbackIds);
            var chunks = await db.BuildLogChunks.AsNoTracking().Where(c => c.BuildId == buildId && c.Id > floor)
                .OrderBy(c => c.Id).ToListAsync(cancellationToken);
            sent.RemoveWhere(id => id <= floor);

            text.Clear();
            foreach (var chunk in chunks)
            {
                if (!sent.Add(chunk.Id))
                {
                    continue;
                }

                last = Math.Max(last, chunk.Id);
                if (chunk.IsEndOfAttempt)
                {
                    markers++;
                    continue;
                }

                Append(text, chunk);
            }

            if (serverSentEvents)
            {
                // The lifecycle's events, as they are recorded (the same rows every subscriber of the outbox reads).
                var events = await db.BuildEvents.AsNoTracking().Where(e => e.BuildId == buildId && e.Id > lastEvent).OrderBy(e => e.Id).ToListAsync(cancellationToken);
                foreach (var buildEvent in events)
                {
                    lastEvent = buildEvent.Id;
                    var data = JsonSerializer.Serialize(new { id = buildEvent.Id, part = buildEvent.PartId, kind = buildEvent.Kind, state = buildEvent.State, detail = buildEvent.Detail, at = buildEvent.At });
                    text.Append("event: lifecycle\ndata: ").Append(data).Append("\n\n");
                }
            }

            if (text.Length > 0)
            {
                await response.WriteAsync(text.ToString(), cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
            }

            if (!follow || IsComplete(build.IsFinished, build.Attempts, build.FinishedAt, markers, time.GetUtcNow()))
            {
                return build;
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    private void Append(StringBuilder text, BuildLogChunk chunk)
    {
        var lines = SelectLines(chunk.Text, filter);
        for (var i = 0; i < lines.Count; i++)
        {
            if (!serverSentEvents)
            {
                text.Append(lines[i]).Append('\n');
                continue;
            }

            // SSE: one event per line; the chunk id rides on the chunk's last event, so a reconnecting client's
            // Last-Event-ID resumes after that chunk. A CR would end the field (HTML §9.2.6 treats CR, LF and CRLF
            // alike; progress bars print bare CRs): each CR-separated part is a data field of its own, which the
            // client joins with LF.
            foreach (var part in lines[i].Split('\r'))
            {
                text.Append("data: ").Append(part).Append('\n');
            }

            if (i == lines.Count - 1)
            {
                text.Append("id: ").Append(chunk.Id.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            text.Append('\n');
        }
    }

    /// <summary>A chunk's lines (whole lines, each stored with its '\n'), only the target's when filtered.</summary>
    public static List<string> SelectLines(string chunk, LogTargetFilter? filter)
    {
        var lines = chunk.Split('\n');
        var count = lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        var selected = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (filter is null || filter.Matches(line))
            {
                selected.Add(line);
            }
        }

        return selected;
    }
}
