using System.Globalization;
using System.Text;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;

namespace Builder.Docker;

/// <summary>One container to run: what it runs, what it is labelled with, what goes in and what comes back out.</summary>
/// <param name="Role">"build" or "test": a label, and the word failure messages use when no step is known.</param>
/// <param name="PackInputAsync">The tar extracted at "/" before the container starts.</param>
/// <param name="OutputPath">A directory in the container whose plain files are copied to <paramref name="OutputDirectory"/>; null: nothing comes back.</param>
/// <param name="IndexUrl">Builder's index, reached through an <see cref="IndexRelay"/> for this container only; null: no relay.</param>
/// <param name="IndexCredential">What the relay presents to the index for this build (never seen by the container).</param>
/// <param name="PartId">The release part the container builds (a label: a run that takes the part over removes it); 0: none.</param>
internal sealed record ContainerJob(
    string Image,
    IReadOnlyList<string> Command,
    long BuildId,
    string Architecture,
    string Role,
    Func<CancellationToken, Task<Stream>> PackInputAsync,
    string? OutputPath = null,
    string? OutputDirectory = null,
    Uri? IndexUrl = null,
    string? IndexCredential = null,
    long PartId = 0);

/// <summary>How a container ended.</summary>
/// <param name="LastStep">The "[step]" prefix of the last line the container printed (e.g. "cp311-cp311 wheel"); null if none.</param>
/// <param name="Tail">The last lines of output before the result line, without error summaries: what the failing step printed.</param>
internal sealed record ContainerOutcome(
    DriverResult? Result,
    long ExitCode,
    bool TimedOut,
    bool OutOfMemory,
    TimeSpan Elapsed,
    string? LastStep,
    IReadOnlyList<string> Tail,
    IReadOnlyList<string> Files);

/// <summary>
/// Runs untrusted code (the project's build backend, setup.py, tests) in one container: resource limits, no network,
/// no capabilities, nothing of the host but a copied-in tar and (with an index URL) the directory of its own index
/// relay; output streamed into the build log; a wall clock; OOM detection; the container and its relay always removed
/// afterwards, whatever happened.
/// </summary>
internal sealed partial class BuildContainerRunner(BuildOptions settings, TimeProvider time, ILogger logger)
{
    public const string ManagedLabel = "io.builder.managed";
    public const string BuildIdLabel = "io.builder.build-id";
    public const string OwnerLabel = "io.builder.owner";
    public const string RoleLabel = "io.builder.role";
    public const string PartIdLabel = "io.builder.part-id";

    private const int TailLines = 20;

    /// <summary>The create parameters: every limit comes from configuration, every container carries the labels the sweep looks for.</summary>
    /// <param name="relayDirectory">The host directory of this container's <see cref="IndexRelay"/>: the only host path mounted.</param>
    internal static CreateContainerParameters CreateParameters(BuildOptions settings, ContainerJob job, string? relayDirectory = null)
    {
        var memory = settings.MemoryMiB * 1024L * 1024L;
        return new CreateContainerParameters
        {
            Image = job.Image,
            Cmd = [.. job.Command],
            WorkingDir = "/builder",
            // Only what the scripts need; the image's own ENV (PATH, PIP_*) still applies. Nothing of the host's environment.
            Env = ["PYTHONUNBUFFERED=1", "HOME=/tmp"],
            Labels = new Dictionary<string, string>
            {
                [ManagedLabel] = "true",
                [BuildIdLabel] = job.BuildId.ToString(CultureInfo.InvariantCulture),
                [OwnerLabel] = settings.WorkerName,
                [RoleLabel] = job.Role,
                [PartIdLabel] = job.PartId.ToString(CultureInfo.InvariantCulture),
            },
            HostConfig = new HostConfig
            {
                // The test stage never gets a network, whatever Builder:Build:Network says: it only installs wheels we copied in.
                NetworkMode = job.Role == "test" ? "none" : settings.Network,
                // Memory == MemorySwap: no swap on top of the limit, so a runaway build is OOM-killed instead of thrashing the host.
                Memory = memory,
                MemorySwap = memory,
                NanoCPUs = (long)Math.Round(settings.Cpus * 1_000_000_000d),
                PidsLimit = settings.PidsLimit,
                // Builds run as the image's root: without capabilities and without setuid escalation that root can write
                // its own files (gcc, venvs and pip work) but cannot mount, trace, change ownership or raw-socket.
                SecurityOpt = ["no-new-privileges"],
                CapDrop = ["ALL"],
                // Read-only: the container can connect to the relay's socket but leave nothing in its directory.
                Binds = relayDirectory is null ? [] : [$"{relayDirectory}:{IndexRelay.ContainerDirectory}:ro"],
                Mounts = [],
            },
        };
    }

    public async Task<ContainerOutcome> RunAsync(DockerClient docker, ContainerJob job, IBuildLog log, CancellationToken cancellationToken)
    {
        IndexRelay? relay = null;
        CreateContainerResponse? container = null;
        try
        {
            if (job.IndexUrl is not null)
            {
                relay = IndexRelay.Start(settings.EffectiveRelayDir, job.IndexUrl, job.IndexCredential, line => log.WriteLine($"[{job.Architecture}] {line}"), logger);
            }

            container = await docker.Containers.CreateContainerAsync(CreateParameters(settings, job, relay?.HostDirectory), cancellationToken);
            LogContainerCreated(logger, container.ID, job.Role, job.BuildId, job.Architecture, job.Image, settings.WorkerName);
            return await RunCreatedAsync(docker, container, job, log, cancellationToken);
        }
        finally
        {
            // Containers never outlive their run: also on failure, timeout, cancellation and host shutdown (hence None).
            // The relay goes after its container, so nothing inside can still be talking to it.
            if (container is not null)
            {
                await RemoveAsync(docker, container.ID, CancellationToken.None);
            }

            if (relay is not null)
            {
                await relay.DisposeAsync();
            }
        }
    }

    private async Task<ContainerOutcome> RunCreatedAsync(DockerClient docker, CreateContainerResponse container, ContainerJob job, IBuildLog log, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var output = new OutputTracker(job.Architecture, log);
        await using (var tar = await job.PackInputAsync(cancellationToken))
        {
            await docker.Containers.ExtractArchiveToContainerAsync(container.ID, new CopyToContainerParameters { Path = "/" }, tar, cancellationToken);
        }

        using var clock = new CancellationTokenSource(TimeSpan.FromSeconds(settings.TimeoutSeconds), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, clock.Token);
        await docker.Containers.StartContainerAsync(container.ID, new ContainerStartParameters(), cancellationToken);

        long exitCode;
        try
        {
            await FollowOutputAsync(docker, container.ID, output, linked.Token);
            exitCode = (await docker.Containers.WaitContainerAsync(container.ID, linked.Token)).StatusCode;
        }
        catch (OperationCanceledException) when (clock.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            output.Flush();
            LogContainerTimedOut(logger, container.ID, job.BuildId, settings.TimeoutSeconds);
            return output.Outcome(-1, timedOut: true, outOfMemory: false, time.GetElapsedTime(started), []);
        }

        output.Flush();
        // The kernel may kill any process of the container's cgroup, often a child of the driver; Docker reports every
        // such kill as State.OOMKilled, whatever the exit code the driver then chose.
        var state = (await docker.Containers.InspectContainerAsync(container.ID, cancellationToken)).State;
        var outOfMemory = state?.OOMKilled == true;
        var files = job.OutputPath is not null && job.OutputDirectory is not null && !outOfMemory
            ? await CopyOutputAsync(docker, container.ID, job.OutputPath, job.OutputDirectory, cancellationToken)
            : [];
        return output.Outcome(exitCode, timedOut: false, outOfMemory, time.GetElapsedTime(started), files);
    }

    /// <summary>Every container (running or not) managed by Builder that carries all of <paramref name="labels"/> ("key=value").</summary>
    internal static Task<IList<ContainerListResponse>> ListManagedAsync(DockerClient docker, IEnumerable<string> labels, CancellationToken cancellationToken)
    {
        // Several "label" filters must all match (Engine API: GET /containers/json).
        var filter = new Dictionary<string, bool> { [$"{ManagedLabel}=true"] = true };
        foreach (var label in labels)
        {
            filter[label] = true;
        }

        return docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = filter },
        }, cancellationToken);
    }

    internal static async Task RemoveAsync(DockerClient docker, string containerId, CancellationToken cancellationToken)
    {
        try
        {
            await docker.Containers.RemoveContainerAsync(containerId, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            // Already gone (removed by a sweep or by hand): the goal is reached.
        }
    }

    /// <summary>Streams the container's output into the build log line by line.</summary>
    private static async Task FollowOutputAsync(DockerClient docker, string containerId, OutputTracker output, CancellationToken cancellationToken)
    {
        using var stream = await docker.Containers.GetContainerLogsAsync(containerId,
            new ContainerLogsParameters { Follow = true, ShowStdout = true, ShowStderr = true }, cancellationToken);
        var buffer = new byte[16384];
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken);
            if (read.EOF)
            {
                break;
            }

            output.Append(read.Target, buffer, read.Count);
        }
    }

    /// <summary>Copies a container directory back as flat files; anything but plain files with plain names is ignored.</summary>
    private static async Task<List<string>> CopyOutputAsync(DockerClient docker, string containerId, string path, string outputDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outputDirectory);
        var archive = await docker.Containers.GetArchiveFromContainerAsync(containerId, new ContainerPathStatParameters { Path = path }, false, cancellationToken);
        var files = new List<string>();
        // Buffer the whole archive first: Docker.DotNet's chunked response stream throws EndOfStreamException when
        // TarReader reads it entry by entry (seen with 4.3.3), while one sequential copy reads it cleanly.
        await using var buffered = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await using (var response = archive.Stream ?? throw new InvalidOperationException($"Docker returned no archive stream for {path}"))
        {
            await response.CopyToAsync(buffered, cancellationToken);
        }

        buffered.Position = 0;
        await using var reader = new System.Formats.Tar.TarReader(buffered);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            var parts = entry.Name.TrimEnd('/').Split('/');
            if (entry.EntryType is not (System.Formats.Tar.TarEntryType.RegularFile or System.Formats.Tar.TarEntryType.V7RegularFile)
                || parts.Length != 2 || parts[1] is "" or "." or "..")
            {
                continue;
            }

            var target = Path.Combine(outputDirectory, parts[1]);
            await entry.ExtractToFileAsync(target, overwrite: true, cancellationToken);
            files.Add(target);
        }

        return files;
    }

    /// <summary>Splits the multiplexed output into lines, writes them to the build log and remembers the result line and the tail.</summary>
    private sealed class OutputTracker(string architecture, IBuildLog log)
    {
        private readonly Dictionary<MultiplexedStream.TargetStream, (StringBuilder Text, Decoder Decoder)> _pending = [];
        private readonly Queue<string> _tail = new();
        private DriverResult? _result;
        private string? _lastStep;

        public void Append(MultiplexedStream.TargetStream target, byte[] buffer, int count)
        {
            if (!_pending.TryGetValue(target, out var pending))
            {
                _pending[target] = pending = (new StringBuilder(), Encoding.UTF8.GetDecoder());
            }

            var chars = new char[Encoding.UTF8.GetMaxCharCount(count)];
            var n = pending.Decoder.GetChars(buffer, 0, count, chars, 0);
            pending.Text.Append(chars, 0, n);
            var text = pending.Text.ToString();
            var lastNewline = text.LastIndexOf('\n');
            if (lastNewline < 0)
            {
                return;
            }

            foreach (var line in text[..lastNewline].Split('\n'))
            {
                Emit(line.TrimEnd('\r'));
            }

            pending.Text.Clear().Append(text, lastNewline + 1, text.Length - lastNewline - 1);
        }

        public void Flush()
        {
            foreach (var (text, _) in _pending.Values.Where(p => p.Text.Length > 0))
            {
                Emit(text.ToString());
                text.Clear();
            }
        }

        public ContainerOutcome Outcome(long exitCode, bool timedOut, bool outOfMemory, TimeSpan elapsed, IReadOnlyList<string> files) =>
            new(_result, exitCode, timedOut, outOfMemory, elapsed, _lastStep, [.. _tail], files);

        private void Emit(string line)
        {
            var parsed = DriverResult.TryParse(line);
            if (parsed is not null)
            {
                _result = parsed;
                return;
            }

            // The scripts prefix their lines with "[step]"; we add the architecture in front.
            log.WriteLine($"[{architecture}] {line}");
            var step = StepOf(line);
            if (step is "error" or "done")
            {
                // The error summary goes into the failure message itself; the tail shows what led to it.
                return;
            }

            if (step is not null)
            {
                _lastStep = step;
            }

            _tail.Enqueue(line);
            if (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }

        private static string? StepOf(string line)
        {
            var end = line.IndexOf(']', StringComparison.Ordinal);
            return line.StartsWith('[') && end > 1 ? line[1..end] : null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created {Role} container {ContainerId} for build {BuildId} ({Arch}, image {Image}, owner {Owner})")]
    private static partial void LogContainerCreated(ILogger logger, string containerId, string role, long buildId, string arch, string image, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId} of build {BuildId} ran out of its {TimeoutSeconds} s and is killed")]
    private static partial void LogContainerTimedOut(ILogger logger, string containerId, long buildId, int timeoutSeconds);
}
