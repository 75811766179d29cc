using System.Formats.Tar;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Docker.DotNet;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Docker;

/// <summary>
/// Builds one architecture in one container started through the Docker API: the source tree and our driver are
/// copied in (the only host path mounted is the directory of the container's own index relay), the driver runs every
/// Python of the matrix, and /builder/out is copied back. When the project has a test command, the wheels are then
/// tested in a second, clean container (cibuildwheel's model).
/// </summary>
public sealed partial class DockerWheelBuilder(
    IDockerClientFactory clients,
    IOptions<BuildOptions> options,
    IIndexAddress indexAddress,
    IBuildCredentialIssuer credentials,
    TimeProvider time,
    ILogger<DockerWheelBuilder> logger) : IWheelBuilder
{
    public const string ManagedLabel = BuildContainerRunner.ManagedLabel;
    public const string BuildIdLabel = BuildContainerRunner.BuildIdLabel;
    public const string OwnerLabel = BuildContainerRunner.OwnerLabel;

    private const string DriverResource = "builder_driver.py";
    private const string TesterResource = "builder_tester.py";
    private const string RelayResource = "builder_relay.py";

    private int _offlineLogged;

    // The newest CPython of the image runs the driver; "*[0-9]" leaves out free-threaded builds (cp313-cp313t).
    private const string LaunchScript =
        "py=$(ls -d /opt/python/cp3*[0-9]/bin/python 2>/dev/null | sort -V | tail -n 1); " +
        "if [ -z \"$py\" ]; then echo 'no CPython under /opt/python/cp3*/bin/python in this image' >&2; exit 90; fi; " +
        "exec \"$py\" -u \"$0\" \"$@\"";

    public async Task<WheelBuildResult> BuildAsync(WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var image = request.Image ?? settings.Images[request.Architecture];
        using var docker = clients.Create();
        var digest = await EnsureImageAsync(docker, image, cancellationToken);
        var runner = new BuildContainerRunner(settings, time, logger);
        if (request.PartId > 0 && request.EarlierRunWorkers.Count > 0)
        {
            await RemoveEarlierRunsAsync(docker, request, log, cancellationToken);
        }

        var (buildIndex, testIndex) = IndexFor(request, settings, log);

        var args = new List<string> { "--source", "/builder/src", "--out", "/builder/out" };
        if (request.IncludeSdist)
        {
            args.Add("--sdist");
        }

        if (request.Identifiers.Count > 0)
        {
            args.AddRange(["--identifiers", string.Join(',', request.Identifiers)]);
        }

        // A container with N CPUs builds N wheels at once (after the first, which tells whether the project is pure).
        args.AddRange(["--jobs", Math.Max(1, (int)Math.Floor(settings.Cpus)).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        args.AddRange(request.Project.BeforeBuild is { Length: > 0 } beforeBuild ? ["--before-build", beforeBuild] : []);
        args.AddRange(request.Project.Environment is { Length: > 0 } environment ? ["--environment", environment] : []);

        var build = await runner.RunAsync(docker, new ContainerJob(
            image,
            ["sh", "-c", LaunchScript, "/builder/" + DriverResource, .. args],
            request.BuildId,
            request.Architecture,
            "build",
            ct => PackAsync([("builder/src/", request.SourceDirectory)], DriverResource, ct),
            "/builder/out",
            request.OutputDirectory,
            buildIndex,
            buildIndex is null ? null : Credential(request, settings),
            request.PartId), log, cancellationToken);
        var result = BuildOutcome.Build(request, settings, build) with { ImageDigest = digest };
        if (!result.Succeeded || string.IsNullOrWhiteSpace(request.Project.TestCommand))
        {
            return result;
        }

        var wheels = result.Files.Where(f => f.EndsWith(".whl", StringComparison.Ordinal)).ToList();
        if (wheels.Count == 0)
        {
            return result;
        }

        if (request.Identifiers.Count > 0 && request.Identifiers.All(request.Project.TestSkip.Contains))
        {
            log.WriteLine($"[{request.Architecture} test] skipped: test-skip matches every identifier of this part");
            return result;
        }

        var test = await runner.RunAsync(docker, new ContainerJob(
            image,
            ["sh", "-c", LaunchScript, "/builder/" + TesterResource, .. TesterArguments(request)],
            request.BuildId,
            request.Architecture,
            "test",
            ct => PackTestInputAsync(request, wheels, ct),
            IndexUrl: testIndex,
            IndexCredential: testIndex is null ? null : Credential(request, settings),
            PartId: request.PartId), log, cancellationToken);
        return BuildOutcome.Test(request, settings, result, test) with { ImageDigest = digest };
    }

    /// <summary>
    /// Removes the containers an earlier run of this part left on this engine: this run holds the part's lease, so a
    /// container of the part that is still here belongs to a run that lost it (its worker was killed, or it hung).
    /// Only containers of this build and part whose owner is one of those runs' workers: another installation on the
    /// same engine has its own builds with the same ids, and its own worker names.
    /// </summary>
    private static async Task RemoveEarlierRunsAsync(DockerClient docker, WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken)
    {
        var containers = await BuildContainerRunner.ListManagedAsync(docker,
            [
                $"{BuildContainerRunner.BuildIdLabel}={request.BuildId.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
                $"{BuildContainerRunner.PartIdLabel}={request.PartId.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
            ], cancellationToken);
        foreach (var container in containers)
        {
            container.Labels.TryGetValue(BuildContainerRunner.OwnerLabel, out var owner);
            if (owner is null || !request.EarlierRunWorkers.Contains(owner))
            {
                continue;
            }

            await BuildContainerRunner.RemoveAsync(docker, container.ID, cancellationToken);
            log.WriteLine($"[{request.Architecture}] removed container {container.ID[..12]} left by an earlier run of this part (owner {owner})");
        }
    }

    /// <summary>
    /// Which containers reach Builder's index through a relay. A build container with a network of its own
    /// (Builder:Build:Network other than "none") keeps the image's index: the relay would replace it for pip. The test
    /// container never has a network, so it always gets the relay when the index is known.
    /// </summary>
    private (Uri? Build, Uri? Test) IndexFor(WheelBuildRequest request, BuildOptions settings, IBuildLog log)
    {
        var index = indexAddress.IndexUrl;
        if (index is null)
        {
            log.WriteLine($"[{request.Architecture}] [relay] no index URL known (Builder:Build:IndexUrl): build requirements come from the build image only");
            if (Interlocked.Exchange(ref _offlineLogged, 1) == 0)
            {
                LogNoIndexUrl(logger);
            }

            return (null, null);
        }

        if (settings.Network != "none")
        {
            log.WriteLine($"[{request.Architecture}] [relay] build containers have network '{settings.Network}' (Builder:Build:Network): pip uses the build image's index, not the relay");
            return (null, index);
        }

        return (index, index);
    }

    /// <summary>
    /// The build's credential for the index, valid as long as one container may run (and refused by the index anyway once
    /// the build is finished): the index grants it the rights of the repository being built.
    /// </summary>
    private string Credential(WheelBuildRequest request, BuildOptions settings) =>
        credentials.Issue(request.BuildId, TimeSpan.FromSeconds(settings.TimeoutSeconds) + TimeSpan.FromMinutes(10));

    /// <summary>The tester's command line (build-images/driver/builder_tester.py documents it).</summary>
    internal static List<string> TesterArguments(WheelBuildRequest request)
    {
        var project = request.Project;
        var args = new List<string> { "--wheels", "/builder/wheels", "--command", project.TestCommand! };
        foreach (var requirement in project.TestRequires.Where(r => !string.IsNullOrWhiteSpace(r)))
        {
            args.Add("--requires");
            args.Add(requirement);
        }

        if (UsesSourceTree(project.TestCommand!))
        {
            args.Add("--project");
            args.Add("/builder/project");
        }

        var pythons = request.Identifiers.Where(id => !project.TestSkip.Contains(id)).Select(BuildOutcome.InterpreterOf).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (pythons.Count > 0)
        {
            args.Add("--pythons");
            args.Add(string.Join(',', pythons));
        }

        return args;
    }

    /// <summary>cibuildwheel's placeholders for the source tree; without them the tests never see it (only the installed wheel).</summary>
    internal static bool UsesSourceTree(string testCommand) =>
        testCommand.Contains("{project}", StringComparison.Ordinal) || testCommand.Contains("{package}", StringComparison.Ordinal);

    /// <summary>The image's id (<c>sha256:...</c>: the digest of its configuration, which names its content), or a step failure when the engine lacks it.</summary>
    private static async Task<string> EnsureImageAsync(DockerClient docker, string image, CancellationToken cancellationToken)
    {
        try
        {
            return (await docker.Images.InspectImageAsync(image, cancellationToken)).ID;
        }
        catch (DockerImageNotFoundException ex)
        {
            throw new BuildStepException(
                $"build image '{image}' is not on the Docker engine; make it (build-images/make-local-images.sh) or pull it, then build again", ex);
        }
    }

    private static Task<Stream> PackTestInputAsync(WheelBuildRequest request, List<string> wheels, CancellationToken cancellationToken)
    {
        var trees = new List<(string, string)>();
        if (UsesSourceTree(request.Project.TestCommand!))
        {
            trees.Add(("builder/project/", request.SourceDirectory));
        }

        return PackAsync(trees, TesterResource, cancellationToken, wheels);
    }

    /// <summary>
    /// A tar extracted at "/" in the container: builder/, each (prefix, directory) tree, the named script and the given
    /// files under builder/wheels/. Every entry is owned by root (uid 0): the container has no CAP_CHOWN or
    /// CAP_DAC_OVERRIDE, so its root can only write into files it owns.
    /// </summary>
    private static async Task<Stream> PackAsync(IReadOnlyList<(string Prefix, string Directory)> trees, string script, CancellationToken cancellationToken, IReadOnlyList<string>? wheels = null)
    {
        var buffer = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "builder/") { Mode = DirectoryMode }, cancellationToken);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "builder/out/") { Mode = DirectoryMode }, cancellationToken);
            foreach (var (prefix, directory) in trees)
            {
                await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, prefix) { Mode = DirectoryMode }, cancellationToken);
                foreach (var path in Directory.EnumerateFileSystemEntries(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
                {
                    await WriteRootOwnedAsync(writer, path, prefix + Path.GetRelativePath(directory, path).Replace('\\', '/'), cancellationToken);
                }
            }

            if (wheels is not null)
            {
                await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "builder/wheels/") { Mode = DirectoryMode }, cancellationToken);
                foreach (var wheel in wheels)
                {
                    await WriteRootOwnedAsync(writer, wheel, "builder/wheels/" + Path.GetFileName(wheel), cancellationToken);
                }
            }

            // The relay forwarder (builder_relay.py) is imported by both scripts from their own directory.
            foreach (var resource in new[] { script, RelayResource })
            {
                await using var stream = typeof(DockerWheelBuilder).Assembly.GetManifestResourceStream(resource)
                    ?? throw new InvalidOperationException($"embedded resource {resource} is missing");
                await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "builder/" + resource)
                {
                    DataStream = stream,
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                }, cancellationToken);
            }
        }

        buffer.Position = 0;
        return buffer;
    }

    private static async Task WriteRootOwnedAsync(TarWriter writer, string path, string name, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is { } link)
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = link, Mode = info.UnixFileMode }, cancellationToken);
        }
        else if (info.Attributes.HasFlag(FileAttributes.Directory))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, name + "/") { Mode = info.UnixFileMode }, cancellationToken);
        }
        else
        {
            await using var data = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data, Mode = info.UnixFileMode }, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No index URL is known (set Builder:Build:IndexUrl): build containers get build requirements from their image only")]
    private static partial void LogNoIndexUrl(ILogger logger);

    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
}
