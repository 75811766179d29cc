using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Host;

/// <summary>
/// <c>scripts/choose-build-images.sh</c>, run.sh's choice of build image, against registries on loopback only
/// (<c>BUILDER_MANYLINUX_REGISTRY</c>): a closed port and a registry that never answers give the offline local image
/// (which exists here: test.sh made it first, so the fallback returns at once), with one line saying why, and a failed
/// pull is remembered; an exported <c>Builder__Build__Images__&lt;arch&gt;</c> is used untouched; a real registry
/// (Debian's <c>docker-registry</c>) holding a stand-in for <c>pypa/manylinux_2_28_x86_64</c> gives the image built
/// from <c>build-images/manylinux_2_28_x86_64/Dockerfile</c> on it. The state directory is the test's own.
/// </summary>
[DockerBuild]
public sealed class BuildImageChoiceTests : IAsyncLifetime
{
    private const string LocalImage = "builder-local/manylinux-x86_64:latest";

    private static readonly string Script = Path.Combine(TestPaths.RepositoryRoot, "scripts", "choose-build-images.sh");

    private readonly string _state = TestPaths.NewTempDirectory("image-choice");

    public async Task InitializeAsync()
    {
        // The fallback must find the local image, never make it (a debootstrap of minutes): scripts/ensure-deps.sh made it.
        (await Shell.RunAsync("docker", ["image", "inspect", LocalImage], _state, timeout: TimeSpan.FromMinutes(1)))
            .EnsureSuccess($"docker image inspect {LocalImage} (scripts/ensure-deps.sh makes it)");
    }

    public Task DisposeAsync()
    {
        TestPaths.DeleteDirectory(_state);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Without_a_registry_that_answers_it_chooses_the_local_image_and_says_why_in_one_line()
    {
        var port = ClosedPort();
        var watch = Stopwatch.StartNew();

        var result = await ChooseAsync($"127.0.0.1:{port}");

        Assert.Equal(0, result.ExitCode);
        var line = Assert.Single(Lines(result.StandardError));
        Assert.StartsWith(
            $"build image for x86_64: {LocalImage} (offline local image: could not pull 127.0.0.1:{port}/pypa/manylinux_2_28_x86_64: ",
            line,
            StringComparison.Ordinal);
        Assert.Contains("connection refused", line, StringComparison.Ordinal);
        Assert.EndsWith(")", line, StringComparison.Ordinal);
        Assert.Equal([$"Builder__Build__Images__x86_64={LocalImage}"], Settings());
        Assert.Empty(Lines(result.StandardOutput));
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_registry_that_never_answers_is_given_up_after_the_answer_bound_and_remembered_until_the_retry_time()
    {
        await using var silent = new SilentServer();
        var reference = $"{silent.Address}/pypa/manylinux_2_28_x86_64";

        // The engine connects and waits for an answer that never comes: the script gives the pull 2 s.
        var watch = Stopwatch.StartNew();
        var first = await ChooseAsync(silent.Address, new() { ["BUILDER_PULL_ANSWER_SECONDS"] = "2" });
        Assert.Equal(0, first.ExitCode);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20));
        Assert.Equal(
            $"build image for x86_64: {LocalImage} (offline local image: could not pull {reference}: no answer in 2 s)",
            Assert.Single(Lines(first.StandardError)));
        Assert.Equal([$"Builder__Build__Images__x86_64={LocalImage}"], Settings());
        var connections = silent.Connections;
        Assert.True(connections > 0, "the engine never connected to the registry");

        // The next start within the retry time does not ask the registry again, and says so.
        var second = await ChooseAsync(silent.Address);
        Assert.Equal(0, second.ExitCode);
        var remembered = Assert.Single(Lines(second.StandardError));
        Assert.StartsWith($"build image for x86_64: {LocalImage} (offline local image: could not pull {reference} at ", remembered, StringComparison.Ordinal);
        Assert.EndsWith(": no answer in 2 s; remembered for 3600 s, BUILDER_IMAGE_RETRY_SECONDS=0 tries now)", remembered, StringComparison.Ordinal);
        Assert.Equal(connections, silent.Connections);
        Assert.Equal([$"Builder__Build__Images__x86_64={LocalImage}"], Settings());

        // BUILDER_IMAGE_RETRY_SECONDS=0 asks again at once.
        var third = await ChooseAsync(silent.Address, new() { ["BUILDER_IMAGE_RETRY_SECONDS"] = "0", ["BUILDER_PULL_ANSWER_SECONDS"] = "1" });
        Assert.Equal(
            $"build image for x86_64: {LocalImage} (offline local image: could not pull {reference}: no answer in 1 s)",
            Assert.Single(Lines(third.StandardError)));
        Assert.True(silent.Connections > connections, "BUILDER_IMAGE_RETRY_SECONDS=0 did not ask the registry again");

        // Another registry is another question: what is remembered is that reference's failure.
        var closed = ClosedPort();
        var other = await ChooseAsync($"127.0.0.1:{closed}");
        Assert.Contains($"could not pull 127.0.0.1:{closed}/pypa/manylinux_2_28_x86_64: ", Assert.Single(Lines(other.StandardError)), StringComparison.Ordinal);
        Assert.Contains("connection refused", other.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_exported_image_setting_is_used_as_it_is_and_no_registry_is_asked()
    {
        await using var registry = new SilentServer();

        var result = await ChooseAsync(
            registry.Address,
            new() { ["Builder__Build__Images__x86_64"] = "example/own-image:1", ["Builder__Build__Images__aarch64"] = "example/own-arm-image:2" },
            "x86_64",
            "aarch64");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            [
                "build image for x86_64: example/own-image:1 (Builder__Build__Images__x86_64 is set: used as it is)",
                "build image for aarch64: example/own-arm-image:2 (Builder__Build__Images__aarch64 is set: used as it is)",
            ],
            Lines(result.StandardError));

        // run.sh exports what the file says: an exported setting is not repeated there (nor overridden).
        Assert.Empty(Settings());
        Assert.Equal(0, registry.Connections);
        Assert.Equal(["build-images.env"], Directory.EnumerateFileSystemEntries(_state).Select(Path.GetFileName));
    }

    [Fact]
    public async Task When_the_registry_has_the_manylinux_image_it_is_pulled_and_the_Dockerfile_is_built_on_it()
    {
        await using var registry = await ImageRegistry.StartAsync();
        var reference = $"{registry.Address}/pypa/manylinux_2_28_x86_64";

        // The built image's repository is the test's own, so a builder/manylinux_2_28_x86_64 run.sh made here is left alone.
        var repository = $"builder-test-{Guid.NewGuid():N}";
        var built = $"{repository}/manylinux_2_28_x86_64:latest";
        var container = $"builder-test-image-choice-{Guid.NewGuid():N}";
        var marker = Guid.NewGuid().ToString("N");
        try
        {
            // A stand-in for the manylinux image (one file), pushed and then removed here: only a pull can bring it back.
            var root = Directory.CreateDirectory(Path.Combine(_state, "base-root")).FullName;
            await File.WriteAllTextAsync(Path.Combine(root, "stand-in"), marker);
            var tar = Path.Combine(_state, "base.tar");
            (await Shell.RunAsync("tar", ["-C", root, "-cf", tar, "."], _state)).EnsureSuccess("tar");
            (await Docker("import", tar, $"{reference}:latest")).EnsureSuccess("docker import");
            (await Docker("push", $"{reference}:latest")).EnsureSuccess($"docker push (registry log:\n{registry.Log})");
            (await Docker("rmi", $"{reference}:latest")).EnsureSuccess("docker rmi");

            // A failure remembered long ago does not stop the pull, and a pull that works forgets it.
            var memory = Path.Combine(_state, "build-images.x86_64.unreachable");
            await File.WriteAllLinesAsync(memory, [reference, "an old failure"]);
            File.SetLastWriteTimeUtc(memory, DateTime.UtcNow.AddHours(-2));

            var result = await ChooseAsync(registry.Address, new() { ["BUILDER_IMAGE_REPOSITORY"] = repository });

            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Equal(
                $"build image for x86_64: {built} (pulled {reference}: standard manylinux with auditwheel; "
                + "build requirements through the relay from the upstream proxy: Builder__Upstream__Url=http://127.0.0.1:9/simple/)",
                Assert.Single(Lines(result.StandardError)));
            Assert.Equal([$"Builder__Build__Images__x86_64={built}", "Builder__Upstream__Url=http://127.0.0.1:9/simple/"], Settings());
            Assert.False(File.Exists(memory), "the remembered failure was kept after a pull that worked");

            // The chosen image is the Dockerfile's (its pip settings) on the pulled base (the stand-in's file).
            var env = (await Docker("image", "inspect", "--format", "{{json .Config.Env}}", built)).EnsureSuccess("docker image inspect").StandardOutput;
            Assert.Contains("\"PIP_DISABLE_PIP_VERSION_CHECK=1\"", env, StringComparison.Ordinal);
            Assert.Contains("\"PYTHONUNBUFFERED=1\"", env, StringComparison.Ordinal);
            (await Docker("create", "--name", container, built, "/none")).EnsureSuccess("docker create");
            var copied = Path.Combine(_state, "copied");
            (await Docker("cp", $"{container}:/stand-in", copied)).EnsureSuccess("docker cp");
            Assert.Equal(marker, await File.ReadAllTextAsync(copied));

            // An exported network setting is kept (no proxy is chosen): the file then names the image only. (The image is up to date: the
            // registry still answers, so it is chosen again.)
            var kept = await ChooseAsync(registry.Address, new() { ["BUILDER_IMAGE_REPOSITORY"] = repository, ["Builder__Build__Network"] = "none" });
            Assert.True(kept.ExitCode == 0, kept.Output);
            Assert.Equal(
                $"build image for x86_64: {built} (pulled {reference}: standard manylinux with auditwheel)",
                Assert.Single(Lines(kept.StandardError)));
            Assert.Equal([$"Builder__Build__Images__x86_64={built}"], Settings());
        }
        finally
        {
            await Docker("rm", "-f", container);
            await Docker("rmi", built);
            await Docker("rmi", $"{reference}:latest");
        }
    }

    /// <summary>Runs the script with the test's state dir and registry, and none of this machine's image settings.</summary>
    private Task<ShellResult> ChooseAsync(string registry, Dictionary<string, string>? environment = null, params string[] arguments)
    {
        // Empty is unset for the script: this machine's own exports must not decide what the test sees.
        var all = new Dictionary<string, string>
        {
            ["BUILDER_STATE"] = _state,
            ["BUILDER_MANYLINUX_REGISTRY"] = registry,
            ["BUILDER_IMAGE_REPOSITORY"] = string.Empty,
            ["BUILDER_PULL_ANSWER_SECONDS"] = string.Empty,
            ["BUILDER_PULL_SECONDS"] = string.Empty,
            ["BUILDER_IMAGE_RETRY_SECONDS"] = string.Empty,
            ["Builder__Build__Images__x86_64"] = string.Empty,
            ["Builder__Build__Images__aarch64"] = string.Empty,
            ["Builder__Build__Network"] = string.Empty,
            ["Builder__Upstream__Url"] = string.Empty,
            // Only written to the env file (the script never contacts it): a loopback address all the same.
            ["BUILDER_UPSTREAM_URL"] = "http://127.0.0.1:9/simple/",
        };
        foreach (var (key, value) in environment ?? [])
        {
            all[key] = value;
        }

        return Shell.RunAsync(Script, arguments, _state, all, TimeSpan.FromMinutes(2));
    }

    private static Task<ShellResult> Docker(params string[] arguments) =>
        Shell.RunAsync("docker", arguments, timeout: TimeSpan.FromMinutes(2));

    /// <summary>The env file's settings (its comment lines left out).</summary>
    private List<string> Settings() =>
        File.ReadAllLines(Path.Combine(_state, "build-images.env")).Where(l => !l.StartsWith('#')).ToList();

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>A loopback port nothing listens on (taken, then given back).</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Accepts TCP connections on loopback, counts them and never says a word: a registry that hangs.</summary>
    private sealed class SilentServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<TcpClient> _clients = [];
        private readonly Task _accepting;

        public SilentServer()
        {
            _listener.Start();
            Address = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
            _accepting = AcceptAsync();
        }

        public string Address { get; }

        public int Connections
        {
            get
            {
                lock (_clients)
                {
                    return _clients.Count;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _accepting;
            lock (_clients)
            {
                _clients.ForEach(c => c.Dispose());
            }
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync();
                    lock (_clients)
                    {
                        _clients.Add(client);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }
    }
}
