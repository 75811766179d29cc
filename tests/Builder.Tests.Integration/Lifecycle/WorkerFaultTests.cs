using System.Globalization;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;
using Xunit.Abstractions;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>
/// A production installation with two workers: PostgreSQL (a fresh database), the web process, and two worker processes
/// with their own worker names sharing one data directory (the artifact store is that file system). Leases are short
/// (12 s, a heartbeat every 2 s) so a vanished worker's part is taken over within a test's patience.
/// </summary>
public sealed class TwoWorkerInstallation : IAsyncLifetime
{
    public const int LeaseTimeoutSeconds = 12;
    public const int HeartbeatSeconds = 2;

    private readonly BuilderProcess?[] _workers = new BuilderProcess?[2];

    public string Root { get; } = TestPaths.NewTempDirectory("worker-fault");

    public string DataDir => Path.Combine(Root, "data");

    public PostgresDatabase Database { get; private set; } = null!;

    public BuilderProcess Web { get; private set; } = null!;

    public BuilderClient Client { get; private set; } = null!;

    /// <summary>Distinct per worker and per fixture: the io.builder.owner label of each worker's containers.</summary>
    public IReadOnlyList<string> WorkerNames { get; } =
        [$"wf-a-{Guid.NewGuid().ToString("N")[..8]}", $"wf-b-{Guid.NewGuid().ToString("N")[..8]}"];

    public BuilderProcess Worker(int index) => _workers[index]!;

    public Dictionary<string, string> Settings(string? workerName = null) =>
        LifecycleProbes.Production(DataDir, Database.ConnectionString, LeaseTimeoutSeconds, HeartbeatSeconds, workerName);

    public async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync();
        Web = await BuilderProcess.StartWebAsync(Settings());
        // The web process created the schema.
        await LifecycleProbes.MoveIdsAwayAsync(Database.ConnectionString);
        Client = BuilderInstance.Client(Web);
        await EnsureWorkersAsync();
    }

    /// <summary>Starts the workers that are not running (a test may have killed one), and waits until each takes jobs.</summary>
    public async Task EnsureWorkersAsync()
    {
        for (var i = 0; i < _workers.Length; i++)
        {
            if (_workers[i] is { HasExited: false })
            {
                continue;
            }

            if (_workers[i] is { } dead)
            {
                await dead.DisposeAsync();
            }

            var worker = BuilderProcess.StartWorker(Settings(WorkerNames[i]));
            _workers[i] = worker;
            await LifecycleProbes.WaitUntilAsync(() => Task.FromResult(worker.HasExited || worker.Output.Contains("Application started", StringComparison.Ordinal)),
                () => $"worker {WorkerNames[i]} to start; its output:\n{worker.Output}", TimeSpan.FromSeconds(90));
            Assert.False(worker.HasExited, $"worker {WorkerNames[i]} exited at start:\n{worker.Output}");
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            if (worker is not null)
            {
                await worker.DisposeAsync();
            }
        }

        await Web.DisposeAsync();
        foreach (var name in WorkerNames)
        {
            await LifecycleProbes.RemoveContainersAsync(name);
        }

        await Database.DisposeAsync();
        TestPaths.DeleteDirectory(Root);
    }
}

/// <summary>
/// What the release lifecycle promises when workers and connections die: a part whose worker was killed is taken over
/// within the lease timeout and its leftover container removed; every part runs once when nothing fails; a publication
/// whose connection died is retried; and each release is published exactly once, every file once, with the bytes its row
/// names.
/// </summary>
[DockerBuild]
public sealed class WorkerFaultTests(TwoWorkerInstallation installation, ITestOutputHelper output) : IClassFixture<TwoWorkerInstallation>
{
    private const string Published = "published";
    private const string PartStarted = "part-started";
    private const string PartSucceeded = "part-succeeded";

    private BuilderClient Client => installation.Client;

    [Fact]
    public async Task A_worker_killed_mid_part_is_taken_over_within_the_lease_timeout_and_the_release_is_published_once()
    {
        await installation.EnsureWorkersAsync();
        // Long enough to see it running and kill its worker mid-part (the takeover runs it again: the test waits it out twice).
        const int sleep = 10;
        var git = await GitRepositories.CreateAsync(Path.Combine(installation.Root, "killed"), LifecycleProbes.SlowPure("acme-killed", "1.0.0", sleep), "v1.0.0");
        var repository = await Client.RegisterAsync("acme/killed", git.CloneUrl);
        var id = await Client.PushTagAsync(repository, git);

        // The part runs, and its container is in before-build (so the killed worker leaves a container behind).
        System.Text.Json.JsonElement part = default;
        await LifecycleProbes.WaitUntilAsync(async () =>
        {
            var parts = (await Client.GetBuildAsync(id)).Json.GetProperty("parts");
            if (parts.GetArrayLength() != 1)
            {
                return false;
            }

            part = parts[0];
            return part.GetProperty("state").GetString() == "running"
                && part.GetProperty("worker").GetString() is not null
                && (await Client.GetLogSoFarAsync(id)).Contains(LifecycleProbes.SleepingLine(sleep), StringComparison.Ordinal);
        }, "the part to run its before-build", TimeSpan.FromMinutes(3));
        var partId = part.GetProperty("id").GetInt64();
        var firstLease = part.GetProperty("worker").GetString()!;
        var holder = installation.WorkerNames.ToList().IndexOf(LifecycleProbes.LeaseWorker(firstLease));
        Assert.True(holder >= 0, $"the lease {firstLease} names neither worker ({string.Join(", ", installation.WorkerNames)})");
        var (killedName, survivorName) = (installation.WorkerNames[holder], installation.WorkerNames[1 - holder]);
        var leftover = Assert.Single(await LifecycleProbes.ContainersAsync($"io.builder.part-id={partId}", $"io.builder.owner={killedName}"));

        // The last heartbeat the test saw: the lease may not be taken over before it is a lease timeout old.
        var seenHeartbeat = (await Client.GetBuildAsync(id)).Json.GetProperty("parts")[0].GetProperty("heartbeatAt").GetDateTimeOffset();
        await installation.Worker(holder).KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        Assert.True(installation.Worker(holder).HasExited);

        var build = await Client.WaitForBuildAsync(id, TimeSpan.FromMinutes(3));
        // What is in the log by now (the killed run never ends its log, so the whole log would wait out the settle time):
        // the takeover's removal line, written when it started, long before the build ended.
        var log = await Client.GetLogSoFarAsync(id);
        Assert.True(build.State == "succeeded", $"build {id} {build.State}: {build.Error}\n{log}");

        var events = await LifecycleProbes.EventsAsync(Client, id);
        var starts = events.Where(e => e.Kind == PartStarted && e.Part == partId).ToList();
        Assert.True(starts.Count == 2, $"expected 2 part-started events for part {partId}, got {starts.Count}:\n{string.Join('\n', events)}");
        Assert.StartsWith(firstLease, starts[0].Detail, StringComparison.Ordinal);
        Assert.Equal(survivorName, LifecycleProbes.LeaseWorker(starts[1].Detail!));
        // The takeover is explained: either the survivor took the expired lease itself, or a watchdog queued the part again.
        var explained = (starts[1].Detail!.Contains($"took over from {firstLease}: its lease expired", StringComparison.Ordinal) ? 1 : 0)
            + events.Count(e => e.Kind == "part-requeued" && e.Part == partId && e.Id > starts[0].Id && e.Id < starts[1].Id
                && e.Detail!.Contains($"the lease of {firstLease} expired", StringComparison.Ordinal));
        Assert.True(explained == 1, $"the second start is explained once (takeover or requeue), not {explained} times:\n{string.Join('\n', events)}");
        Assert.Equal(1, events.Count(e => e.Kind == PartSucceeded && e.Part == partId));
        Assert.Equal(1, events.Count(e => e.Kind == Published));
        Assert.Equal(0, events.Count(e => e.Kind is "failed" or "cancelled" or "part-failed"));

        var takeover = (starts[1].At - killedAt).TotalSeconds;
        var bound = TwoWorkerInstallation.LeaseTimeoutSeconds + (2 * TwoWorkerInstallation.HeartbeatSeconds) + 10;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"part {partId}: {killedName} killed at {killedAt:O}; {survivorName} started it at {starts[1].At:O}: {takeover:F1} s after the kill (bound {bound} s); last heartbeat seen {seenHeartbeat:O}"));
        output.WriteLine("second part-started: " + starts[1].Detail);
        Assert.True(takeover <= bound, $"the part was taken over {takeover:F1} s after the kill; the bound is {bound} s");
        Assert.True(starts[1].At >= seenHeartbeat.AddSeconds(TwoWorkerInstallation.LeaseTimeoutSeconds),
            $"the lease was taken at {starts[1].At:O}, less than the lease timeout after a heartbeat at {seenHeartbeat:O}");

        // Every file once, with the bytes its row names.
        var rows = await LifecycleProbes.FileRowsAsync(installation.Database.ConnectionString, "acme-killed", "1.0.0");
        var listed = build.Json.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("filename").GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(listed, rows.Select(r => r.Filename));
        Assert.Single(rows, r => r.Filename.EndsWith("-1.0.0.tar.gz", StringComparison.Ordinal));
        Assert.Single(rows, r => r.Filename == "acme_killed-1.0.0-py3-none-any.whl");
        Assert.All(rows, r => Assert.Equal(id, r.BuildId));
        Assert.Equal(2, await LifecycleProbes.AssertDownloadsMatchAsync(Client, rows));

        // The killed worker's container was removed by the run that took the part over, and nothing of the part is left.
        Assert.Empty(await LifecycleProbes.ContainersAsync($"io.builder.part-id={partId}"));
        var removal = $"removed container {leftover[..12]} left by an earlier run of this part (owner {killedName})";
        Assert.True(log.Split('\n').Count(l => l.Contains(removal, StringComparison.Ordinal)) == 1, $"expected the log to say once: {removal}\n{log}");
        output.WriteLine("log: " + log.Split('\n').Single(l => l.Contains(removal, StringComparison.Ordinal)));

        // The repository was cloned once, by the plan; both runs of the part, the killed one and the takeover on the
        // other worker, checked the commit out from the build's source bundle in the artifact store.
        Assert.Equal(1, log.Split('\n').Count(l => l.StartsWith("[git] cloning ", StringComparison.Ordinal)));
        var fromBundle = $"[git] checked out v1.0.0 at {git.CommitSha} from the build's source bundle";
        Assert.True(log.Split('\n').Count(l => l.StartsWith(fromBundle, StringComparison.Ordinal)) == 2, $"expected two parts' runs to say: {fromBundle}\n{log}");

        await installation.EnsureWorkersAsync();
    }

    [Fact]
    public async Task Releases_fanned_out_to_two_workers_each_run_their_part_exactly_once_and_are_all_published()
    {
        await installation.EnsureWorkersAsync();
        // Five releases at once: more plan, part and publish jobs than the two workers take at a time, so they compete for
        // each (ten in CI before; BUILDER_TEST_STRESS multiplies it).
        var releases = Stress.Rounds(5);
        var repositories = new List<(RegisteredRepository Repository, TaggedRepository Git)>();
        for (var i = 0; i < releases; i++)
        {
            var git = await GitRepositories.CreateAsync(Path.Combine(installation.Root, $"fan-{i}"), PythonProjects.Pure($"acme-fan-{i}", "1.0.0"), "v1.0.0");
            repositories.Add((await Client.RegisterAsync($"acme/fan-{i}", git.CloneUrl), git));
        }

        var started = DateTime.UtcNow;
        var ids = await Task.WhenAll(repositories.Select(r => Client.PushTagAsync(r.Repository, r.Git)));
        Assert.Equal(releases, ids.Distinct().Count());
        var builds = await LifecycleProbes.WaitForBuildsAsync(Client, ids, TimeSpan.FromMinutes(4));
        output.WriteLine($"{releases} builds ended {(DateTime.UtcNow - started).TotalSeconds:F0} s after the pushes");

        var checkedParts = 0;
        var published = 0;
        var startsByWorker = installation.WorkerNames.ToDictionary(n => n, _ => 0);
        foreach (var build in builds)
        {
            Assert.True(build.State == "succeeded", $"build {build.Id} {build.State}: {build.Error}\n{await Client.GetLogSoFarAsync(build.Id)}");
            var events = await LifecycleProbes.EventsAsync(Client, build.Id);
            var parts = build.Json.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("id").GetInt64()).ToList();
            Assert.Single(parts);
            foreach (var partId in parts)
            {
                var starts = events.Where(e => e.Kind == PartStarted && e.Part == partId).ToList();
                Assert.True(starts.Count == 1, $"part {partId} of build {build.Id} started {starts.Count} times:\n{string.Join('\n', events)}");
                Assert.Equal(1, events.Count(e => e.Kind == PartSucceeded && e.Part == partId));
                Assert.Equal(0, events.Count(e => e.Kind == "part-requeued" && e.Part == partId));
                var worker = LifecycleProbes.LeaseWorker(starts[0].Detail!);
                Assert.Contains(worker, installation.WorkerNames);
                startsByWorker[worker]++;
                checkedParts++;
            }

            var waited = events.Single(e => e.Kind == Published).At - events.Where(e => e.Kind == PartSucceeded).Max(e => e.At);
            var log = await Client.GetLogAsync(build.Id);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"build {build.Id}: published {waited.TotalSeconds:F1} s after its last part succeeded")
                + (log.Contains("[builder] not published", StringComparison.Ordinal) || log.Contains("[builder] publishing stopped", StringComparison.Ordinal) ? "; its log has a 'not published'/'publishing stopped' line" : ""));
            published += events.Count(e => e.Kind == Published);
            Assert.Equal(1, events.Count(e => e.Kind == Published));
        }

        Assert.Equal(releases, checkedParts);
        Assert.Equal(releases, published);
        output.WriteLine("parts started per worker: " + string.Join(", ", startsByWorker.Select(kv => $"{kv.Key}={kv.Value}")));
        if (startsByWorker.Values.Any(v => v == 0))
        {
            output.WriteLine("NOTE: one worker ran every part (the scheduler gave it all the work)");
        }

        // Publication may run more than once (idempotent; the watchdog enqueues it again for a build whose parts all
        // finished a lease timeout ago): reported, not asserted.
        var idList = string.Join(',', ids);
        output.WriteLine($"publish runs: {await installation.Database.ScalarAsync($"SELECT COALESCE(SUM(\"PublishAttempts\"), 0) FROM builder_builds WHERE \"Id\" IN ({idList})")} for {releases} builds; "
            + $"publish jobs in Hangfire: {await installation.Database.ScalarAsync($"SELECT COUNT(*) FROM hangfire.job WHERE invocationdata::text LIKE '%PublishReleaseJob%' AND arguments::text ~ '({string.Join('|', ids)})'")}");

        var rows = await LifecycleProbes.FileRowsAsync(installation.Database.ConnectionString, "\"Project\" LIKE 'acme-fan-%'");
        Assert.Equal(2 * releases, rows.Count);
        Assert.Equal(2 * releases, rows.Select(r => r.Filename).Distinct().Count());
        Assert.All(builds, b => Assert.Equal(2, rows.Count(r => r.BuildId == b.Id)));
        Assert.Equal(2 * releases, await LifecycleProbes.AssertDownloadsMatchAsync(Client, rows));
    }

    [Fact]
    public async Task A_database_connection_killed_while_publishing_still_ends_succeeded_with_every_file_once()
    {
        await installation.EnsureWorkersAsync();
        const string project = "acme-fault";
        var connection = installation.Database.ConnectionString;
        // The first insert of one of this project's files kills its own connection: nextval is not transactional, so
        // the rolled-back attempt still counts, and the fault fires once.
        await LifecycleProbes.ExecuteAsync(connection, $$"""
            CREATE SEQUENCE fault_publish_seq;
            CREATE FUNCTION fault_publish() RETURNS trigger LANGUAGE plpgsql AS $fault$
            BEGIN
                IF NEW."Project" = '{{project}}' AND nextval('fault_publish_seq') = 1 THEN
                    PERFORM pg_terminate_backend(pg_backend_pid());
                END IF;
                RETURN NEW;
            END
            $fault$;
            CREATE TRIGGER fault_publish BEFORE INSERT ON builder_files FOR EACH ROW EXECUTE FUNCTION fault_publish();
            """);
        try
        {
            var git = await GitRepositories.CreateAsync(Path.Combine(installation.Root, "fault"), PythonProjects.Pure(project, "1.0.0"), "v1.0.0");
            var repository = await Client.RegisterAsync("acme/fault", git.CloneUrl);
            var id = await Client.PushTagAsync(repository, git);

            var build = await Client.WaitForBuildAsync(id, TimeSpan.FromMinutes(3));
            // The whole log: the build's state is final before its last lines are stored ("[builder] published ...").
            var log = await Client.GetLogAsync(id);
            var events = await LifecycleProbes.EventsAsync(Client, id);
            var rows = await LifecycleProbes.FileRowsAsync(connection, project, "1.0.0");
            var fired = await installation.Database.ScalarAsync("SELECT last_value FROM fault_publish_seq");
            var publishAttempts = await installation.Database.ScalarAsync($"SELECT \"PublishAttempts\" FROM builder_builds WHERE \"Id\" = {id}");
            output.WriteLine($"build {id} ended {build.State} ({build.Error}); fault sequence at {fired}; publish attempts {publishAttempts}");
            output.WriteLine(string.Join('\n', log.Split('\n').Where(l => l.Contains("publish", StringComparison.OrdinalIgnoreCase))));
            Assert.True(fired >= 2, $"the fault fired and a later insert passed (sequence at {fired})");

            if (build.State == "failed")
            {
                // Allowed by the spec: a clear failure, and nothing of it published.
                output.WriteLine("OUTCOME: failed");
                Assert.False(string.IsNullOrWhiteSpace(build.Error));
                Assert.Empty(rows);
                Assert.Equal(0, events.Count(e => e.Kind == Published));
                Assert.Equal(1, events.Count(e => e.Kind == "failed"));
                return;
            }

            output.WriteLine("OUTCOME: succeeded");
            Assert.True(build.State == "succeeded", $"build {id} {build.State}: {build.Error}\n{log}");
            Assert.Equal(1, events.Count(e => e.Kind == Published));
            Assert.Equal(0, events.Count(e => e.Kind is "failed" or "cancelled"));
            Assert.True(publishAttempts >= 2, $"publishing ran {publishAttempts} times");

            // The log shows the attempt that died, then the publication.
            var lines = log.Split('\n');
            var failedAttempt = Array.FindIndex(lines, l => l.Contains("[builder] publishing attempt 1 failed", StringComparison.Ordinal) && l.Contains("it will be retried", StringComparison.Ordinal));
            var publishedLine = Array.FindIndex(lines, l => l.StartsWith($"[builder] published {project} 1.0.0: ", StringComparison.Ordinal));
            Assert.True(failedAttempt >= 0 && publishedLine > failedAttempt, $"expected a failed publishing attempt, then the publication:\n{log}");
            Assert.Equal(1, lines.Count(l => l.StartsWith("[builder] published ", StringComparison.Ordinal)));

            var listed = build.Json.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("filename").GetString()!).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(2, rows.Count);
            Assert.Equal(listed, rows.Select(r => r.Filename));
            Assert.All(rows, r => Assert.Equal(id, r.BuildId));
            Assert.Equal(2, await LifecycleProbes.AssertDownloadsMatchAsync(Client, rows));
            // The bytes of the attempt that died were stored under the same keys: nothing else is in the project's directory.
            var stored = Directory.GetFiles(Path.Combine(installation.DataDir, "files", project)).Select(f => Path.GetFileName(f)).Where(f => !f.EndsWith(".metadata", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(listed, stored);
        }
        finally
        {
            await LifecycleProbes.ExecuteAsync(connection, "DROP TRIGGER IF EXISTS fault_publish ON builder_files; DROP FUNCTION IF EXISTS fault_publish(); DROP SEQUENCE IF EXISTS fault_publish_seq;");
        }
    }
}
