using Builder.Core.Builds;

namespace Builder.Tests.Unit;

public sealed class RunLeaseTests
{
    [Fact]
    public void A_new_lease_names_its_worker_and_process_and_is_unique_per_run()
    {
        var first = RunLease.New("build-host-1", 4242);
        var second = RunLease.New("build-host-1", 4242);

        Assert.StartsWith("build-host-1/4242/", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
        Assert.Equal("build-host-1", RunLease.WorkerOf(first));
    }

    [Theory]
    [InlineData("worker-a/17/0123456789ab", "worker-a")]
    [InlineData("rack/2/host/17/0123456789ab", "rack/2/host")]
    [InlineData("worker-b/9/abcdef012345 (took over from worker-a/17/0123456789ab: its lease expired)", "worker-b")]
    [InlineData("not a lease", "")]
    [InlineData("worker/notapid/run", "")]
    [InlineData("", "")]
    public void The_worker_of_a_lease_is_everything_before_its_process_and_run(string lease, string worker)
    {
        Assert.Equal(worker, RunLease.WorkerOf(lease));
    }
}
