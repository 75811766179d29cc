using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Builder.Core.Builds;
using Builder.Data;
using Builder.Pipeline;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Host;

/// <summary>
/// GET /api/builds/{id}/log follows a build that is not finished. Either the real <see cref="BuildJob"/> runs, with a
/// wheel builder that waits for the test before its last step, or the test plays the worker: it stores log chunks and
/// finishes the build through the database while a reader is connected, in the order BuildJob does (final state, then
/// the last lines, then the end-of-attempt marker). Every step is observed by the reader, none is timed.
/// </summary>
public sealed class BuildLogStreamingTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private sealed class Host(BuilderWebFactory factory, PostgresDatabase? database) : IAsyncDisposable
    {
        public BuilderWebFactory Factory => factory;

        public PostgresDatabase? Database => database;

        public static async Task<Host> StartAsync(bool postgres, Action<IServiceCollection>? services = null)
        {
            var database = postgres ? await PostgresDatabase.CreateAsync() : null;
            var factory = new BuilderWebFactory(postgres: database?.ConnectionString) { TestServices = services };
            _ = factory.Services; // starts the host: its migrations make the tables
            return new Host(factory, database);
        }

        public async Task<long> AddBuildAsync(BuildState state, int attempts)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            var repository = new SourceRepository
            {
                Provider = "github",
                Name = "acme/" + Guid.NewGuid().ToString("N")[..8],
                CloneUrl = "file:///nonexistent",
            };
            db.Repositories.Add(repository);
            await db.SaveChangesAsync();
            var build = new Build { RepositoryId = repository.Id, Tag = "v1.0.0", CommitSha = new string('a', 40), State = state, Attempts = attempts };
            db.Builds.Add(build);
            await db.SaveChangesAsync();
            return build.Id;
        }

        public async Task AddChunkAsync(long buildId, string text, long? chunkId = null)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            db.BuildLogChunks.Add(new BuildLogChunk { Id = chunkId ?? 0, BuildId = buildId, Text = text });
            await db.SaveChangesAsync();
        }

        public async Task SetStateAsync(long buildId, BuildState state, string? error = null, DateTimeOffset? finishedAt = null)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            var build = await db.Builds.SingleAsync(b => b.Id == buildId);
            build.State = state;
            build.Error = error;
            if (state == BuildState.Running)
            {
                build.Attempts++; // as BuildJob does when it starts a run
            }

            if (build.IsFinished)
            {
                build.FinishedAt = finishedAt ?? DateTimeOffset.UtcNow;
            }

            await db.SaveChangesAsync();
        }

        /// <summary>
        /// The real jobs (their <see cref="DbBuildLog"/>, their order of state and lines): the plan, then each part it
        /// enqueued, with a source and wheel builder of the test's; in both modes, although only the embedded host
        /// registers the jobs (production web processes do not build).
        /// </summary>
        public async Task RunJobAsync(long buildId, IWheelBuilder wheels)
        {
            await using (var scope = factory.Services.CreateAsyncScope())
            {
                var job = ActivatorUtilities.CreateInstance<BuildJob>(scope.ServiceProvider, ActivatorUtilities.CreateInstance<BuildSource>(scope.ServiceProvider, new FakeSourceFetcher()));
                await job.RunAsync(buildId, CancellationToken.None);
            }

            while (factory.Dispatcher.EnqueuedParts.TryDequeue(out var part))
            {
                await using var scope = factory.Services.CreateAsyncScope();
                var job = ActivatorUtilities.CreateInstance<BuildPartJob>(scope.ServiceProvider, ActivatorUtilities.CreateInstance<BuildSource>(scope.ServiceProvider, new FakeSourceFetcher()), wheels);
                await job.RunAsync(part.PartId, CancellationToken.None);
            }

            while (factory.Dispatcher.EnqueuedPublications.TryDequeue(out var publication))
            {
                await using var scope = factory.Services.CreateAsyncScope();
                var job = ActivatorUtilities.CreateInstance<PublishReleaseJob>(scope.ServiceProvider);
                await job.RunAsync(publication, null, CancellationToken.None);
            }
        }

        public async ValueTask DisposeAsync()
        {
            factory.Dispose();
            if (database is not null)
            {
                await database.DisposeAsync();
            }
        }
    }

    private sealed class FakeSourceFetcher : ISourceFetcher
    {
        public Task<SourceCheckout> FetchAsync(SourceRequest request, string directory, IBuildLog log, CancellationToken cancellationToken)
        {
            log.WriteLine($"[git] checked out {request.Tag} at {request.DeliveredSha}");
            return Task.FromResult(new SourceCheckout(request.DeliveredSha));
        }

        // No bundle: every part fetches (here: pretends to) as the plan did.
        public Task BundleAsync(string checkout, string tag, string bundlePath, CancellationToken cancellationToken) =>
            throw new SourceBundleException("the test's fetcher makes no bundle");

        public Task<SourceCheckout> FetchBundleAsync(string bundlePath, string tag, string commitSha, string directory, IBuildLog log, CancellationToken cancellationToken) =>
            throw new NotSupportedException("no bundle was made");
    }

    /// <summary>Prints its first lines, then waits for <see cref="Release"/> before the compiler "fails".</summary>
    private sealed class GatedWheelBuilder : IWheelBuilder
    {
        public const string Error = "cp311-manylinux_x86_64 wheel: the compiler failed";

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<WheelBuildResult> BuildAsync(WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken)
        {
            log.WriteLine($"[{request.Architecture}] [setup] interpreters: cp311-cp311");
            log.WriteLine($"[{request.Architecture}] [cp311-cp311 wheel] compiling fastadd.c");
            await Release.Task.WaitAsync(cancellationToken);
            log.WriteLine($"[{request.Architecture}] [cp311-cp311 wheel] fastadd.c:3: error: expected ';'");
            return new WheelBuildResult(false, Error, [new TargetResult("cp311-manylinux_x86_64", false, TimeSpan.FromSeconds(1), [], Error)], []);
        }
    }

    /// <summary>Completes when the server is done with the first request whose path ends in "/log" (its handler returned).</summary>
    private sealed class LogRequestEnd : IStartupFilter
    {
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Ended => _ended.Task;

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, inner) =>
            {
                try
                {
                    await inner(context);
                }
                finally
                {
                    if (context.Request.Path.Value?.EndsWith("/log", StringComparison.Ordinal) == true)
                    {
                        _ended.TrySetResult();
                    }
                }
            });
            next(app);
        };
    }

    private static async Task<string?> NextLineAsync(StreamReader reader) => await reader.ReadLineAsync().WaitAsync(Deadline);

    private static async Task<string> StateAsync(HttpClient http, long id)
    {
        using var json = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"/api/builds/{id}").WaitAsync(Deadline));
        return json.RootElement.GetProperty("state").GetString()!;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_follower_reads_the_jobs_lines_while_it_runs_and_the_response_ends_with_its_last_line(bool postgres)
    {
        await using var host = await Host.StartAsync(postgres);
        var id = await host.AddBuildAsync(BuildState.Queued, attempts: 0);
        using var http = host.Factory.CreateAdminClient();

        // Connected while the build is queued: the headers come at once, the lines when the job writes them.
        using var response = await http.GetAsync($"/api/builds/{id}/log", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var wheels = new GatedWheelBuilder();
        var job = host.RunJobAsync(id, wheels);
        var streamed = new List<string>();
        while (streamed.LastOrDefault() is not "[x86_64] [cp311-cp311 wheel] compiling fastadd.c")
        {
            streamed.Add(await NextLineAsync(reader) ?? throw new InvalidOperationException("the log ended early: " + string.Join('\n', streamed)));
        }

        // The wheel builder is still waiting for the test: these lines were read while the build runs.
        Assert.Equal("running", await StateAsync(http, id));
        Assert.False(job.IsCompleted);
        Assert.StartsWith($"[builder] build {id}: ", streamed[0], StringComparison.Ordinal);
        Assert.Contains("[git] checked out v1.0.0 at " + new string('a', 40), streamed);
        Assert.Contains(streamed, line => line.StartsWith("[plan] x86_64: ", StringComparison.Ordinal));

        wheels.Release.SetResult();
        while (await NextLineAsync(reader) is { } line)
        {
            streamed.Add(line);
        }

        await job.WaitAsync(Deadline);
        Assert.Equal(["[x86_64] [cp311-cp311 wheel] fastadd.c:3: error: expected ';'", "[builder] FAILED: " + GatedWheelBuilder.Error], streamed[^2..]);
        Assert.Equal("failed", await StateAsync(http, id));

        // Kept after the build: a plain GET of the finished build answers the same lines at once.
        Assert.Equal(string.Concat(streamed.Select(l => l + "\n")), await http.GetStringAsync($"/api/builds/{id}/log").WaitAsync(Deadline));
    }

    [Fact]
    public async Task A_chunk_committed_after_one_with_a_higher_id_still_reaches_the_follower()
    {
        // The plan and the parts write one build's log concurrently: ids can commit out of order.
        await using var host = await Host.StartAsync(postgres: false);
        var id = await host.AddBuildAsync(BuildState.Running, attempts: 1);
        using var http = host.Factory.CreateAdminClient();
        using var response = await http.GetAsync($"/api/builds/{id}/log", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        await host.AddChunkAsync(id, "[aarch64 part 2] later id, committed first\n", chunkId: 100);
        Assert.Equal("[aarch64 part 2] later id, committed first", await NextLineAsync(reader));
        await host.AddChunkAsync(id, "[x86_64 part 1] earlier id, committed late\n", chunkId: 90);

        Assert.Equal("[x86_64 part 1] earlier id, committed late", await NextLineAsync(reader));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_reader_of_a_running_build_gets_lines_as_they_are_stored_and_the_stream_ends_after_the_last(bool postgres)
    {
        await using var host = await Host.StartAsync(postgres);
        var id = await host.AddBuildAsync(BuildState.Running, attempts: 1);
        await host.AddChunkAsync(id, "[builder] build started\n[x86_64] [sdist] building sdist\n");
        using var http = host.Factory.CreateAdminClient();

        using var response = await http.GetAsync($"/api/builds/{id}/log", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal("[builder] build started", await NextLineAsync(reader));
        Assert.Equal("[x86_64] [sdist] building sdist", await NextLineAsync(reader));

        // Stored while the reader waits: it arrives on the same response.
        await host.AddChunkAsync(id, "[x86_64] [cp311-cp311 wheel] compiling fastadd.c\n");
        Assert.Equal("[x86_64] [cp311-cp311 wheel] compiling fastadd.c", await NextLineAsync(reader));

        // BuildJob records the final state first and flushes its last lines afterwards: they still reach the reader.
        await host.SetStateAsync(id, BuildState.Succeeded);
        await host.AddChunkAsync(id, "[builder] published acme 1.0.0\n");
        Assert.Equal("[builder] published acme 1.0.0", await NextLineAsync(reader));

        // The attempt's end marker (stored when the job disposes its log) ends the stream.
        await host.AddChunkAsync(id, string.Empty);
        Assert.Null(await NextLineAsync(reader));
        if (host.Database is not null)
        {
            Assert.Equal(4, await host.Database.ScalarAsync($"SELECT COUNT(*) FROM builder_build_log WHERE \"BuildId\" = {id}"));
        }
    }

    [Fact]
    public async Task Server_sent_events_carry_one_line_per_event_only_of_the_target_and_end_with_the_final_state()
    {
        await using var host = await Host.StartAsync(postgres: false);
        var id = await host.AddBuildAsync(BuildState.Queued, attempts: 0);
        using var http = host.Factory.CreateAdminClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/builds/{id}/log?target=cp311-manylinux_x86_64");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        await host.SetStateAsync(id, BuildState.Running);
        await host.AddChunkAsync(id, "[builder] build started\n[x86_64] [cp311-cp311 wheel] one\n[x86_64] [cp312-cp312 wheel] other\n[x86_64] [cp311-cp311 wheel] 10%\r50%\r\n[x86_64] [cp311-cp311 wheel] two\n");
        Assert.Equal("data: [x86_64] [cp311-cp311 wheel] one", await NextLineAsync(reader));
        Assert.Equal(string.Empty, await NextLineAsync(reader));
        // A bare CR (a progress bar) would end an SSE line: each part is a data field of the same event.
        Assert.Equal("data: [x86_64] [cp311-cp311 wheel] 10%", await NextLineAsync(reader));
        Assert.Equal("data: 50%", await NextLineAsync(reader));
        Assert.Equal(string.Empty, await NextLineAsync(reader));
        Assert.Equal("data: [x86_64] [cp311-cp311 wheel] two", await NextLineAsync(reader));
        Assert.Matches("^id: [0-9]+$", await NextLineAsync(reader));
        Assert.Equal(string.Empty, await NextLineAsync(reader));

        await host.SetStateAsync(id, BuildState.Failed, "cp311-manylinux_x86_64: the compiler failed");
        await host.AddChunkAsync(id, "[aarch64] [cp311-cp311 wheel] not this architecture\n[builder] FAILED: the compiler failed\n");
        await host.AddChunkAsync(id, string.Empty);
        Assert.Equal("event: end", await NextLineAsync(reader));
        Assert.Equal("data: {\"state\":\"failed\",\"error\":\"cp311-manylinux_x86_64: the compiler failed\"}", await NextLineAsync(reader));
        Assert.Equal(string.Empty, await NextLineAsync(reader));
        Assert.Null(await NextLineAsync(reader));
    }

    [Fact]
    public async Task Targets_select_lines_by_their_architecture_and_step_prefixes()
    {
        await using var host = await Host.StartAsync(postgres: false);
        var id = await host.AddBuildAsync(BuildState.Succeeded, attempts: 1);
        await host.AddChunkAsync(id, "[builder] build 1\n[x86_64] [sdist] sdist ok\n[x86_64] [cp311-cp311 wheel] x cp311\n");
        await host.AddChunkAsync(id, "[x86_64] [cp313-cp313t wheel] x cp313t\n[x86_64] [cp313-cp313 wheel] x cp313\n[aarch64] [cp311-cp311 wheel] a cp311\n");
        await host.AddChunkAsync(id, "[x86_64] [cp311-cp311 test] x cp311 test\n[builder] published\n");
        await host.AddChunkAsync(id, string.Empty);
        using var http = host.Factory.CreateAdminClient();

        async Task<string> LogAsync(string query) => await http.GetStringAsync($"/api/builds/{id}/log{query}").WaitAsync(Deadline);

        Assert.Equal(
            "[builder] build 1\n[x86_64] [sdist] sdist ok\n[x86_64] [cp311-cp311 wheel] x cp311\n[x86_64] [cp313-cp313t wheel] x cp313t\n"
            + "[x86_64] [cp313-cp313 wheel] x cp313\n[aarch64] [cp311-cp311 wheel] a cp311\n[x86_64] [cp311-cp311 test] x cp311 test\n[builder] published\n",
            await LogAsync(string.Empty));
        Assert.Equal(
            "[x86_64] [sdist] sdist ok\n[x86_64] [cp311-cp311 wheel] x cp311\n[x86_64] [cp313-cp313t wheel] x cp313t\n[x86_64] [cp313-cp313 wheel] x cp313\n[x86_64] [cp311-cp311 test] x cp311 test\n",
            await LogAsync("?target=x86_64"));
        Assert.Equal("[x86_64] [cp311-cp311 wheel] x cp311\n[x86_64] [cp311-cp311 test] x cp311 test\n", await LogAsync("?target=cp311-manylinux_x86_64"));
        Assert.Equal("[x86_64] [cp313-cp313 wheel] x cp313\n", await LogAsync("?target=cp313-manylinux_x86_64"));
        Assert.Equal("[x86_64] [cp313-cp313t wheel] x cp313t\n", await LogAsync("?target=cp313t-manylinux_x86_64"));
        Assert.Equal("[aarch64] [cp311-cp311 wheel] a cp311\n", await LogAsync("?target=aarch64"));
        Assert.Equal("[x86_64] [sdist] sdist ok\n", await LogAsync("?target=sdist"));
        // The target names of GET /api/builds/{id}, as they are (a test step's has a space).
        Assert.Equal("[x86_64] [cp311-cp311 test] x cp311 test\n", await LogAsync("?target=" + Uri.EscapeDataString("cp311-manylinux_x86_64 test")));

        foreach (var target in new[] { "cp311 manylinux", "cp311", "x86-64", "cp311-manylinux_sparc", "builder", string.Empty })
        {
            using var bad = await http.GetAsync($"/api/builds/{id}/log?target={Uri.EscapeDataString(target)}").WaitAsync(Deadline);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var problem = await bad.Content.ReadAsStringAsync();
            Assert.Contains("'target' is an architecture (x86_64, aarch64), a target name of the build", problem, StringComparison.Ordinal);
            Assert.Contains($"got '{target}'", problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Server_sent_events_resume_after_the_Last_Event_ID()
    {
        await using var host = await Host.StartAsync(postgres: false);
        var id = await host.AddBuildAsync(BuildState.Succeeded, attempts: 1);
        await host.AddChunkAsync(id, "[builder] one\n");
        await host.AddChunkAsync(id, "[builder] two\n");
        await host.AddChunkAsync(id, string.Empty);
        using var http = host.Factory.CreateAdminClient();

        async Task<List<string>> EventsAsync(string? lastEventId)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/builds/{id}/log");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            if (lastEventId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastEventId);
            }

            using var response = await http.SendAsync(request).WaitAsync(Deadline);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return [.. (await response.Content.ReadAsStringAsync()).Split('\n')];
        }

        const string End = "data: {\"state\":\"succeeded\",\"error\":null}";
        var all = await EventsAsync(lastEventId: null);
        Assert.Matches("^id: [0-9]+$", all[1]);
        Assert.Matches("^id: [0-9]+$", all[4]);
        Assert.Equal(["data: [builder] one", all[1], string.Empty, "data: [builder] two", all[4], string.Empty, "event: end", End, string.Empty, string.Empty], all);
        var first = long.Parse(all[1][4..], CultureInfo.InvariantCulture);
        Assert.True(long.Parse(all[4][4..], CultureInfo.InvariantCulture) > first);

        // An EventSource that reconnects sends the last id it got: only what came after it is sent again.
        Assert.Equal(
            ["data: [builder] two", all[4], string.Empty, "event: end", End, string.Empty, string.Empty],
            await EventsAsync(first.ToString(CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Server_sent_events_resume_after_the_lastEventId_query_parameter_and_the_header_wins()
    {
        await using var host = await Host.StartAsync(postgres: false);
        var id = await host.AddBuildAsync(BuildState.Succeeded, attempts: 1);
        await host.AddChunkAsync(id, "[builder] one\n");
        await host.AddChunkAsync(id, "[builder] two\n");
        await host.AddChunkAsync(id, "[builder] three\n");
        await host.AddChunkAsync(id, string.Empty);
        using var http = host.Factory.CreateAdminClient();

        async Task<(HttpStatusCode Status, string Body)> GetAsync(string query, string? lastEventId = null, bool events = true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/builds/{id}/log{query}");
            if (events)
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            }

            if (lastEventId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastEventId);
            }

            using var response = await http.SendAsync(request).WaitAsync(Deadline);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        const string End = "event: end\ndata: {\"state\":\"succeeded\",\"error\":null}\n\n";
        var all = (await GetAsync(string.Empty)).Body.Split('\n');
        var ids = all.Where(l => l.StartsWith("id: ", StringComparison.Ordinal)).Select(l => l[4..]).ToList();
        Assert.Equal(3, ids.Count);

        // A page showed the log up to the first chunk: its EventSource asks for what came after it.
        Assert.Equal((HttpStatusCode.OK, $"data: [builder] two\nid: {ids[1]}\n\ndata: [builder] three\nid: {ids[2]}\n\n{End}"), await GetAsync($"?lastEventId={ids[0]}"));
        // EventSource's own reconnection sends Last-Event-ID, newer than the page's query parameter: the header wins.
        Assert.Equal((HttpStatusCode.OK, $"data: [builder] three\nid: {ids[2]}\n\n{End}"), await GetAsync($"?lastEventId={ids[0]}", lastEventId: ids[1]));
        // A header that is no id is ignored, as it always was: the query parameter counts.
        Assert.Equal((HttpStatusCode.OK, $"data: [builder] three\nid: {ids[2]}\n\n{End}"), await GetAsync($"?lastEventId={ids[1]}", lastEventId: "x"));
        // 0 is the start.
        Assert.Equal(string.Join('\n', all), (await GetAsync("?lastEventId=0")).Body);
        // Like the header, the parameter means nothing to plain text.
        Assert.Equal((HttpStatusCode.OK, "[builder] one\n[builder] two\n[builder] three\n"), await GetAsync($"?lastEventId={ids[1]}", events: false));

        foreach (var bad in new[] { "x", "-1", "1.5", " 1", string.Empty })
        {
            var (status, body) = await GetAsync("?lastEventId=" + Uri.EscapeDataString(bad));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains($"'lastEventId' is the id of the last event received (a whole number, as in its 'id:' field); got '{bad}'", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unknown_build_is_404_however_its_log_is_asked_for()
    {
        await using var host = await Host.StartAsync(postgres: false);
        using var http = host.Factory.CreateAdminClient();

        foreach (var (query, accept) in new[] { (string.Empty, "text/plain"), ("?follow=false", "text/plain"), (string.Empty, "text/event-stream"), ("?target=x86_64", "text/plain") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/builds/424242/log" + query);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            using var response = await http.SendAsync(request).WaitAsync(Deadline);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("build 424242 does not exist", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_follower_that_disconnects_ends_the_servers_stream_of_a_build_still_running()
    {
        var end = new LogRequestEnd();
        await using var host = await Host.StartAsync(postgres: false, services => services.AddSingleton<IStartupFilter>(end));
        var id = await host.AddBuildAsync(BuildState.Running, attempts: 1);
        await host.AddChunkAsync(id, "[builder] build started\n");
        using var http = host.Factory.CreateAdminClient();
        var response = await http.GetAsync($"/api/builds/{id}/log", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("[builder] build started", await NextLineAsync(reader));
        Assert.False(end.Ended.IsCompleted);

        // The build never finishes here: only the client going away (RequestAborted) stops the polling.
        reader.Dispose();
        response.Dispose();

        await end.Ended.WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_build_that_has_just_finished_is_answered_once_its_last_lines_are_stored()
    {
        await using var host = await Host.StartAsync(postgres: false);
        var id = await host.AddBuildAsync(BuildState.Running, attempts: 1);
        await host.AddChunkAsync(id, "[builder] build started\n");
        // Failed, as BuildJob records it before it flushes "[builder] FAILED: ..." and the end marker.
        await host.SetStateAsync(id, BuildState.Failed, "the compiler failed");
        using var http = host.Factory.CreateAdminClient();

        using var response = await http.GetAsync($"/api/builds/{id}/log", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("[builder] build started", await NextLineAsync(reader));
        await host.AddChunkAsync(id, "[builder] FAILED: the compiler failed\n");
        await host.AddChunkAsync(id, string.Empty);

        Assert.Equal("[builder] FAILED: the compiler failed", await NextLineAsync(reader));
        Assert.Null(await NextLineAsync(reader));
    }

    [Fact]
    public async Task A_log_without_end_markers_of_a_build_finished_long_ago_is_answered_at_once()
    {
        // A worker that died mid-run, or a log stored before the markers existed.
        await using var host = await Host.StartAsync(postgres: false);
        var id = await host.AddBuildAsync(BuildState.Running, attempts: 1);
        await host.AddChunkAsync(id, "[builder] build started\n");
        await host.SetStateAsync(id, BuildState.Failed, "lost", DateTimeOffset.UtcNow - TimeSpan.FromMinutes(5));
        using var http = host.Factory.CreateAdminClient();

        Assert.Equal("[builder] build started\n", await http.GetStringAsync($"/api/builds/{id}/log").WaitAsync(Deadline));
    }

    [Fact]
    public async Task Follow_false_answers_a_running_build_with_the_log_so_far()
    {
        await using var host = await Host.StartAsync(postgres: false);
        var id = await host.AddBuildAsync(BuildState.Running, attempts: 1);
        await host.AddChunkAsync(id, "[builder] build started\n");
        using var http = host.Factory.CreateAdminClient();

        // A followed response would not complete: the build never finishes in this test.
        var snapshot = await http.GetStringAsync($"/api/builds/{id}/log?follow=false").WaitAsync(Deadline);

        Assert.Equal("[builder] build started\n", snapshot);
    }
}
