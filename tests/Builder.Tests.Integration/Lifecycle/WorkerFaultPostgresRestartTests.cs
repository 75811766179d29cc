using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;
using Xunit.Abstractions;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>
/// PostgreSQL restarted under a production installation (web process, two workers) while releases build and a client
/// downloads: on a PostgreSQL server of the test's own, since restarting the shared one would break the other tests.
/// </summary>
[DockerBuild]
public sealed class WorkerFaultPostgresRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int LeaseTimeoutSeconds = 12;
    private const int HeartbeatSeconds = 2;

    private readonly string _root = TestPaths.NewTempDirectory("pg-restart");
    private readonly string[] _workerNames = [$"wfpg-a-{Guid.NewGuid().ToString("N")[..8]}", $"wfpg-b-{Guid.NewGuid().ToString("N")[..8]}"];
    private readonly List<BuilderProcess> _processes = [];
    private PrivatePostgresServer _server = null!;
    private PostgresDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _server = await PrivatePostgresServer.StartAsync();
        _database = await PostgresDatabase.CreateAsync(_server.AdminConnectionString);
    }

    public async Task DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }

        foreach (var name in _workerNames)
        {
            await LifecycleProbes.RemoveContainersAsync(name);
        }

        await _database.DisposeAsync();
        await _server.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    private Dictionary<string, string> Settings(string? workerName = null) =>
        LifecycleProbes.Production(Path.Combine(_root, "data"), _database.ConnectionString, LeaseTimeoutSeconds, HeartbeatSeconds, workerName);

    [Fact]
    public async Task PostgreSQL_restarted_while_workers_build_and_clients_download_loses_no_build()
    {
        var web = await BuilderProcess.StartWebAsync(Settings());
        _processes.Add(web);
        await LifecycleProbes.MoveIdsAwayAsync(_database.ConnectionString);
        var workers = _workerNames.Select(name => BuilderProcess.StartWorker(Settings(name))).ToList();
        _processes.AddRange(workers);
        foreach (var worker in workers)
        {
            await LifecycleProbes.WaitUntilAsync(() => Task.FromResult(worker.HasExited || worker.Output.Contains("Application started", StringComparison.Ordinal)),
                () => "a worker to start; its output:\n" + worker.Output, TimeSpan.FromSeconds(90));
        }

        var client = BuilderInstance.Client(web);

        // A release already published, which a client downloads over and over while PostgreSQL restarts.
        var seedGit = await GitRepositories.CreateAsync(Path.Combine(_root, "seed"), PythonProjects.Pure("acme-seed", "1.0.0"), "v1.0.0");
        var seed = await client.WaitForBuildAsync(await client.PushTagAsync(await client.RegisterAsync("acme/seed", seedGit.CloneUrl), seedGit), TimeSpan.FromMinutes(3));
        Assert.True(seed.State == "succeeded", $"seed build {seed.State}: {seed.Error}");
        var wheel = Assert.Single(await LifecycleProbes.FileRowsAsync(_database.ConnectionString, "acme-seed", "1.0.0"), r => r.Filename.EndsWith(".whl", StringComparison.Ordinal));

        const int sleep = 10;
        var releases = new List<(RegisteredRepository Repository, TaggedRepository Git)>();
        for (var i = 0; i < 3; i++)
        {
            var git = await GitRepositories.CreateAsync(Path.Combine(_root, $"r{i}"), LifecycleProbes.SlowPure($"acme-restart-{i}", "1.0.0", sleep), "v1.0.0");
            releases.Add((await client.RegisterAsync($"acme/restart-{i}", git.CloneUrl), git));
        }

        using var stopDownloads = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var downloads = Task.Run(() => DownloadLoopAsync(web.BaseUrl!, wheel, clock, stopDownloads.Token));

        var ids = await Task.WhenAll(releases.Select(r => client.PushTagAsync(r.Repository, r.Git)));
        // Restart while they build: at least one part is in its container.
        await LifecycleProbes.WaitUntilAsync(async () =>
        {
            foreach (var id in ids)
            {
                var parts = (await client.GetBuildAsync(id)).Json.GetProperty("parts");
                if (parts.EnumerateArray().Any(p => p.GetProperty("state").GetString() == "running")
                    && (await client.GetLogSoFarAsync(id)).Contains(LifecycleProbes.SleepingLine(sleep), StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }, "a part to be building", TimeSpan.FromMinutes(3));
        var states = new List<string>();
        foreach (var id in ids)
        {
            states.Add($"{id}: " + string.Join(", ", (await client.GetBuildAsync(id)).Json.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("state").GetString())));
        }

        var restartFrom = clock.Elapsed;
        await _server.RestartAsync();
        var restartTo = clock.Elapsed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PostgreSQL restarted from {restartFrom.TotalSeconds:F1} s to {restartTo.TotalSeconds:F1} s; parts then: {string.Join("; ", states)}"));

        var builds = await LifecycleProbes.WaitForBuildsAsync(client, ids, TimeSpan.FromMinutes(3));
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stopDownloads.CancelAsync();
        var results = await downloads;

        // Every build ended succeeded and published once, every file once with the bytes its row names.
        var checkedBuilds = 0;
        foreach (var (build, index) in builds.Select((b, i) => (b, i)))
        {
            // The whole log: the build's state is final before its last lines are stored ("[builder] published ...").
            var log = await client.GetLogAsync(build.Id);
            Assert.True(build.State == "succeeded", $"build {build.Id} {build.State}: {build.Error}\n{log}");
            var events = await LifecycleProbes.EventsAsync(client, build.Id);
            Assert.Equal(1, events.Count(e => e.Kind == "published"));
            var rows = await LifecycleProbes.FileRowsAsync(_database.ConnectionString, $"acme-restart-{index}", "1.0.0");
            Assert.Equal(2, rows.Count);
            Assert.All(rows, r => Assert.Equal(build.Id, r.BuildId));
            Assert.Equal(2, await LifecycleProbes.AssertDownloadsMatchAsync(client, rows));
            output.WriteLine($"build {build.Id}: " + string.Join(" | ", events.Where(e => e.Kind.StartsWith("part-", StringComparison.Ordinal)).Select(e => $"{e.Kind} {e.Detail}")));
            // A log write that failed while PostgreSQL was away is written again: no line of the build is lost.
            output.WriteLine($"build {build.Id}: log {log.Split('\n').Length} lines");
            Assert.True(log.Contains("] done: ", StringComparison.Ordinal) && log.Contains("[builder] published ", StringComparison.Ordinal),
                $"build {build.Id}'s log lacks the part's 'done' or the 'published' line:\n{log}");
            checkedBuilds++;
        }

        Assert.Equal(3, checkedBuilds);

        // No download returned wrong bytes; downloads worked before the restart and again after it.
        var wrong = results.Where(r => r.Outcome is "wrong-bytes" or "truncated").ToList();
        output.WriteLine($"downloads: {results.Count}; " + string.Join(", ", results.GroupBy(r => r.Outcome).Select(g => $"{g.Key}={g.Count()}")));
        foreach (var failure in results.Where(r => r.Outcome != "ok"))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {failure.Started.TotalSeconds:F1}-{failure.Ended.TotalSeconds:F1} s: {failure.Outcome} {failure.Detail}"));
        }

        Assert.Empty(wrong);
        // While the database is away a request that needs it answers 503 with Retry-After (clients retry), never a bare 500.
        Assert.DoesNotContain(results, r => r.Outcome == "status-500");
        Assert.Contains(results, r => r.Outcome == "ok" && r.Ended < restartFrom);
        Assert.Contains(results, r => r.Outcome == "ok" && r.Started > restartTo);

        // Every process lived through it.
        Assert.False(web.HasExited, "the web process exited:\n" + web.Output);
        Assert.All(workers, w => Assert.False(w.HasExited, "a worker exited:\n" + w.Output));
        // What the processes said about it (each warning or error with its message line), for the reader of the test output.
        foreach (var (name, process) in new[] { ("web", web) }.Concat(workers.Select((w, i) => (_workerNames[i], w))))
        {
            var lines = process.Output.Split('\n');
            var said = lines.Select((l, i) => (l, i)).Where(x => x.l.StartsWith("fail:", StringComparison.Ordinal) || x.l.StartsWith("warn:", StringComparison.Ordinal))
                .Select(x => $"{x.l.Trim()} {(x.i + 1 < lines.Length ? lines[x.i + 1].Trim() : "")}")
                .GroupBy(l => l).Select(g => $"  {g.Count()}x {g.Key}");
            output.WriteLine($"{name} warnings and errors:\n" + string.Join('\n', said));
        }
    }

    private sealed record Download(TimeSpan Started, TimeSpan Ended, string Outcome, string? Detail);

    private static async Task<List<Download>> DownloadLoopAsync(string baseUrl, PublishedFileRow file, Stopwatch clock, CancellationToken stop)
    {
        using var http = BuilderInstance.AdminHttp(baseUrl);
        http.Timeout = TimeSpan.FromSeconds(30);
        var results = new List<Download>();
        while (!stop.IsCancellationRequested)
        {
            var started = clock.Elapsed;
            string outcome = "none";
            string? detail = null;
            try
            {
                using var response = await http.GetAsync($"/files/{file.Project}/{Uri.EscapeDataString(file.Filename)}", CancellationToken.None);
                if (response.IsSuccessStatusCode)
                {
                    byte[]? bytes = null;
                    try
                    {
                        bytes = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException)
                    {
                        // 200, then the body ended short of its length: a truncated download.
                        (outcome, detail) = ("truncated", $"{ex.GetType().Name}: {ex.Message}");
                    }

                    if (bytes is not null)
                    {
                        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
                        (outcome, detail) = bytes.LongLength == file.Size && sha256 == file.Sha256
                            ? ("ok", null)
                            : ("wrong-bytes", $"{bytes.LongLength} bytes, sha256 {sha256}");
                    }
                }
                else
                {
                    outcome = "status-" + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                    detail = (await response.Content.ReadAsStringAsync(CancellationToken.None)).ReplaceLineEndings(" ");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                // No answer (connection refused or reset before the headers): a failed request, not a wrong body.
                outcome = "error";
                detail = $"{ex.GetType().Name}: {ex.Message}";
            }

            results.Add(new Download(started, clock.Elapsed, outcome, detail));
            await Task.Delay(100, CancellationToken.None);
        }

        return results;
    }
}
