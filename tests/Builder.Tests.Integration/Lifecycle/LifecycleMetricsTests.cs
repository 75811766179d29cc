using Builder.Core.Builds;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>
/// Build and part durations reach <c>/metrics</c> from the release lifecycle's events: a release planned, built and
/// published by the real jobs, and one whose part fails, each observed once with its architecture and final state.
/// </summary>
public sealed class LifecycleMetricsTests
{
    private const string Project = "acme-timed";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_published_release_and_a_failed_part_are_timed_once_by_architecture_and_state(bool postgres)
    {
        await using var host = await LifecycleHost.StartAsync(postgres);
        var repository = await host.RepositoryAsync("acme/timed");
        var before = await ScrapeAsync(host);

        var published = await host.QueueAsync(repository, "v1.0.0");
        var part = await host.PlannedPartAsync(published);
        await host.RunPartAsync(part.Id, new WheelMaker(Project, "1.0.0"));
        await host.PublishAsync(published);
        Assert.Equal(BuildState.Succeeded, (await host.BuildAsync(published)).State);

        var failed = await host.QueueAsync(repository, "v1.0.1");
        await host.RunPartAsync((await host.PlannedPartAsync(failed)).Id, new FailingWheels());
        Assert.Equal(BuildState.Failed, (await host.BuildAsync(failed)).State);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        MetricsScrape after;
        // The failed part's event is written before the failed build's it caused, and events are delivered in order.
        while (Count(after = await ScrapeAsync(host), "builder_build_duration_seconds_count", ("state", "failed")) - Count(before, "builder_build_duration_seconds_count", ("state", "failed")) < 1
               && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        double Delta(string name, params (string, string)[] labels) => Count(after, name, labels) - Count(before, name, labels);
        Assert.Equal(1, Delta("builder_part_duration_seconds_count", ("architecture", "x86_64"), ("state", "succeeded")));
        Assert.Equal(1, Delta("builder_part_duration_seconds_count", ("architecture", "x86_64"), ("state", "failed")));
        Assert.Equal(1, Delta("builder_build_duration_seconds_count", ("state", "succeeded")));
        Assert.Equal(1, Delta("builder_build_duration_seconds_count", ("state", "failed")));
        Assert.Equal(0, Delta("builder_build_duration_seconds_count", ("state", "cancelled")));
        Assert.Equal(1, Delta("builder_publishes_total", ("outcome", "published")));
        Assert.Equal(1, after.Require("builder_builds", ("state", "succeeded")));
        Assert.Equal(1, after.Require("builder_builds", ("state", "failed")));
        // Each duration is its own row's: the published build took at least as long as its part.
        Assert.True(after.Require("builder_build_duration_seconds_sum", ("state", "succeeded")) >= after.Require("builder_part_duration_seconds_sum", ("architecture", "x86_64"), ("state", "succeeded")));
    }

    private static double Count(MetricsScrape scrape, string name, params (string, string)[] labels) => scrape.Value(name, labels) ?? 0;

    private static async Task<MetricsScrape> ScrapeAsync(LifecycleHost host)
    {
        using var response = await host.Http.GetAsync("/metrics");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return MetricsScrape.Parse(body);
    }

    /// <summary>A target that fails to build: the part fails, and the release with it.</summary>
    private sealed class FailingWheels : IWheelBuilder
    {
        public Task<WheelBuildResult> BuildAsync(WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken) =>
            Task.FromResult(new WheelBuildResult(false, "py3-none-any: the compiler failed", [new TargetResult("py3-none-any", false, TimeSpan.Zero, [], "the compiler failed")], []));
    }
}
