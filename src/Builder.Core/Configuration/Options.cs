using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace Builder.Core.Configuration;

/// <summary>Where the embedded default keeps its database and files (<c>Builder:DataDir</c>).</summary>
public sealed class DataOptions
{
    public const string SectionName = "Builder";

    [Required(ErrorMessage = "Builder:DataDir must name a directory (set Builder__DataDir).")]
    public string DataDir { get; set; } = "data";

    public string FullDataDir => Path.GetFullPath(DataDir);
}

/// <summary>The admin bearer token for <c>/api</c> (<c>Builder:AdminToken</c>); the web process refuses to start without one.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Builder";

    [Required(ErrorMessage = "Builder:AdminToken is required (set Builder__AdminToken to a secret of 16 characters or more).")]
    [MinLength(16, ErrorMessage = "Builder:AdminToken must be at least 16 characters long.")]
    public string AdminToken { get; set; } = string.Empty;
}

/// <summary>
/// Who may read <c>GET /metrics</c> besides admins (<c>Builder:Metrics</c>): a separate secret for Prometheus, so its
/// scrape configuration holds no key that can do anything else.
/// </summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Builder:Metrics";

    /// <summary>
    /// The bearer secret (or HTTP Basic password) that may read <c>/metrics</c> and nothing else; empty: only admins, and on
    /// a worker anyone who reaches its <c>Builder:Worker:Urls</c>.
    /// </summary>
    [RegularExpression(@"^\S{16,}$", ErrorMessage = "Builder:Metrics:Token must be empty or a secret of 16 characters or more, without spaces.")]
    public string? Token { get; set; }

    /// <summary>Whether <paramref name="secret"/> is the configured token (constant time; false when none is set).</summary>
    public bool IsToken(string secret) => Access.SecretComparison.Matches(Token, secret);
}

/// <summary>How builds run (<c>Builder:Build</c>).</summary>
public sealed partial class BuildOptions : ISelfValidating
{
    public const string SectionName = "Builder:Build";

    /// <summary>Image per architecture (<c>Builder:Build:Images:x86_64</c>, <c>Builder:Build:Images:aarch64</c>).</summary>
    /// <remarks>Defaults are the images build-images/make-local-images.sh makes; configuration overrides them per key.</remarks>
    public Dictionary<string, string> Images { get; set; } = new(StringComparer.Ordinal)
    {
        ["x86_64"] = "builder-local/manylinux-x86_64:latest",
        ["aarch64"] = "builder-local/manylinux-aarch64:latest",
    };

    /// <summary>Architectures every release is built for, unless a project narrows them.</summary>
    public List<string> Architectures { get; set; } = [];

    /// <summary>
    /// CPythons every release is built for (<c>Builder:Build:Pythons</c>, e.g. <c>cp311</c>), unless a project's
    /// <c>[tool.cibuildwheel]</c> build/skip narrows them; empty means <see cref="DefaultPythons"/>.
    /// </summary>
    public List<string> Pythons { get; set; } = [];

    /// <summary>Whether each release also publishes its sdist (<c>Builder:Build:Sdist</c>).</summary>
    public bool Sdist { get; set; } = true;

    /// <summary>
    /// Parts each architecture's targets are split into (<c>Builder:Build:ParallelTargets</c>): each part is a job and a
    /// container of its own, so up to this many targets of one release build at once per architecture (as workers allow).
    /// </summary>
    [Range(1, 64, ErrorMessage = "Builder:Build:ParallelTargets must be between 1 and 64 (jobs an architecture's targets are split into).")]
    public int ParallelTargets { get; set; } = 1;

    /// <summary>Docker network mode of build containers; "none" keeps untrusted build code off the network.</summary>
    [Required]
    public string Network { get; set; } = "none";

    /// <summary>
    /// Builder's own index as the process that runs builds reaches it (<c>Builder:Build:IndexUrl</c>, e.g.
    /// <c>http://web:8080/</c>): build containers get its read routes (and nothing else) through a relay, so a private
    /// package can build-depend on another. Empty: the embedded server's own address; a worker without it builds offline.
    /// The relay presents the build's own credentials there (the repository's rights); the URL carries none.
    /// </summary>
    public string? IndexUrl { get; set; }

    /// <summary>
    /// Where the per-container relay directories (one Unix socket each, bind-mounted at /builder/relay) are made;
    /// empty means <c>builder-relay</c> in the temp directory. At most 83 bytes, for the socket paths below it. The
    /// Docker engine must see the same path, so a worker that itself runs in a container mounts it at the same path.
    /// </summary>
    public string? RelayDir { get; set; }

    /// <summary>Wall clock per container (build, and test stage separately); the container is killed when it runs out.</summary>
    [Range(10, 86_400, ErrorMessage = "Builder:Build:TimeoutSeconds must be between 10 and 86400.")]
    public int TimeoutSeconds { get; set; } = 3600;

    /// <summary>Memory per container in MiB; swap is the same size, so a build never swaps (Docker's Memory = MemorySwap).</summary>
    [Range(64, 1_048_576, ErrorMessage = "Builder:Build:MemoryMiB must be between 64 and 1048576 (MiB of memory per build container).")]
    public int MemoryMiB { get; set; } = 4096;

    /// <summary>CPUs per container (fractions allowed, Docker's NanoCPUs).</summary>
    [Range(0.1, 1024.0, ErrorMessage = "Builder:Build:Cpus must be between 0.1 and 1024 (CPUs per build container, e.g. 2 or 1.5).")]
    public double Cpus { get; set; } = 2;

    /// <summary>Processes and threads per container: a fork bomb in a setup.py stops here, not at the host's limit.</summary>
    [Range(32, 4_194_304, ErrorMessage = "Builder:Build:PidsLimit must be between 32 and 4194304 (processes per build container).")]
    public int PidsLimit { get; set; } = 4096;

    /// <summary>
    /// This process's name on the Docker engine (label <c>io.builder.owner</c>). At start the process removes the build
    /// containers it owns that a crashed predecessor left behind, so two processes sharing an engine need different names.
    /// </summary>
    public string WorkerName { get; set; } = Environment.MachineName;

    /// <summary>Docker engine endpoint; empty means the local socket (or DOCKER_HOST).</summary>
    public string? DockerEndpoint { get; set; }

    /// <summary>Where clones and build outputs live while a build runs; empty means the system temp directory.</summary>
    public string? WorkDir { get; set; }

    /// <summary>A fresh directory path under <see cref="WorkDir"/> for one job run (not created).</summary>
    public string NewWorkDirectory(string name) =>
        Path.Combine(WorkDir is { Length: > 0 } dir ? dir : Path.GetTempPath(), $"builder-{name}-{Guid.NewGuid():N}");

    // Not under WorkDir: a Unix socket path has at most 107 bytes, and work directories are often deep.
    public string EffectiveRelayDir => Path.GetFullPath(!string.IsNullOrWhiteSpace(RelayDir) ? RelayDir : Path.Combine(Path.GetTempPath(), "builder-relay"));

    /// <summary>What the relay adds below <see cref="EffectiveRelayDir"/>: "/" + 12 hex digits + "/index.sock".</summary>
    public const int RelaySocketSuffixLength = 24;

    /// <summary>The longest path a Unix domain socket can have on Linux (sun_path is 108 bytes with its NUL).</summary>
    public const int MaxUnixSocketPath = 107;

    public static readonly IReadOnlyList<string> KnownArchitectures = ["x86_64", "aarch64"];

    public IReadOnlyList<string> EffectiveArchitectures => Architectures.Count > 0 ? Architectures : ["x86_64"];

    // CPython 3.8-3.13: what the local image and manylinux_2_28 carry. Configuration binding appends to a list
    // property's initial items, so the default lives here rather than in the Pythons initializer.
    public static readonly IReadOnlyList<string> DefaultPythons = ["cp38", "cp39", "cp310", "cp311", "cp312", "cp313"];

    public IReadOnlyList<string> EffectivePythons => Pythons.Count > 0 ? Pythons : DefaultPythons;

    /// <summary>Problems with the settings, each naming the key to fix; empty when valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(WorkerName) || WorkerName.Any(char.IsControl))
        {
            yield return "Builder:Build:WorkerName must name this process on the Docker engine (set Builder__Build__WorkerName; default: the machine name).";
        }

        foreach (var arch in EffectiveArchitectures)
        {
            if (!KnownArchitectures.Contains(arch))
            {
                yield return $"Builder:Build:Architectures names '{arch}'; known architectures are {string.Join(", ", KnownArchitectures)}.";
            }
            else if (!Images.TryGetValue(arch, out var image) || string.IsNullOrWhiteSpace(image))
            {
                yield return $"Builder:Build:Images:{arch} must name the build image for {arch} (set Builder__Build__Images__{arch}).";
            }
        }

        if (!string.IsNullOrWhiteSpace(IndexUrl)
            && (!Uri.TryCreate(IndexUrl, UriKind.Absolute, out var index) || index.Scheme is not ("http" or "https") || index.Query.Length > 0 || index.Fragment.Length > 0))
        {
            yield return $"Builder:Build:IndexUrl must be an absolute http(s) URL of Builder's index without query (e.g. http://web:8080/); got '{IndexUrl}'.";
        }
        else if (!string.IsNullOrWhiteSpace(IndexUrl) && new Uri(IndexUrl).UserInfo.Length > 0)
        {
            // Builds authenticate with their own short-lived credentials and read with their repository's rights, never with a configured secret.
            yield return "Builder:Build:IndexUrl must not carry credentials (user:password@): builds present their own, with the rights of the repository being built.";
        }

        if (System.Text.Encoding.UTF8.GetByteCount(EffectiveRelayDir) + RelaySocketSuffixLength > MaxUnixSocketPath)
        {
            yield return $"Builder:Build:RelayDir '{EffectiveRelayDir}' is too long for the relay's Unix socket paths: use a directory of at most {MaxUnixSocketPath - RelaySocketSuffixLength} bytes.";
        }

        foreach (var python in EffectivePythons.Where(p => !PythonTag().IsMatch(p)))
        {
            yield return $"Builder:Build:Pythons names '{python}'; entries look like cp38 or cp313 (CPython 3 tags as in cibuildwheel identifiers).";
        }
    }

    /// <summary>Memory as people say it: whole GiB as "N GiB" (4096 → "4 GiB"), anything else as "N MiB".</summary>
    public static string FormatMemory(long mebibytes) =>
        mebibytes % 1024 == 0 && mebibytes > 0
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{mebibytes / 1024} GiB")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{mebibytes} MiB");

    [GeneratedRegex("^cp3[0-9]{1,2}$", RegexOptions.CultureInvariant)]
    private static partial Regex PythonTag();
}

/// <summary>
/// How job runs hold the parts they build (<c>Builder:Jobs</c>). A run holds its part with a lease it refreshes every
/// <see cref="HeartbeatSeconds"/>; a part whose lease is older than <see cref="LeaseTimeoutSeconds"/> (its worker was
/// killed, lost the database, or hangs) is taken over by another run. Hangfire's own invisibility timeout (production)
/// is the lease timeout, sliding: a job a live worker is running is never handed to a second worker.
/// </summary>
public sealed class JobOptions : ISelfValidating
{
    public const string SectionName = "Builder:Jobs";

    /// <summary>Default 180: a part whose worker vanished runs elsewhere about three minutes later.</summary>
    public int LeaseTimeoutSeconds { get; set; } = 180;

    /// <summary>Default 15. At most a third of <see cref="LeaseTimeoutSeconds"/>, so two missed beats do not lose a lease.</summary>
    public int HeartbeatSeconds { get; set; } = 15;

    public TimeSpan LeaseTimeout => TimeSpan.FromSeconds(LeaseTimeoutSeconds);

    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);

    /// <summary>Each bad setting, named with its key; empty when the settings are usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (HeartbeatSeconds < 1)
        {
            yield return $"Builder:Jobs:HeartbeatSeconds must be at least 1 (it is {HeartbeatSeconds})";
        }

        if (LeaseTimeoutSeconds < 3 * Math.Max(1, HeartbeatSeconds))
        {
            yield return $"Builder:Jobs:LeaseTimeoutSeconds ({LeaseTimeoutSeconds}) must be at least three heartbeats (Builder:Jobs:HeartbeatSeconds is {HeartbeatSeconds}): a lease would expire while its run is alive";
        }
    }
}

/// <summary>How builds are reported back to the forges (<c>Builder:Forges</c>) and where people see them (<c>Builder:PublicUrl</c>).</summary>
public sealed class ForgeOptions : ISelfValidating
{
    public const string SectionName = "Builder:Forges";

    /// <summary>The commit status's name on the forge (GitHub <c>context</c>, GitLab <c>name</c>).</summary>
    public string StatusContext { get; set; } = "builder/wheels";

    /// <summary>Attempts of one report before it is given up (with backoff: 5 s, 10 s, 20 s … at most 10 minutes apart).</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Per call to a forge's API; release asset uploads get this plus a second per megabyte.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>How often the reporter looks for reports that are due.</summary>
    public int PollMilliseconds { get; set; } = 500;

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(StatusContext) || StatusContext.Length > 100)
        {
            yield return "Builder:Forges:StatusContext must be a name of 1 to 100 characters (like builder/wheels)";
        }

        if (MaxAttempts is < 1 or > 100)
        {
            yield return $"Builder:Forges:MaxAttempts must be between 1 and 100 (it is {MaxAttempts})";
        }

        if (TimeoutSeconds is < 1 or > 3600)
        {
            yield return $"Builder:Forges:TimeoutSeconds must be between 1 and 3600 (it is {TimeoutSeconds})";
        }

        if (PollMilliseconds is < 50 or > 60_000)
        {
            yield return $"Builder:Forges:PollMilliseconds must be between 50 and 60000 (it is {PollMilliseconds})";
        }
    }
}

/// <summary>The address people and forges reach Builder at (<c>Builder:PublicUrl</c>, e.g. https://builder.example/): commit statuses link to builds there.</summary>
public sealed class PublicUrlOptions : ISelfValidating
{
    public const string SectionName = "Builder";

    /// <summary>Empty: statuses carry no link, and GitLab release links are not made.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>The base URL with a trailing slash; null when not set.</summary>
    public Uri? BaseUri => string.IsNullOrWhiteSpace(PublicUrl) ? null : new Uri(PublicUrl.TrimEnd('/') + "/", UriKind.Absolute);

    public IEnumerable<string> Problems()
    {
        if (!string.IsNullOrWhiteSpace(PublicUrl)
            && !(Uri.TryCreate(PublicUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.UserInfo)))
        {
            yield return $"Builder:PublicUrl must be an absolute http(s) URL without credentials, like https://builder.example/ (it is '{PublicUrl}')";
        }
    }
}

/// <summary>Settings that can say what is wrong with them: each problem a sentence naming its key.</summary>
public interface ISelfValidating
{
    IEnumerable<string> Problems();
}

/// <summary>How a web process in production checks that it hears every change (<c>Builder:Changes</c>).</summary>
public sealed class ChangeOptions
{
    public const string SectionName = "Builder:Changes";

    /// <summary>
    /// How often the change serial is read. Default 1000: a process whose notification connection died silently
    /// notices within two of these (one of grace for a notification in flight) and forgets its caches.
    /// </summary>
    [Range(50, 60_000, ErrorMessage = "Builder:Changes:PollMilliseconds must be between 50 and 60000.")]
    public int PollMilliseconds { get; set; } = 1000;

    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(PollMilliseconds);
}
