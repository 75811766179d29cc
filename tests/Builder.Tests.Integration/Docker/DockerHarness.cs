using System.Collections.Concurrent;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Docker;
using Builder.Tests.Integration.Infrastructure;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace Builder.Tests.Integration.Docker;

/// <summary>The build output as a list, for assertions.</summary>
internal sealed class CollectingBuildLog : IBuildLog
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join('\n', _lines);

    public void WriteLine(string line) => _lines.Enqueue(line);
}

/// <summary>Issues "credential-of-build-{id}": what the relay presents is visible to a stand-in index.</summary>
internal sealed class FixedBuildCredentials : IBuildCredentialIssuer
{
    public string Issue(long buildId, TimeSpan lifetime) => $"credential-of-build-{buildId}";
}

internal sealed class FixedIndexAddress(Uri? indexUrl) : IIndexAddress
{
    public Uri? IndexUrl => indexUrl;
}

/// <summary>
/// Drives <see cref="DockerWheelBuilder"/> directly against the real engine: a temp source tree, a unique owner label
/// per test (other tests share the engine), and a look at the containers that owner still has.
/// </summary>
internal sealed class DockerHarness : IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("docker");

    public DockerHarness(Action<BuildOptions>? configure = null)
    {
        Options = new BuildOptions { WorkerName = $"test-containers-{Guid.NewGuid():N}", RelayDir = Path.Combine(_root, "relay") };
        configure?.Invoke(Options);
    }

    public BuildOptions Options { get; }

    /// <summary>Builder's index for the relay; null (the default): no relay, as a worker without Builder:Build:IndexUrl.</summary>
    public Uri? IndexUrl { get; set; }

    public long BuildId { get; } = Random.Shared.NextInt64(1_000_000, long.MaxValue);

    public CollectingBuildLog Log { get; } = new();

    public static DockerClient Client() => new DockerClientFactory(Microsoft.Extensions.Options.Options.Create(new BuildOptions())).Create();

    public async Task<WheelBuildResult> BuildAsync(Dictionary<string, string> files, ProjectBuildSettings? project = null, IReadOnlyList<string>? identifiers = null)
    {
        var source = Path.Combine(_root, "src");
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(source, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content.Replace("\r\n", "\n", StringComparison.Ordinal));
        }

        var builder = new DockerWheelBuilder(
            new DockerClientFactory(Microsoft.Extensions.Options.Options.Create(Options)),
            Microsoft.Extensions.Options.Options.Create(Options),
            new FixedIndexAddress(IndexUrl),
            new FixedBuildCredentials(),
            TimeProvider.System,
            NullLogger<DockerWheelBuilder>.Instance);
        var request = new WheelBuildRequest(BuildId, "x86_64", source, Path.Combine(_root, "out"), IncludeSdist: true)
        {
            Project = project ?? ProjectBuildSettings.None,
            Identifiers = identifiers ?? [],
        };
        return await builder.BuildAsync(request, Log, CancellationToken.None);
    }

    /// <summary>Containers (running or not) that carry this test's owner label.</summary>
    public Task<IList<ContainerListResponse>> OwnedContainersAsync() => ContainersOfOwnerAsync(Options.WorkerName);

    public static async Task<IList<ContainerListResponse>> ContainersOfOwnerAsync(string owner)
    {
        using var docker = Client();
        return await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{DockerWheelBuilder.OwnerLabel}={owner}"] = true },
            },
        });
    }

    /// <summary>Removes what this test's owner left (only after a failed assertion: a passing test leaves nothing).</summary>
    public static async Task RemoveContainersOfOwnerAsync(string owner)
    {
        using var docker = Client();
        foreach (var container in await ContainersOfOwnerAsync(owner))
        {
            await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true });
        }
    }

    public void Dispose()
    {
        RemoveContainersOfOwnerAsync(Options.WorkerName).GetAwaiter().GetResult();
        TestPaths.DeleteDirectory(_root);
    }
}
