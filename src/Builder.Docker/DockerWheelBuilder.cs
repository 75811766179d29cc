using System.Formats.Tar;
using System.Text;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Docker;

/// <summary>
/// Builds one architecture in one container started through the Docker API: the source tree and our driver are
/// copied in (no host path is mounted), the driver runs every Python of the matrix, and /builder/out is copied back.
/// </summary>
public sealed partial class DockerWheelBuilder(
    IDockerClientFactory clients,
    IOptions<BuildOptions> options,
    ILogger<DockerWheelBuilder> logger) : IWheelBuilder
{
    public const string ManagedLabel = "io.builder.managed";
    public const string BuildIdLabel = "io.builder.build-id";

    private const string DriverResource = "builder_driver.py";

    // The newest CPython of the image runs the driver; "*[0-9]" leaves out free-threaded builds (cp313-cp313t).
    private const string LaunchScript =
        "py=$(ls -d /opt/python/cp3*[0-9]/bin/python 2>/dev/null | sort -V | tail -n 1); " +
        "if [ -z \"$py\" ]; then echo 'no CPython under /opt/python/cp3*/bin/python in this image' >&2; exit 90; fi; " +
        "exec \"$py\" -u /builder/builder_driver.py \"$@\"";

    public async Task<WheelBuildResult> BuildAsync(WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var image = settings.Images[request.Architecture];
        using var docker = clients.Create();
        await EnsureImageAsync(docker, image, cancellationToken);

        var args = new List<string> { "--source", "/builder/src", "--out", "/builder/out" };
        if (request.IncludeSdist)
        {
            args.Add("--sdist");
        }

        if (request.Identifiers.Count > 0)
        {
            args.AddRange(["--identifiers", string.Join(',', request.Identifiers)]);
        }

        args.AddRange(request.Project.BeforeBuild is { Length: > 0 } beforeBuild ? ["--before-build", beforeBuild] : []);
        args.AddRange(request.Project.Environment is { Length: > 0 } environment ? ["--environment", environment] : []);

        var container = await docker.Containers.CreateContainerAsync(new CreateContainerParameters
        {
            Image = image,
            Cmd = ["sh", "-c", LaunchScript, "builder-driver", .. args],
            WorkingDir = "/builder",
            Env = ["PYTHONUNBUFFERED=1", "HOME=/tmp"],
            Labels = new Dictionary<string, string>
            {
                [ManagedLabel] = "true",
                [BuildIdLabel] = request.BuildId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            HostConfig = new HostConfig { NetworkMode = settings.Network },
        }, cancellationToken);
        LogContainerCreated(logger, container.ID, request.BuildId, request.Architecture, image);

        try
        {
            await using (var tar = await PackInputAsync(request.SourceDirectory, cancellationToken))
            {
                await docker.Containers.ExtractArchiveToContainerAsync(container.ID, new CopyToContainerParameters { Path = "/" }, tar, cancellationToken);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
            await docker.Containers.StartContainerAsync(container.ID, new ContainerStartParameters(), cancellationToken);

            DriverResult? result;
            long exitCode;
            try
            {
                result = await FollowOutputAsync(docker, container.ID, request.Architecture, log, timeout.Token);
                exitCode = (await docker.Containers.WaitContainerAsync(container.ID, timeout.Token)).StatusCode;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var message = $"{request.Architecture}: timed out after {settings.TimeoutSeconds} s";
                log.WriteLine($"[{request.Architecture}] {message}");
                return new WheelBuildResult(false, message, [], []);
            }

            var files = await CopyOutputAsync(docker, container.ID, request.OutputDirectory, cancellationToken);
            return ToResult(request, result, exitCode, files);
        }
        finally
        {
            // Containers never outlive their build: also on failure, timeout and cancellation.
            await docker.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, CancellationToken.None);
        }
    }

    private static async Task EnsureImageAsync(DockerClient docker, string image, CancellationToken cancellationToken)
    {
        try
        {
            await docker.Images.InspectImageAsync(image, cancellationToken);
        }
        catch (DockerImageNotFoundException ex)
        {
            throw new BuildStepException(
                $"build image '{image}' is not on the Docker engine; make it (build-images/make-local-images.sh) or pull it, then build again", ex);
        }
    }

    /// <summary>A tar with builder/src (the checkout) and builder/builder_driver.py, extracted at "/" in the container.</summary>
    private static async Task<Stream> PackInputAsync(string sourceDirectory, CancellationToken cancellationToken)
    {
        var buffer = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "builder/") { Mode = DirectoryMode }, cancellationToken);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "builder/out/") { Mode = DirectoryMode }, cancellationToken);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "builder/src/") { Mode = DirectoryMode }, cancellationToken);
            foreach (var path in Directory.EnumerateFileSystemEntries(sourceDirectory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
            {
                var name = "builder/src/" + Path.GetRelativePath(sourceDirectory, path).Replace('\\', '/');
                await writer.WriteEntryAsync(path, name, cancellationToken);
            }

            await using var driver = typeof(DockerWheelBuilder).Assembly.GetManifestResourceStream(DriverResource)
                ?? throw new InvalidOperationException($"embedded resource {DriverResource} is missing");
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "builder/" + DriverResource)
            {
                DataStream = driver,
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            }, cancellationToken);
        }

        buffer.Position = 0;
        return buffer;
    }

    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>Streams the container's output into the build log line by line and returns the driver's result line.</summary>
    private static async Task<DriverResult?> FollowOutputAsync(DockerClient docker, string containerId, string architecture, IBuildLog log, CancellationToken cancellationToken)
    {
        using var stream = await docker.Containers.GetContainerLogsAsync(containerId,
            new ContainerLogsParameters { Follow = true, ShowStdout = true, ShowStderr = true }, cancellationToken);
        DriverResult? result = null;
        var buffer = new byte[16384];
        var pending = new Dictionary<MultiplexedStream.TargetStream, StringBuilder>();
        var decoders = new Dictionary<MultiplexedStream.TargetStream, Decoder>();

        void Emit(string line)
        {
            var parsed = DriverResult.TryParse(line);
            if (parsed is not null)
            {
                result = parsed;
                return;
            }

            // The driver prefixes its lines with "[step]"; we add the architecture in front.
            log.WriteLine($"[{architecture}] {line}");
        }

        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken);
            if (read.EOF)
            {
                break;
            }

            if (!pending.TryGetValue(read.Target, out var sb))
            {
                pending[read.Target] = sb = new StringBuilder();
                decoders[read.Target] = Encoding.UTF8.GetDecoder();
            }

            var chars = new char[Encoding.UTF8.GetMaxCharCount(read.Count)];
            var n = decoders[read.Target].GetChars(buffer, 0, read.Count, chars, 0);
            sb.Append(chars, 0, n);
            var text = sb.ToString();
            var lastNewline = text.LastIndexOf('\n');
            if (lastNewline < 0)
            {
                continue;
            }

            foreach (var line in text[..lastNewline].Split('\n'))
            {
                Emit(line.TrimEnd('\r'));
            }

            sb.Clear().Append(text, lastNewline + 1, text.Length - lastNewline - 1);
        }

        foreach (var rest in pending.Values.Where(sb => sb.Length > 0))
        {
            Emit(rest.ToString());
        }

        return result;
    }

    /// <summary>Copies /builder/out back as flat files; anything but plain files with plain names is ignored.</summary>
    private static async Task<List<string>> CopyOutputAsync(DockerClient docker, string containerId, string outputDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outputDirectory);
        var archive = await docker.Containers.GetArchiveFromContainerAsync(containerId, new ContainerPathStatParameters { Path = "/builder/out" }, false, cancellationToken);
        var files = new List<string>();
        // Buffer the whole archive first: Docker.DotNet's chunked response stream throws EndOfStreamException when
        // TarReader reads it entry by entry (seen with 4.3.3), while one sequential copy reads it cleanly.
        await using var buffered = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await using (var response = archive.Stream ?? throw new InvalidOperationException("Docker returned no archive stream for /builder/out"))
        {
            await response.CopyToAsync(buffered, cancellationToken);
        }

        buffered.Position = 0;
        await using var reader = new TarReader(buffered);
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            var parts = entry.Name.TrimEnd('/').Split('/');
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || parts.Length != 2 || parts[1] is "" or "." or "..")
            {
                continue;
            }

            var target = Path.Combine(outputDirectory, parts[1]);
            await entry.ExtractToFileAsync(target, overwrite: true, cancellationToken);
            files.Add(target);
        }

        return files;
    }

    private static WheelBuildResult ToResult(WheelBuildRequest request, DriverResult? result, long exitCode, List<string> files)
    {
        if (result is null)
        {
            return new WheelBuildResult(false,
                $"{request.Architecture}: the build container exited with code {exitCode} without a result line; see the log", [], files);
        }

        var targets = (result.Steps ?? [])
            .Where(s => s.Skipped is null)
            .Select(s => new TargetResult(
                TargetName(s, request.Architecture),
                s.Ok,
                TimeSpan.FromSeconds(s.Seconds),
                s.Files ?? [],
                s.Ok ? null : result.Error))
            .ToList();
        var ok = result.Ok && exitCode == 0;
        var error = ok ? null : $"{request.Architecture}: {result.Error ?? $"the build container exited with code {exitCode}"}";
        return new WheelBuildResult(ok, error, targets, files);
    }

    /// <summary>"sdist", or cibuildwheel's identifier for a wheel target: "cp311-cp311" on x86_64 → "cp311-manylinux_x86_64".</summary>
    internal static string TargetName(DriverStep step, string architecture) =>
        step.Kind == "sdist" ? "sdist" : $"{step.Name.Split('-')[0]}-manylinux_{architecture}";

    [LoggerMessage(Level = LogLevel.Information, Message = "Created build container {ContainerId} for build {BuildId} ({Arch}, image {Image})")]
    private static partial void LogContainerCreated(ILogger logger, string containerId, long buildId, string arch, string image);
}
