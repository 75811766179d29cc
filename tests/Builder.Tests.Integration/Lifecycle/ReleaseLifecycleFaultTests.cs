using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Data;
using Builder.Index;
using Builder.Pipeline;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>
/// The release lifecycle under the faults at-least-once jobs bring, on real PostgreSQL (and SQLite where it says):
/// a tag deletion racing the publication, the same part run twice at once, a run whose lease expired coming back late,
/// the same publication run twice, bytes a publication left without committing, and the outbox's record of it all.
/// Each test counts what it checks.
/// </summary>
public sealed class ReleaseLifecycleFaultTests(ITestOutputHelper output)
{
    private const string Project = "acme-race";

    [Fact]
    public async Task A_tag_deletion_racing_the_publication_ends_published_or_cancelled_and_the_index_agrees_every_time()
    {
        // 24 rounds: the delays below cycle through 0-56 ms three times (both orders and true overlaps occur).
        var rounds = Stress.Rounds(24);
        await using var host = await LifecycleHost.StartAsync(postgres: true);
        var repository = await host.RepositoryAsync("acme/race");
        var published = new List<string>();
        var cancelled = 0;
        for (var round = 0; round < rounds; round++)
        {
            var version = $"1.0.{round}";
            var buildId = await host.QueueAsync(repository, "v" + version);
            var part = await host.PlannedPartAsync(buildId);
            await host.RunPartAsync(part.Id, new WheelMaker(Project, version));
            Assert.Contains(buildId, host.Dispatcher.EnqueuedPublications);

            // The publication and the tag's deletion at once, the deletion 0-56 ms later (both orders and true overlaps occur).
            var delay = TimeSpan.FromMilliseconds(round % 8 * 8);
            var publish = Task.Run(() => host.PublishAsync(buildId));
            var cancel = Task.Run(async () =>
            {
                await Task.Delay(delay);
                return await host.WithAsync(sp => sp.GetRequiredService<ReleaseLifecycle>().CancelTagAsync(repository, "v" + version, CancellationToken.None));
            });
            await publish;
            var cancelledNow = await cancel;

            var build = await host.BuildAsync(buildId);
            var events = await host.EventsAsync(buildId);
            var files = await host.FilesAsync(Project, version);
            var finals = events.Where(e => e.PartId is null && BuildEventKinds.IsFinal(e.Kind)).ToList();
            Assert.Single(finals);
            var wheel = $"{Project.Replace('-', '_')}-{version}-py3-none-any.whl";
            if (build.State == BuildState.Succeeded)
            {
                Assert.Equal(BuildEventKinds.Published, finals[0].Kind);
                Assert.Empty(cancelledNow);
                var file = Assert.Single(files);
                var stored = await host.StoredAsync(Project, wheel);
                Assert.NotNull(stored);
                await using (stored.Stream)
                {
                    Assert.Equal(file.Sha256, Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stored.Stream)));
                }

                published.Add(version);
            }
            else
            {
                Assert.Equal(BuildState.Cancelled, build.State);
                Assert.Equal(BuildEventKinds.Cancelled, finals[0].Kind);
                Assert.Equal([buildId], cancelledNow);
                Assert.Empty(files);
                Assert.Null(await host.StoredAsync(Project, wheel));
                cancelled++;
            }
        }

        output.WriteLine($"{rounds} rounds: {published.Count} published, {cancelled} cancelled");
        Assert.Equal(rounds, published.Count + cancelled);
        // The index shows exactly the published versions, each once (the index learns of them from their events).
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<string> indexed;
        do
        {
            indexed = await host.IndexedVersionsAsync(Project);
        }
        while (indexed.Count != published.Count && DateTime.UtcNow < deadline && await Delay());
        Assert.Equal(published.Order(StringComparer.Ordinal), indexed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_same_part_run_twice_at_once_builds_once_and_the_second_run_stops_on_the_lease()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: true);
        var repository = await host.RepositoryAsync("acme/twice");
        var buildId = await host.QueueAsync(repository, "v2.0.0");
        var part = await host.PlannedPartAsync(buildId);
        var wheels = new WheelMaker(Project, "2.0.0") { Gate = new(TaskCreationOptions.RunContinuationsAsynchronously) };

        var first = host.RunPartAsync(part.Id, wheels);
        await wheels.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await host.RunPartAsync(part.Id, wheels); // the duplicate delivery: returns at once
        Assert.Equal(1, wheels.Calls);
        wheels.Gate.SetResult();
        await first;

        // The plan job delivered twice more (a redelivery after planning) plans nothing again.
        await host.PlanAsync(buildId);
        await host.PlanAsync(buildId);
        await host.PublishAsync(buildId);
        await host.PublishAsync(buildId); // and the publication twice: the second finds it done

        var build = await host.BuildAsync(buildId);
        var events = await host.EventsAsync(buildId);
        Assert.Equal(BuildState.Succeeded, build.State);
        Assert.Single(build.Parts);
        Assert.Equal(1, wheels.Calls);
        Assert.Single(events, e => e.Kind == BuildEventKinds.Started);
        Assert.Single(events, e => e.Kind == BuildEventKinds.Planned);
        Assert.Single(events, e => e.Kind == BuildEventKinds.PartStarted);
        Assert.Single(events, e => e.Kind == BuildEventKinds.PartSucceeded);
        Assert.Single(events, e => e.Kind == BuildEventKinds.Published);
        Assert.Equal(1, build.Attempts);
        Assert.Equal(1, build.Parts[0].Attempts);
        Assert.Equal(1, build.PublishAttempts);
        Assert.Equal(wheels.LastSha256, Assert.Single(await host.FilesAsync(Project, "2.0.0")).Sha256);
    }

    [Fact]
    public async Task A_part_whose_lease_expired_is_taken_over_and_the_late_run_records_nothing()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: true, new() { ["Builder:Jobs:LeaseTimeoutSeconds"] = "30", ["Builder:Jobs:HeartbeatSeconds"] = "1" });
        var repository = await host.RepositoryAsync("acme/late");
        var buildId = await host.QueueAsync(repository, "v3.0.0");
        var part = await host.PlannedPartAsync(buildId);
        var hung = new WheelMaker(Project, "3.0.0") { Gate = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        var first = host.RunPartAsync(part.Id, hung);
        await hung.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Its worker stops beating (a partition, a stopped VM): the lease ages past the timeout, and the watchdog acts.
        // (Aged here by the test; the run's own heartbeat would refresh it, so it is aged and recovered in one go.)
        var recovered = await host.WithAsync(async sp =>
        {
            var db = sp.GetRequiredService<BuilderDbContext>();
            await db.BuildParts.Where(p => p.Id == part.Id).ExecuteUpdateAsync(u => u.SetProperty(p => p.HeartbeatAt, DateTimeOffset.UtcNow.AddHours(-1)));
            return await sp.GetRequiredService<ReleaseLifecycle>().RecoverAsync(everyLeaseIsDead: false, CancellationToken.None);
        });
        Assert.Equal(1, recovered);
        Assert.Equal(2, host.Dispatcher.EnqueuedParts.Count(p => p.PartId == part.Id));

        var takeover = new WheelMaker(Project, "3.0.0");
        await host.RunPartAsync(part.Id, takeover);
        // The late run comes back with other bytes: its lease is gone, so nothing of it is recorded or staged.
        hung.Gate.SetResult();
        await first;
        await host.PublishAsync(buildId);

        var build = await host.BuildAsync(buildId);
        var events = await host.EventsAsync(buildId);
        var log = await host.Http.GetStringAsync($"/api/builds/{buildId}/log?follow=false");
        Assert.Equal(BuildState.Succeeded, build.State);
        Assert.Equal(2, events.Count(e => e.Kind == BuildEventKinds.PartStarted));
        Assert.Single(events, e => e.Kind == BuildEventKinds.PartRequeued);
        Assert.Single(events, e => e.Kind == BuildEventKinds.PartSucceeded);
        Assert.Single(events, e => e.Kind == BuildEventKinds.Published);
        Assert.Equal(2, build.Parts[0].Attempts);
        var file = Assert.Single(await host.FilesAsync(Project, "3.0.0"));
        Assert.Equal(takeover.LastSha256, file.Sha256);
        Assert.NotEqual(hung.LastSha256, file.Sha256);
        Assert.True(log.Contains("stopped: this run's lease expired and another run took the part over and finished it", StringComparison.Ordinal), log);
        var hungLease = events.First(e => e.Kind == BuildEventKinds.PartStarted).Detail!;
        Assert.Equal($"the lease of {hungLease} expired (no heartbeat for 30 s): queued again", events.Single(e => e.Kind == BuildEventKinds.PartRequeued).Detail);
        Assert.NotEqual(hungLease, events.Last(e => e.Kind == BuildEventKinds.PartStarted).Detail);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Bytes_a_publication_left_without_committing_are_replaced_by_the_next_publication(bool postgres)
    {
        await using var host = await LifecycleHost.StartAsync(postgres);
        var repository = await host.RepositoryAsync("acme/orphan");
        var buildId = await host.QueueAsync(repository, "v4.0.0");
        var part = await host.PlannedPartAsync(buildId);
        var wheels = new WheelMaker(Project, "4.0.0");
        await host.RunPartAsync(part.Id, wheels);

        // A publication that stored its file and died before its rows committed left other bytes under the final name.
        var orphan = Distributions.Wheel(TestPaths.NewTempDirectory("orphan"), Project, "4.0.0", payloadBytes: 32);
        var name = Path.GetFileName(orphan);
        await host.WithAsync(sp => sp.GetRequiredService<PackageArtifacts>().StoreFileAsync(Project, name, orphan, Distributions.Sha256(orphan), CancellationToken.None));

        await host.PublishAsync(buildId);

        var build = await host.BuildAsync(buildId);
        Assert.Equal(BuildState.Succeeded, build.State);
        var file = Assert.Single(await host.FilesAsync(Project, "4.0.0"));
        Assert.Equal(wheels.LastSha256, file.Sha256);
        var stored = await host.StoredAsync(Project, name);
        Assert.NotNull(stored);
        await using (stored.Stream)
        {
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stored.Stream)));
        }
    }

    [Fact]
    public async Task A_published_file_is_never_replaced_even_by_a_publication_of_the_same_name()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: true);
        var repository = await host.RepositoryAsync("acme/kept");
        var first = await host.QueueAsync(repository, "v5.0.0");
        await host.RunPartAsync((await host.PlannedPartAsync(first)).Id, new WheelMaker(Project, "5.0.0"));
        await host.PublishAsync(first);
        var kept = Assert.Single(await host.FilesAsync(Project, "5.0.0")).Sha256;

        // Another repository builds the same file name with other bytes: refused, and the published bytes stay.
        var other = await host.RepositoryAsync("acme/kept-fork");
        var second = await host.QueueAsync(other, "v5.0.0");
        await host.RunPartAsync((await host.PlannedPartAsync(second)).Id, new WheelMaker(Project, "5.0.0"));
        await host.PublishAsync(second);

        var refused = await host.BuildAsync(second);
        Assert.Equal(BuildState.Failed, refused.State);
        Assert.Contains("is published with other contents", refused.Error, StringComparison.Ordinal);
        Assert.Equal(kept, Assert.Single(await host.FilesAsync(Project, "5.0.0")).Sha256);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Every_transition_writes_its_event_in_order_and_a_refused_transition_writes_none(bool postgres)
    {
        await using var host = await LifecycleHost.StartAsync(postgres);
        var repository = await host.RepositoryAsync("acme/outbox");
        var buildId = await host.QueueAsync(repository, "v6.0.0");

        var (startedOnce, startedTwice, plannedByOther, failed, failedAgain, cancelledAfter) = await host.WithAsync(async sp =>
        {
            var lifecycle = sp.GetRequiredService<ReleaseLifecycle>();
            var mine = ReleaseLifecycle.NewLease("test");
            var other = ReleaseLifecycle.NewLease("test");
            var startedOnce = await lifecycle.StartPlanAsync(buildId, mine, CancellationToken.None);
            var startedTwice = await lifecycle.StartPlanAsync(buildId, other, CancellationToken.None);
            var parts = new List<BuildPart> { new() { BuildId = buildId, Architecture = "x86_64", Identifiers = "cp312-manylinux_x86_64" } };
            var plannedByOther = await lifecycle.RecordPlanAsync(buildId, other, parts, ProjectBuildSettings.None, null, CancellationToken.None);
            Assert.True(await lifecycle.RecordPlanAsync(buildId, mine, parts, ProjectBuildSettings.None, null, CancellationToken.None));
            var failed = await lifecycle.FailAsync(buildId, "the test failed it");
            var failedAgain = await lifecycle.FailAsync(buildId, "and again");
            var cancelledAfter = await lifecycle.CancelTagAsync(repository, "v6.0.0", CancellationToken.None);
            return (startedOnce, startedTwice, plannedByOther, failed, failedAgain, cancelledAfter);
        });

        Assert.True(startedOnce);
        Assert.False(startedTwice);
        Assert.False(plannedByOther);
        Assert.True(failed);
        Assert.False(failedAgain);
        Assert.Empty(cancelledAfter);
        var events = await host.EventsAsync(buildId);
        Assert.Equal(
            [BuildEventKinds.Queued, BuildEventKinds.Started, BuildEventKinds.Planned, BuildEventKinds.PartCancelled, BuildEventKinds.Failed],
            events.Select(e => e.Kind));
        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
        Assert.Equal("the test failed it", events[^1].Detail);
        var build = await host.BuildAsync(buildId);
        Assert.Equal(BuildState.Failed, build.State);
        Assert.Equal(BuildState.Cancelled, Assert.Single(build.Parts).State);
        Assert.Null(build.LeaseOwner);

        // The same events over HTTP.
        var listed = await host.Http.GetFromJsonAsync<JsonElement>($"/api/builds/{buildId}/events");
        Assert.Equal(events.Select(e => e.Kind), listed.EnumerateArray().Select(e => e.GetProperty("kind").GetString()));
    }

    [Fact]
    public async Task Build_again_makes_the_next_generation_of_a_failed_build_and_refuses_what_is_running_or_published()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: false);
        var repository = await host.RepositoryAsync("acme/again");
        var failedId = await host.QueueAsync(repository, "v7.0.0");
        await host.WithAsync(sp => sp.GetRequiredService<ReleaseLifecycle>().FailAsync(failedId, "a flaky test"));
        var runningId = await host.QueueAsync(repository, "v7.1.0");

        using var retried = await host.Http.PostAsync($"/api/builds/{failedId}/retry", null);
        using var retriedRunning = await host.Http.PostAsync($"/api/builds/{runningId}/retry", null);
        using var missing = await host.Http.PostAsync("/api/builds/999999/retry", null);
        using var anonymousClient = host.Factory.CreateClient();
        using var anonymous = await anonymousClient.PostAsync($"/api/builds/{failedId}/retry", null);

        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        var body = await retried.Content.ReadFromJsonAsync<JsonElement>();
        var againId = body.GetProperty("id").GetInt64();
        Assert.Equal(failedId, body.GetProperty("retryOf").GetInt64());
        Assert.Equal(1, body.GetProperty("generation").GetInt32());
        Assert.Contains(againId, host.Dispatcher.Enqueued);
        var again = await host.BuildAsync(againId);
        Assert.Equal((BuildState.Queued, "v7.0.0", new string('c', 40), failedId), (again.State, again.Tag, again.CommitSha, again.RetryOf));
        Assert.Equal(HttpStatusCode.Conflict, retriedRunning.StatusCode);
        Assert.Contains("only a failed or cancelled build", await retriedRunning.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        // Built and published: the original failed build can no longer be built again (the tag's files are immutable).
        await host.RunPartAsync((await host.PlannedPartAsync(againId)).Id, new WheelMaker(Project, "7.0.0"));
        await host.PublishAsync(againId);
        Assert.Equal(BuildState.Succeeded, (await host.BuildAsync(againId)).State);
        using var afterPublish = await host.Http.PostAsync($"/api/builds/{failedId}/retry", null);
        Assert.Equal(HttpStatusCode.Conflict, afterPublish.StatusCode);
        Assert.Contains("is already published", await afterPublish.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The admin action is in the audit log.
        var audit = await host.Http.GetFromJsonAsync<JsonElement>("/api/audit?action=build:retried");
        Assert.Single(audit.GetProperty("events").EnumerateArray());
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100);
        return true;
    }
}
