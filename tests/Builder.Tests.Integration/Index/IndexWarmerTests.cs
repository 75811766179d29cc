using Builder.Index;
using Builder.Tests.Integration.Host;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Index;

/// <summary>After a restart every project's pages are rendered in the background, before anyone asks for them.</summary>
public sealed class IndexWarmerTests : IDisposable
{
    private readonly string _dataDir = TestPaths.NewTempDirectory("warm");
    private readonly string _work = TestPaths.NewTempDirectory("warm-files");

    public void Dispose()
    {
        TestPaths.DeleteDirectory(_dataDir);
        TestPaths.DeleteDirectory(_work);
    }

    [Fact]
    public async Task A_restarted_server_renders_every_project_without_a_request()
    {
        using (var first = new BuilderWebFactory(_dataDir))
        {
            first.CreateClient().Dispose();
            await using var scope = first.Services.CreateAsyncScope();
            var publisher = scope.ServiceProvider.GetRequiredService<ReleasePublisher>();
            foreach (var name in new[] { "Warm.One", "warm-two" })
            {
                var wheel = Distributions.Wheel(_work, name, "1.0.0");
                await publisher.PublishAsync([await DistributionInspector.InspectAsync(wheel, Path.GetFileName(wheel), CancellationToken.None)], buildId: null, CancellationToken.None);
            }
        }

        using var second = new BuilderWebFactory(_dataDir);
        second.CreateClient().Dispose();
        var cache = second.Services.GetRequiredService<IndexCache>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(cache.IsCached("warm-one") && cache.IsCached("warm-two")) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(cache.IsCached("warm-one"), "warm-one was not rendered at start");
        Assert.True(cache.IsCached("warm-two"), "warm-two was not rendered at start");
        Assert.False(cache.IsCached("never-asked-for"));
    }
}
