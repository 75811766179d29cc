using System.Collections.Concurrent;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Builder.Data;
using Builder.Pipeline;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>
/// Production runs a <see cref="ForgeReporter"/> in every web and worker process on one PostgreSQL database: each
/// report is claimed by one of them and sent once, however they interleave.
/// </summary>
public sealed class ForgeReporterTests
{
    private const int Reports = 40;

    [Fact]
    public async Task Two_reporters_on_one_database_send_each_report_exactly_once()
    {
        // The host's own reporter polls once at start (nothing is due yet) and then sleeps past the end of the test.
        await using var host = await LifecycleHost.StartAsync(postgres: true, new() { ["Builder:Forges:PollMilliseconds"] = "60000" });
        var buildId = await host.WithAsync(async sp =>
        {
            var db = sp.GetRequiredService<BuilderDbContext>();
            // Gitea, with an API on a loopback port where nothing listens: only the test's recording client is ever asked.
            var repository = new SourceRepository { Provider = "gitea", Name = "acme/reporters", CloneUrl = "http://127.0.0.1:9/acme/reporters.git", CreatedAt = DateTimeOffset.UtcNow };
            db.Repositories.Add(repository);
            await db.SaveChangesAsync();
            var build = new Build { RepositoryId = repository.Id, Tag = "v1.0.0", CommitSha = new string('c', 40), CreatedAt = DateTimeOffset.UtcNow };
            db.Builds.Add(build);
            await db.SaveChangesAsync();
            var now = DateTimeOffset.UtcNow;
            for (var i = 0; i < Reports; i++)
            {
                db.ForgeReports.Add(new ForgeReport
                {
                    BuildId = build.Id,
                    Target = "gitea-status",
                    State = i % 2 == 0 ? "pending" : "running",
                    Description = $"report {i}",
                    EventId = i + 1,
                    CreatedAt = now,
                    DueAt = now,
                });
            }

            await db.SaveChangesAsync();
            return build.Id;
        });

        var forge = new RecordingForge();
        var (first, second) = await host.WithAsync(sp => Task.FromResult((
            ActivatorUtilities.CreateInstance<ForgeReporter>(sp, (IEnumerable<IForgeClient>)[forge]),
            ActivatorUtilities.CreateInstance<ForgeReporter>(sp, (IEnumerable<IForgeClient>)[forge]))));

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var counts = await Task.WhenAll(DrainAsync(first, timeout.Token), DrainAsync(second, timeout.Token));

        Assert.Equal(Reports, forge.Calls.Count);
        Assert.Equal(Reports, forge.Calls.Distinct().Count());
        // Both took part (each send takes 20 ms, so neither can drain forty alone before the other starts).
        Assert.All(counts, c => Assert.True(c > 0, $"one reporter sent nothing: {string.Join(", ", counts)}"));
        var rows = await host.WithAsync(sp => sp.GetRequiredService<BuilderDbContext>().ForgeReports.AsNoTracking().Where(r => r.BuildId == buildId).ToListAsync());
        Assert.All(rows, r =>
        {
            Assert.Equal(ForgeReportOutcomes.Sent, r.Outcome);
            Assert.Equal(1, r.Attempts);
            Assert.Null(r.DueAt);
            Assert.NotNull(r.SentAt);
        });
    }

    /// <summary>Sends until nothing is due; the number of sends this reporter made.</summary>
    private static async Task<int> DrainAsync(ForgeReporter reporter, CancellationToken cancellationToken)
    {
        var before = RecordingForge.SentBy.Value;
        RecordingForge.SentBy.Value = new StrongBox<int>(0);
        while (await reporter.SendNextAsync(cancellationToken))
        {
        }

        var sent = RecordingForge.SentBy.Value!.Value;
        RecordingForge.SentBy.Value = before;
        return sent;
    }

    private sealed class StrongBox<T>(T value)
    {
        public T Value { get; set; } = value;
    }

    /// <summary>Gitea's client as far as the reporter can tell: records each status (by its description), 20 ms each.</summary>
    private sealed class RecordingForge : IForgeClient
    {
        public static readonly AsyncLocal<StrongBox<int>?> SentBy = new();

        public ConcurrentQueue<string> Calls { get; } = new();

        public string Provider => ForgeProviders.Gitea;

        public async Task<ForgeCallResult> SetCommitStatusAsync(ForgeRepository repository, CommitStatus status, CancellationToken cancellationToken)
        {
            await Task.Delay(20, cancellationToken);
            Calls.Enqueue(status.Description);
            if (SentBy.Value is { } box)
            {
                box.Value++;
            }

            return ForgeCallResult.Ok("recorded");
        }

        public Task<ForgeCallResult> AttachReleaseFilesAsync(ForgeRepository repository, string tag, IReadOnlyList<ReleaseFile> files, CancellationToken cancellationToken) =>
            Task.FromResult(ForgeCallResult.Refused("not used"));
    }
}
