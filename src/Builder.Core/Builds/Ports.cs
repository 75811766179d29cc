namespace Builder.Core.Builds;

/// <summary>Build output, line by line. Lines carry their own "[target step]" prefix.</summary>
public interface IBuildLog
{
    void WriteLine(string line);
}

/// <param name="Credentials">Given to git as credentials when the host asks for them; never part of the URL, so never logged.</param>
public sealed record SourceRequest(string CloneUrl, string Tag, string DeliveredSha, CloneCredentials? Credentials = null);

public sealed record SourceCheckout(string CommitSha);

/// <summary>
/// Fetches a repository's tree at a tag into a directory: from its forge once per build (the plan), and from a git bundle
/// of that fetch for every part, so a build of N parts asks the forge once.
/// </summary>
public interface ISourceFetcher
{
    Task<SourceCheckout> FetchAsync(SourceRequest request, string directory, IBuildLog log, CancellationToken cancellationToken);

    /// <summary>
    /// Writes a git bundle (<c>git bundle create</c>) of the tag and the history it reaches, from a checkout
    /// <see cref="FetchAsync"/> made.
    /// </summary>
    /// <exception cref="SourceBundleException">the bundle could not be made (no git command on this host, ...).</exception>
    Task BundleAsync(string checkout, string tag, string bundlePath, CancellationToken cancellationToken);

    /// <summary>Checks out the tag from a bundle <see cref="BundleAsync"/> wrote, after checking that it points at <paramref name="commitSha"/>.</summary>
    /// <exception cref="SourceBundleException">the bundle could not be read, or its tag points elsewhere.</exception>
    Task<SourceCheckout> FetchBundleAsync(string bundlePath, string tag, string commitSha, string directory, IBuildLog log, CancellationToken cancellationToken);
}

/// <summary>A source bundle could not be made or read: the caller fetches from the forge instead, and says so in the log.</summary>
public sealed class SourceBundleException(string message, Exception? inner = null) : Exception(message, inner);

public sealed record WheelBuildRequest(long BuildId, string Architecture, string SourceDirectory, string OutputDirectory, bool IncludeSdist)
{
    /// <summary>The part being built (0: none); its containers carry it as a label.</summary>
    public long PartId { get; init; }

    /// <summary>The image to build in, as the plan chose it; null: this worker's <c>Builder:Build:Images</c> for the architecture.</summary>
    public string? Image { get; init; }

    /// <summary>
    /// The workers (<c>Builder:Build:WorkerName</c>) of earlier runs of this part, which lost their lease: before it
    /// starts, this run removes the containers of this build and part that those workers left on its Docker engine.
    /// </summary>
    public IReadOnlyList<string> EarlierRunWorkers { get; init; } = [];

    /// <summary>cibuildwheel identifiers to build on this architecture (<c>cp311-manylinux_x86_64</c>); empty: every CPython of the image.</summary>
    public IReadOnlyList<string> Identifiers { get; init; } = [];

    /// <summary>The project's own build and test settings (from <c>[tool.cibuildwheel]</c>).</summary>
    public ProjectBuildSettings Project { get; init; } = ProjectBuildSettings.None;
}

/// <summary>
/// What a project asks of each build through cibuildwheel's settings. <see cref="Environment"/> is cibuildwheel's
/// assignment string (<c>A=1 B="$A two"</c>), evaluated in the build container in order.
/// </summary>
public sealed record ProjectBuildSettings(string? BeforeBuild, string? Environment, string? TestCommand, IReadOnlyList<string> TestRequires)
{
    public static readonly ProjectBuildSettings None = new(null, null, null, []);

    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web);

    /// <summary>As the build records them (<see cref="Build.PlannedSettings"/>).</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, Json);

    public static ProjectBuildSettings FromJson(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<ProjectBuildSettings>(json, Json) ?? throw new FormatException("recorded build settings are null");

    /// <summary>Identifiers of this build whose wheels are not tested (cibuildwheel's <c>test-skip</c>, resolved).</summary>
    public IReadOnlyList<string> TestSkip { get; init; } = [];
}

public sealed record TargetResult(string Name, bool Succeeded, TimeSpan Duration, IReadOnlyList<string> Files, string? Error);

/// <summary>The outcome of building one architecture. <see cref="Files"/> are paths under the request's output directory.</summary>
public sealed record WheelBuildResult(bool Succeeded, string? Error, IReadOnlyList<TargetResult> Targets, IReadOnlyList<string> Files)
{
    /// <summary>The build image's content digest (<c>sha256:...</c>) as the engine named it when the build began; null when not known.</summary>
    public string? ImageDigest { get; init; }
}

/// <summary>
/// Where the process that runs builds reaches Builder's own index (the base URL under which <c>/simple/</c> lives);
/// null when it does not know (a worker without <c>Builder:Build:IndexUrl</c>): builds then use the image's packages only.
/// </summary>
public interface IIndexAddress
{
    Uri? IndexUrl { get; }
}

/// <summary>Builds an sdist and wheels from a source tree, for one architecture, never on the host.</summary>
public interface IWheelBuilder
{
    Task<WheelBuildResult> BuildAsync(WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken);
}

/// <summary>Hands recorded builds to the job engine. At-least-once: every job must be safe to run twice.</summary>
public interface IBuildDispatcher
{
    /// <summary>Plans the build (clone, matrix) on <see cref="BuildQueues.Plan"/>.</summary>
    void Enqueue(long buildId);

    /// <summary>Runs one part on its architecture's queue; returns the job's id.</summary>
    string EnqueuePart(long partId, string architecture);

    /// <summary>Publishes a release whose every part succeeded (on <see cref="BuildQueues.Plan"/>); safe to enqueue twice.</summary>
    void EnqueuePublish(long buildId);

    /// <summary>Stops a part's job: a worker running it sees its cancellation token fire.</summary>
    void Cancel(string jobId);
}

/// <summary>A build step failed for a reason the build's owner can act on; the message goes to the build log as is.</summary>
public sealed class BuildStepException : Exception
{
    public BuildStepException(string message)
        : base(message)
    {
    }

    public BuildStepException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BuildStepException()
    {
    }
}

/// <summary>
/// Credentials a build's index relay presents to Builder's index: they carry the build's identity, so the index grants
/// the rights of the repository being built, never a person's. Short-lived, and useless once the build is finished.
/// </summary>
public interface IBuildCredentialIssuer
{
    /// <summary>The user name the relay sends with <see cref="Issue"/>'s secret as HTTP Basic credentials.</summary>
    const string UserName = "__build__";

    string Issue(long buildId, TimeSpan lifetime);
}

/// <summary>The one place a repository's secrets are read: they are stored encrypted, and decrypted only here.</summary>
public interface IRepositorySecrets
{
    /// <summary>The webhook secret; null when the repository has none readable (which fails every signature).</summary>
    string? WebhookSecret(SourceRepository repository);

    /// <summary>How Builder authenticates to the repository's forge; null: anonymously.</summary>
    Forges.RepositoryCredentials? Credentials(SourceRepository repository);

    /// <summary>The repository as the forge clients need it (API base, credentials, installation).</summary>
    Forges.ForgeRepository Forge(SourceRepository repository);
}
