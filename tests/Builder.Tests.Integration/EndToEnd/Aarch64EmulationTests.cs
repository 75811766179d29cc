using System.Buffers.Binary;
using System.IO.Compression;
using Builder.Core.Builds;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>
/// One release built for x86_64 and aarch64, the aarch64 half in the local arm64 image under qemu-user-static
/// (scripts/ensure-deps.sh --aarch64 registers the binfmt handler and makes the image). Slow: every aarch64
/// instruction is emulated, so the matrix is narrowed to two Pythons.
/// </summary>
[DockerBuild("x86_64", "aarch64")]
public sealed class Aarch64EmulationTests : IAsyncLifetime
{
    private const string Aarch64Image = "builder-local/manylinux-aarch64:latest";
    private const string GitUser = "git";
    private const string GitPassword = "aarch64-host-password";

    // ELF header (System V ABI, "ELF Header"): e_ident[EI_CLASS] at 4 (2 = 64-bit), e_ident[EI_DATA] at 5
    // (1 = little-endian), e_machine at 18 (2 bytes in that byte order); EM_AARCH64 is 183.
    private const int ElfClass64 = 2;
    private const int ElfDataLittleEndian = 1;
    private const ushort MachineX8664 = 62;
    private const ushort MachineAarch64 = 183;

    private readonly string _root = TestPaths.NewTempDirectory("aarch64");
    private readonly string _container = $"builder-test-aarch64-{Guid.NewGuid():N}";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Only left behind when the docker CLI was killed on its timeout; otherwise "No such container" (exit code 1).
        await Shell.RunAsync("docker", ["rm", "-f", _container]);
        TestPaths.DeleteDirectory(_root);
    }

    [Fact]
    public async Task A_c_extension_is_built_for_aarch64_under_emulation_and_imports_there()
    {
        // A private git host on loopback that counts what it is asked: the two parts must not clone it again.
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "repos", "fastadd"), PythonProjects.CExtension("fastadd", "4.0.0"), "v4.0.0");
        await using var host = await GitHttpServer.StartAsync(Path.Combine(_root, "repos"), GitUser, GitPassword);
        var settings = new Dictionary<string, string>(BuilderInstance.Embedded(Path.Combine(_root, "data")))
        {
            ["Builder__Build__Architectures__0"] = "x86_64",
            ["Builder__Build__Architectures__1"] = "aarch64",
            ["Builder__Build__Images__aarch64"] = Aarch64Image,
            // The aarch64 image has only Debian's CPython 3.11: cp310 must become a skipped step there, not a failure.
            ["Builder__Build__Pythons__0"] = "cp310",
            ["Builder__Build__Pythons__1"] = "cp311",
            // Its own container owner: the long emulated build must not be swept by another Builder process on this engine.
            ["Builder__Build__WorkerName"] = $"test-aarch64-{Guid.NewGuid():N}",
        };
        await using var web = await BuilderProcess.StartWebAsync(settings);
        var client = BuilderInstance.Client(web);
        var repository = await client.RegisterAsync("acme/fastadd", host.Url + "/fastadd/origin.git", credentials: new CloneCredentials(GitUser, GitPassword));
        var build = await client.WaitForBuildAsync(await client.PushTagAsync(repository, git), TimeSpan.FromMinutes(20));

        var files = await ReleaseAssertions.AssertPublishedAsync(client, build, "fastadd", "4.0.0");
        var wheels = files.Where(f => f.EndsWith(".whl", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            [
                "fastadd-4.0.0-cp310-cp310-linux_x86_64.whl",
                "fastadd-4.0.0-cp311-cp311-linux_aarch64.whl",
                "fastadd-4.0.0-cp311-cp311-linux_x86_64.whl",
            ],
            wheels);
        // Wheel targets only, in a stable order: where the sdist is built (and reported) is the pipeline's business.
        var targets = ReleaseAssertions.Targets(build).Select(t => $"{t.GetProperty("name").GetString()}/{t.GetProperty("architecture").GetString()}").ToList();
        Assert.Equal(
            ["cp310-manylinux_x86_64/x86_64", "cp311-manylinux_aarch64/aarch64", "cp311-manylinux_x86_64/x86_64"],
            targets.Where(t => !t.StartsWith("sdist/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        var log = await client.GetLogAsync(build.Id);
        Assert.Contains("[plan] aarch64: cp310-manylinux_aarch64, cp311-manylinux_aarch64\n", log, StringComparison.Ordinal);
        Assert.Contains("skipping cp310-cp310: not in this image", log, StringComparison.Ordinal);

        // Two parts, one fetch from the forge: the plan's clone (one git-upload-pack); both parts checked the commit out
        // from the build's source bundle, which went with the rest of the staging area once the release was published.
        lock (host.Requests)
        {
            Assert.Equal(1, host.Requests.Count(r => r.StartsWith("POST /fastadd/origin.git/git-upload-pack ", StringComparison.Ordinal) && r.EndsWith("auth=ok", StringComparison.Ordinal)));
        }

        var fromBundle = $"[git] checked out v4.0.0 at {git.CommitSha} from the build's source bundle";
        Assert.True(log.Split('\n').Count(l => l.StartsWith(fromBundle, StringComparison.Ordinal)) == 2, $"expected both parts to say: {fromBundle}\n{log}");
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(_root, "data", "files"), "*", SearchOption.AllDirectories),
            f => f.Contains($"{Path.DirectorySeparatorChar}_staging-", StringComparison.Ordinal));

        // The published file, as pip would download it.
        var downloads = Path.Combine(_root, "wheels");
        Directory.CreateDirectory(downloads);
        foreach (var wheel in wheels.Where(w => w.Contains("-cp311-", StringComparison.Ordinal)))
        {
            await File.WriteAllBytesAsync(Path.Combine(downloads, wheel), await client.Http.GetByteArrayAsync($"/files/fastadd/{wheel}"));
        }

        Assert.Equal(MachineAarch64, ElfMachineOfSharedObject(Path.Combine(downloads, "fastadd-4.0.0-cp311-cp311-linux_aarch64.whl"), "fastadd/_fastadd"));
        Assert.Equal(MachineX8664, ElfMachineOfSharedObject(Path.Combine(downloads, "fastadd-4.0.0-cp311-cp311-linux_x86_64.whl"), "fastadd/_fastadd"));

        // Installed and run in the aarch64 image itself, off the network: the C code executes under qemu. pip has both
        // cp311 wheels to choose from, so installing proves it takes the aarch64 one by its tag.
        var script = "set -e; uname -m; python -m venv /tmp/venv; "
            + "/tmp/venv/bin/pip install -q --no-index --find-links /wheels fastadd==4.0.0; "
            + "cd /tmp && /tmp/venv/bin/python -c 'import fastadd; print(fastadd.add(2, 3))'";
        var run = (await Shell.RunAsync("docker",
            ["run", "--rm", "--name", _container, "--network", "none",
             "-v", $"{downloads}:/wheels:ro", Aarch64Image, "sh", "-c", script],
            timeout: TimeSpan.FromMinutes(5))).EnsureSuccess("install and import fastadd in the aarch64 image");
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length >= 2 && lines[0] == "aarch64" && lines[^1] == "5", run.Output);
    }

    /// <summary>e_machine of the one shared object in the wheel whose path starts with <paramref name="stem"/> (e.g. fastadd/_fastadd).</summary>
    private static ushort ElfMachineOfSharedObject(string wheel, string stem)
    {
        using var zip = ZipFile.OpenRead(wheel);
        var entry = Assert.Single(zip.Entries, e => e.FullName.StartsWith(stem + ".", StringComparison.Ordinal) && e.FullName.EndsWith(".so", StringComparison.Ordinal));
        using var stream = entry.Open();
        var header = new byte[20];
        stream.ReadExactly(header);
        Assert.Equal([0x7F, (byte)'E', (byte)'L', (byte)'F'], header[..4]);
        Assert.Equal(ElfClass64, header[4]);
        Assert.Equal(ElfDataLittleEndian, header[5]);
        return BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(18, 2));
    }
}
