using Builder.Core.Builds;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>
/// Builds follow the rules uploads do (the real plan, part and publish jobs of <see cref="LifecycleHost"/>): a tag that
/// names a local version is not built, a release is its PEP 440 version whatever the tag's spelling, and what a build
/// backend writes under a non-canonical name is published under the canonical one.
/// </summary>
public sealed class ReleaseImmutabilityTests
{
    [Fact]
    public async Task A_local_version_tag_fails_at_planning_and_an_equal_version_spelled_otherwise_is_not_published_beside_the_release()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: false);
        var repository = await host.RepositoryAsync("acme/same");

        var first = await host.QueueAsync(repository, "v1.0.0");
        await host.RunPartAsync((await host.PlannedPartAsync(first)).Id, new WheelMaker("acme-same", "1.0.0"));
        await host.PublishAsync(first);
        Assert.Equal(BuildState.Succeeded, (await host.BuildAsync(first)).State);

        // "v1.0" is release 1.0.0: its wheel (other bytes, for the same tags) would be a second pick for "==1.0".
        var again = await host.QueueAsync(repository, "v1.0");
        await host.RunPartAsync((await host.PlannedPartAsync(again)).Id, new WheelMaker("acme-same", "1.0"));
        await host.PublishAsync(again);
        var refused = await host.BuildAsync(again);
        Assert.Equal(BuildState.Failed, refused.State);
        Assert.Contains("version 1.0 is release 1.0.0", refused.Error, StringComparison.Ordinal);
        Assert.Equal(["1.0.0"], await host.IndexedVersionsAsync("acme-same"));
        Assert.Empty(await host.FilesAsync("acme-same", "1.0"));

        var local = await host.QueueAsync(repository, "v1.0.0+patched");
        await host.PlanAsync(local);
        var localBuild = await host.BuildAsync(local);
        Assert.Equal(BuildState.Failed, localBuild.State);
        Assert.Contains("local version 1.0.0+patched", localBuild.Error, StringComparison.Ordinal);
        Assert.Empty(localBuild.Parts);
    }

    [Fact]
    public async Task A_wheel_a_backend_names_otherwise_is_published_under_its_canonical_name()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: false);
        var build = await host.QueueAsync(await host.RepositoryAsync("acme/dotted"), "v2.0");
        await host.RunPartAsync((await host.PlannedPartAsync(build)).Id, new LegacyNames());
        await host.PublishAsync(build);

        Assert.Equal(BuildState.Succeeded, (await host.BuildAsync(build)).State);
        var file = Assert.Single(await host.FilesAsync("acme-dotted", "2.0"));
        Assert.Equal("acme_dotted-2.0-py3-none-any.whl", file.Filename);
    }

    /// <summary>A backend that writes the wheel as "Acme.Dotted-2.0-py3-none-any.whl" (the name as the project spells it).</summary>
    private sealed class LegacyNames : IWheelBuilder
    {
        public Task<WheelBuildResult> BuildAsync(WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(request.OutputDirectory);
            var made = Distributions.Wheel(request.OutputDirectory, "Acme.Dotted", "2.0");
            var legacy = Path.Combine(request.OutputDirectory, "Acme.Dotted-2.0-py3-none-any.whl");
            File.Move(made, legacy);
            return Task.FromResult(new WheelBuildResult(true, null, [new TargetResult("py3-none-any", true, TimeSpan.Zero, [Path.GetFileName(legacy)], null)], [legacy]));
        }
    }
}
