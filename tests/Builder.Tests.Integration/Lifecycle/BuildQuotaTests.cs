using System.Net;
using System.Net.Http.Json;
using Builder.Core.Builds;
using Builder.Index;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>
/// Quotas and builds, through the real plan, part and publish jobs of <see cref="LifecycleHost"/> (no Docker: a build's
/// containers start only in its parts' jobs, which exist only once the plan recorded them): a project already at its
/// quota fails at planning with no part recorded, whether the repository published it before or its pyproject.toml names
/// it; a build that would go over fails at publication with the reason, and publishes nothing.
/// </summary>
public sealed class BuildQuotaTests
{
    [Fact]
    public async Task A_build_of_a_project_at_its_quota_fails_before_any_part_and_one_that_would_go_over_fails_at_publication()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: false);
        var repository = await host.RepositoryAsync("acme/lib");
        var first = await host.QueueAsync(repository, "v1.0");
        await host.RunPartAsync((await host.PlannedPartAsync(first)).Id, new WheelMaker("acme-lib", "1.0"));
        await host.PublishAsync(first);
        Assert.Equal(BuildState.Succeeded, (await host.BuildAsync(first)).State);
        var published = Assert.Single(await host.FilesAsync("acme-lib", "1.0"));
        // The built wheel's sidecar is counted: its size came with the staged file.
        Assert.True(published.MetadataSize > 0, "the sidecar's size is recorded");
        var used = published.Size + published.MetadataSize!.Value;
        var stored = await host.StoredAsync("acme-lib", published.Filename);
        await using (stored!.Stream)
        {
            Assert.Equal(published.Size, stored.Length);
        }

        // Room for less than another wheel: the parts build, the publication refuses, nothing is published.
        await SetQuotaAsync(host, "acme-lib", used + 10);
        var over = await host.QueueAsync(repository, "v1.1");
        var wheels = new WheelMaker("acme-lib", "1.1");
        await host.RunPartAsync((await host.PlannedPartAsync(over)).Id, wheels);
        await host.PublishAsync(over);
        var overBuild = await host.BuildAsync(over);
        Assert.Equal(BuildState.Failed, overBuild.State);
        Assert.StartsWith($"Quota exceeded: project 'acme-lib' uses {ProjectQuotas.Describe(used)} of its quota of {ProjectQuotas.Describe(used + 10)} (set for the project); "
            + "acme_lib-1.1-py3-none-any.whl (", overBuild.Error, StringComparison.Ordinal);
        Assert.Empty(await host.FilesAsync("acme-lib", "1.1"));
        Assert.Equal(["1.0"], await host.IndexedVersionsAsync("acme-lib"));

        // At its quota: the next build fails at planning; no part is recorded, so no container could start.
        await SetQuotaAsync(host, "acme-lib", used);
        var full = await host.QueueAsync(repository, "v1.2");
        await host.PlanAsync(full);
        var fullBuild = await host.BuildAsync(full);
        var expected = $"Quota exceeded: project 'acme-lib' uses {ProjectQuotas.Describe(used)} of its quota of {ProjectQuotas.Describe(used)} (set for the project), "
            + "so nothing more can be published; nothing was built. Delete releases it no longer needs, or ask an admin to raise its quota, then build again";
        Assert.Equal(BuildState.Failed, fullBuild.State);
        Assert.Equal(expected, fullBuild.Error);
        Assert.Empty(fullBuild.Parts);

        // A repository that never published: its pyproject.toml names the project (spelled otherwise), so it is known before the build.
        var fork = await host.QueueAsync(await host.RepositoryAsync("acme/lib-fork"), "v2.0");
        await host.PlanAsync(fork, "[project]\nname = \"Acme_Lib\"\nversion = \"2.0\"\n");
        var forkBuild = await host.BuildAsync(fork);
        Assert.Equal(BuildState.Failed, forkBuild.State);
        Assert.Equal(expected, forkBuild.Error);
        Assert.Empty(forkBuild.Parts);

        // With room again, the same tag builds and publishes.
        await SetQuotaAsync(host, "acme-lib", null);
        var again = await host.QueueAsync(repository, "v1.3");
        await host.RunPartAsync((await host.PlannedPartAsync(again)).Id, new WheelMaker("acme-lib", "1.3"));
        await host.PublishAsync(again);
        Assert.Equal(BuildState.Succeeded, (await host.BuildAsync(again)).State);
    }

    private static async Task SetQuotaAsync(LifecycleHost host, string project, long? quotaBytes)
    {
        using var response = await host.Http.PatchAsJsonAsync($"/api/projects/{project}", new { quotaBytes });
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PATCH quota: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
