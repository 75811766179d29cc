namespace Builder.Core.Builds;

/// <summary>A git repository Builder builds releases of; webhooks find it by <see cref="Name"/> (the host's "owner/name").</summary>
public sealed class SourceRepository
{
    public long Id { get; set; }

    public required string Provider { get; set; }

    public required string Name { get; set; }

    /// <summary>Where to clone from, without credentials (those are <see cref="ProtectedCredentials"/>).</summary>
    public required string CloneUrl { get; set; }

    /// <summary>
    /// The webhook secret in plain text, as Builder stored it before secrets were encrypted at rest (column
    /// "WebhookSecret"); emptied at start once <see cref="ProtectedWebhookSecret"/> holds it. Always empty for new rows.
    /// </summary>
    public string PlaintextWebhookSecret { get; set; } = string.Empty;

    /// <summary>The webhook secret, encrypted with ASP.NET Core Data Protection (see <c>RepositorySecrets</c>).</summary>
    public string? ProtectedWebhookSecret { get; set; }

    /// <summary>Clone credentials (user name and token), encrypted with Data Protection; null: none. Never returned by any route.</summary>
    public string? ProtectedCredentials { get; set; }

    /// <summary>
    /// Space-separated project globs this repository's builds may read from Builder's index through their relay;
    /// null: every project.
    /// </summary>
    public string? RelayProjects { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? UpdatedAt { get; set; }
}

/// <summary>Credentials for cloning over HTTPS (a token as password; any user name the host accepts, e.g. x-access-token).</summary>
public sealed record CloneCredentials(string Username, string Token);

public enum BuildState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>
/// One tag push to build. The database row is the source of truth: the job queue only carries the id, and a
/// build left <see cref="BuildState.Queued"/> or <see cref="BuildState.Running"/> by a stopped process is enqueued again.
/// </summary>
public sealed class Build
{
    public long Id { get; set; }

    public long RepositoryId { get; set; }

    public SourceRepository? Repository { get; set; }

    public required string Tag { get; set; }

    /// <summary>The SHA the webhook delivered: the commit, or the tag object for an annotated tag.</summary>
    public required string CommitSha { get; set; }

    /// <summary>The commit the tag resolved to when the job cloned it.</summary>
    public string? ResolvedCommit { get; set; }

    public string? DeliveryId { get; set; }

    public string? Project { get; set; }

    public string? Version { get; set; }

    public BuildState State { get; set; }

    public string? Error { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public int Attempts { get; set; }

    public List<BuildTarget> Targets { get; set; } = [];

    public List<BuildPart> Parts { get; set; } = [];

    public bool IsFinished => IsFinal(State);

    /// <summary>Succeeded, failed and cancelled builds never change again.</summary>
    public static bool IsFinal(BuildState state) => state is BuildState.Succeeded or BuildState.Failed or BuildState.Cancelled;
}

/// <summary>The outcome of one build target: "sdist", or a wheel identifier in cibuildwheel's form ("cp311-manylinux_x86_64").</summary>
public sealed class BuildTarget
{
    public long Id { get; set; }

    public long BuildId { get; set; }

    /// <summary>The <see cref="BuildPart"/> that built the target.</summary>
    public long? PartId { get; set; }

    public required string Name { get; set; }

    public required string Architecture { get; set; }

    public bool Succeeded { get; set; }

    public double Seconds { get; set; }

    public string? Error { get; set; }

    /// <summary>Space-separated file names the target produced.</summary>
    public string Files { get; set; } = string.Empty;
}

/// <summary>
/// One job of a release's build: some of an architecture's targets, run by a worker that takes that architecture's
/// queue (<see cref="BuildQueues"/>). The release is published by whichever part finishes last, once every part
/// succeeded; the first part to fail fails the release and cancels the others.
/// </summary>
public sealed class BuildPart
{
    public long Id { get; set; }

    public long BuildId { get; set; }

    public required string Architecture { get; set; }

    /// <summary>Space-separated cibuildwheel identifiers this part builds (<c>cp311-manylinux_x86_64 cp312-manylinux_x86_64</c>).</summary>
    public required string Identifiers { get; set; }

    /// <summary>Exactly one part of a release builds the sdist (when the release has one).</summary>
    public bool IncludeSdist { get; set; }

    public BuildState State { get; set; }

    /// <summary>The Hangfire job that runs the part; deleting it (tag deleted) stops the part's containers.</summary>
    public string? JobId { get; set; }

    public int Attempts { get; set; }

    public string? Error { get; set; }

    /// <summary>Space-separated file names staged in the artifact store under <see cref="StagingKey"/>.</summary>
    public string Files { get; set; } = string.Empty;

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public IReadOnlyList<string> IdentifierList => Identifiers.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public IReadOnlyList<string> FileList => Files.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// Where a built file waits until the release is published: a key no project can own (normalized names never
    /// start with "_"), and never listed or served by the index.
    /// </summary>
    public string StagingKey(string filename) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"_staging-{BuildId}/{Id}-{filename}");
}

/// <summary>Hangfire queue names: builds are planned on <see cref="Plan"/>, and built on their architecture's queue.</summary>
public static class BuildQueues
{
    public const string Plan = "default";

    /// <summary>"x86_64" → "arch-x86_64" (Hangfire queue names are lower-case letters, digits, '_' and '-').</summary>
    public static string ForArchitecture(string architecture) => "arch-" + architecture.ToLowerInvariant();
}

/// <summary>A run of build output lines, in the order written (ordered by <see cref="Id"/>).</summary>
public sealed class BuildLogChunk
{
    public long Id { get; set; }

    public long BuildId { get; set; }

    /// <summary>One or more whole lines, each ending in a newline; empty for the end-of-attempt marker.</summary>
    public required string Text { get; set; }

    /// <summary>Each run of the build job ends its output with one empty chunk (see <c>DbBuildLog</c>).</summary>
    public bool IsEndOfAttempt => Text.Length == 0;
}

/// <summary>A published distribution file. A row exists only for a release whose every target succeeded.</summary>
public sealed class PackageFile
{
    public long Id { get; set; }

    /// <summary>PEP 503 normalized project name.</summary>
    public required string Project { get; set; }

    public required string Version { get; set; }

    /// <summary>Unique across the index, forever: a file name is never reused for other bytes.</summary>
    public required string Filename { get; set; }

    public required string Sha256 { get; set; }

    public long Size { get; set; }

    public string? RequiresPython { get; set; }

    public long? BuildId { get; set; }

    public DateTimeOffset UploadedAt { get; set; }

    /// <summary>sha256 of the PEP 658 metadata sidecar (<c>{file url}.metadata</c>); null when there is none (sdists).</summary>
    public string? MetadataSha256 { get; set; }

    /// <summary>PEP 592: a yanked file stays downloadable, but installers skip it unless pinned.</summary>
    public bool Yanked { get; set; }

    public string? YankedReason { get; set; }

    /// <summary>Set when an admin deleted the file: it leaves the index, and its name stays reserved forever.</summary>
    public DateTimeOffset? DeletedAt { get; set; }
}
