using System.Diagnostics;
using Builder.Tests.Timing;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// The local build images (<c>build-images/make-local-images.sh</c>) that Docker builds in the tests run in. On a machine
/// where <c>scripts/ensure-deps.sh --images-in-background</c> is making one (a new machine, or changed inputs), its state is
/// in <c>$BUILDER_STATE/images</c>: <c>ARCH.pid</c> while it runs, <c>ARCH.exit</c> (the exit code) once it ended, its
/// output in <c>ARCH.log</c>. <see cref="WaitAsync"/> returns once the image can be used.
/// </summary>
internal static class LocalImages
{
    /// <summary>How long a test waits for an image being made (aarch64 under emulation takes minutes).</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(30);

    public static string Name(string architecture) => $"builder-local/manylinux-{architecture}:latest";

    private static string StateDirectory =>
        Path.Combine(Environment.GetEnvironmentVariable("BUILDER_STATE") is { Length: > 0 } state ? state : "/var/tmp/builder-dev", "images");

    /// <summary>Whether no one is making the image now (it is made, or making it ended).</summary>
    public static bool IsSettled(string architecture) =>
        !File.Exists(PidFile(architecture)) || File.Exists(ExitFile(architecture));

    /// <summary>Returns once the image is on the engine; throws with the maker's output when making it failed.</summary>
    public static async Task WaitAsync(string architecture, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        if (!IsSettled(architecture))
        {
            using var watcher = new FileSystemWatcher(StateDirectory, $"{architecture}.exit") { EnableRaisingEvents = true };
            var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            watcher.Created += (_, _) => ended.TrySetResult();
            watcher.Renamed += (_, _) => ended.TrySetResult();
            while (!File.Exists(ExitFile(architecture)))
            {
                if (!MakerAlive(architecture))
                {
                    throw new InvalidOperationException($"the maker of {Name(architecture)} (pid in {PidFile(architecture)}) is gone without an exit code:\n{LogTail(architecture)}");
                }

                if (deadline.Elapsed > Patience)
                {
                    throw new TimeoutException($"{Name(architecture)} was still being made after {Patience.TotalMinutes} minutes:\n{LogTail(architecture)}");
                }

                // The watcher ends the wait; the 10 s bound only notices a maker that died without writing its exit code.
                await Task.WhenAny(ended.Task, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken));
            }

            var exit = (await File.ReadAllTextAsync(ExitFile(architecture), cancellationToken)).Trim();
            if (exit != "0")
            {
                throw new InvalidOperationException($"making {Name(architecture)} failed (exit code {exit}):\n{LogTail(architecture)}");
            }
        }

        var inspect = await Shell.RunAsync("docker", ["image", "inspect", "--format", "{{.Id}}", Name(architecture)]);
        if (inspect.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Name(architecture)} is not on the Docker engine: scripts/ensure-deps.sh (which ./test.sh runs) makes it ({inspect.Output.Trim()})");
        }
    }

    private static string PidFile(string architecture) => Path.Combine(StateDirectory, architecture + ".pid");

    private static string ExitFile(string architecture) => Path.Combine(StateDirectory, architecture + ".exit");

    private static bool MakerAlive(string architecture) =>
        int.TryParse(File.ReadAllText(PidFile(architecture)).Trim(), System.Globalization.CultureInfo.InvariantCulture, out var pid) && Directory.Exists($"/proc/{pid}");

    private static string LogTail(string architecture)
    {
        var log = Path.Combine(StateDirectory, architecture + ".log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(30)) : $"({log} is missing)";
    }
}

/// <summary>
/// The class runs Docker builds in the local build images of these architectures (default x86_64): it carries the trait
/// <c>Category=DockerBuild</c> (<c>./test.sh --quick</c> leaves it out; the scheduler runs few such classes at once), and
/// it starts once the images are made (<see cref="LocalImages"/>).
/// </summary>
[TraitDiscoverer("Builder.Tests.Integration.Infrastructure.DockerBuildTraitDiscoverer", "Builder.Tests.Integration")]
[AttributeUsage(AttributeTargets.Class)]
public sealed class DockerBuildAttribute(params string[] architectures) : Attribute, ITraitAttribute, IClassPrerequisite
{
    public const string Trait = "Category";

    public const string Value = "DockerBuild";

    public IReadOnlyList<string> Architectures { get; } = architectures.Length == 0 ? ["x86_64"] : architectures;

    public bool IsReady => Architectures.All(LocalImages.IsSettled);

    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        foreach (var architecture in Architectures)
        {
            await LocalImages.WaitAsync(architecture, cancellationToken);
        }
    }
}

public sealed class DockerBuildTraitDiscoverer : ITraitDiscoverer
{
    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute) =>
        [new(DockerBuildAttribute.Trait, DockerBuildAttribute.Value)];
}
