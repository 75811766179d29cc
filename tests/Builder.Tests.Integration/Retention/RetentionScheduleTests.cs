using System.Globalization;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Retention;

/// <summary>
/// Production mode: two web processes on one PostgreSQL database, both running the retention schedule with a period of
/// 2 s. The policy runs once per period, in one process at a time: each release it selects is yanked exactly once, and
/// no two runs are closer than the period.
/// </summary>
public sealed class RetentionScheduleTests : IAsyncLifetime
{
    private const double PeriodSeconds = 2;

    private readonly string _root = TestPaths.NewTempDirectory("retention-schedule");
    private PostgresDatabase _database = null!;
    private BuilderProcess _a = null!;
    private BuilderProcess _b = null!;

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        _a = await BuilderProcess.StartWebAsync(Production("a"));
        _b = await BuilderProcess.StartWebAsync(Production("b"));
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _database.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    private Dictionary<string, string> Production(string name) =>
        new(BuilderInstance.Production(Path.Combine(_root, name), _database.ConnectionString))
        {
            ["Builder__Retention__Hours"] = (PeriodSeconds / 3600).ToString("R", CultureInfo.InvariantCulture),
        };

    [Fact]
    public async Task Two_processes_run_a_policy_on_its_schedule_once_per_period_and_yank_each_release_once()
    {
        using var httpA = BuilderInstance.AdminHttp(_a.BaseUrl!);
        using var httpB = BuilderInstance.AdminHttp(_b.BaseUrl!);
        var a = new RetentionApi(httpA);
        var dist = Access.AccessClientHelpers.Dir(_root, "dist");
        foreach (var version in (string[])["1.0", "1.1", "1.2", "1.3", "1.4"])
        {
            await a.UploadAsync(dist, "acme-nightly", version);
        }

        var id = await a.CreateAsync(new { projects = new[] { "acme-nightly" }, keepLatest = 2, action = "yank" });

        // The first scheduled run comes one period after creation; wait for three runs (either process may make them).
        var b = new RetentionApi(httpB);
        var (runs, _, _) = await Access.AccessClientHelpers.PollAsync(
            async () => (await b.AuditAsync("retention_policy:run")).Where(e => e.GetProperty("target").GetString() == $"retention-policy:{id}").ToList(),
            r => r.Count >= 3, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(250));
        Assert.True(runs.Count >= 3, $"{runs.Count} scheduled run(s) in 30 s with a period of {PeriodSeconds} s");
        Assert.All(runs, r => Assert.Equal("retention-schedule", r.GetProperty("principal").GetString()));

        var times = runs.Select(r => r.GetProperty("at").GetDateTimeOffset()).Order().ToList();
        for (var i = 1; i < times.Count; i++)
        {
            // Each run records its end as the policy's last run, just before its audit event: the next run, whichever
            // process makes it, starts a period later at the earliest (the tolerance: clock reads microseconds apart).
            Assert.True(times[i] - times[i - 1] >= TimeSpan.FromSeconds(PeriodSeconds - 0.05),
                $"runs {i} and {i + 1} are {(times[i] - times[i - 1]).TotalSeconds:F2} s apart, less than the period: " + string.Join(", ", times.Select(t => t.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture))));
        }

        var yanks = (await a.AuditAsync("release:yanked")).Where(e => e.GetProperty("project").GetString() == "acme-nightly").ToList();
        Assert.Equal(["release:1.0", "release:1.1", "release:1.2"], yanks.Select(e => e.GetProperty("target").GetString()).Order());
        Assert.All(yanks, e => Assert.Equal($"retention-policy:{id}", e.GetProperty("principal").GetString()));
        Assert.Equal(3, (await b.IndexAsync("acme-nightly")).YankedFiles.Count);
    }
}
