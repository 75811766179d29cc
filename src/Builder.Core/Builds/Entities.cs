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

    /// <summary>
    /// The forge's host ("github.com", "gitlab.example:8443"): repositories are unique per (provider, instance, name).
    /// See <c>ForgeAddress.Instance</c>.
    /// </summary>
    public string Instance { get; set; } = string.Empty;

    /// <summary>The forge's API base (null: the provider's default for <see cref="CloneUrl"/>, see <c>ForgeAddress</c>).</summary>
    public string? ApiUrl { get; set; }

    /// <summary>Whether builds report commit statuses to the forge (default: when credentials are set).</summary>
    public bool ReportStatus { get; set; }

    /// <summary>Whether a published release's files are attached to the forge's release of the tag.</summary>
    public bool ReleaseAssets { get; set; }

    /// <summary>What starts a build: <c>tag</c> (a tag push, the default) or <c>release</c> (a GitHub release published).</summary>
    public string Trigger { get; set; } = RepositoryTriggers.Tag;

    /// <summary>The GitHub App installation the latest delivery named (used when the App credentials name none).</summary>
    public long? GitHubInstallationId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? UpdatedAt { get; set; }
}

/// <summary>The values of <see cref="SourceRepository.Trigger"/>.</summary>
public static class RepositoryTriggers
{
    public const string Tag = "tag";
    public const string Release = "release";
}

/// <summary>Credentials for cloning over HTTPS (a token as password; any user name the host accepts, e.g. x-access-token).</summary>
public sealed record CloneCredentials(string Username, string Token) : Forges.RepositoryCredentials
{
    /// <summary>Never the token: a record's generated ToString would put it in any log line that formats the credentials.</summary>
    public override string ToString() => $"CloneCredentials {{ Username = {Username}, Token = *** }}";
}

public enum BuildState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>A <see cref="BuildState"/> as the API writes and reads it: lower-case (<c>queued</c>, <c>running</c>, ...).</summary>
public static class BuildStates
{
    /// <summary>Every state's name, in lifecycle order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<BuildState>().Select(Name)];

    public static string Name(BuildState state) => state.ToString().ToLowerInvariant();

    /// <summary>A state's name (any case); numbers and unknown names are refused.</summary>
    public static bool TryParse(string? text, out BuildState state)
    {
        foreach (var candidate in Enum.GetValues<BuildState>())
        {
            if (string.Equals(text?.Trim(), Name(candidate), StringComparison.OrdinalIgnoreCase))
            {
                state = candidate;
                return true;
            }
        }

        state = default;
        return false;
    }
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

    /// <summary>
    /// The project's build settings as the plan read them from its pyproject.toml (<see cref="ProjectBuildSettings.ToJson"/>):
    /// every part builds with these and never plans again. Null for a build planned before they were recorded.
    /// </summary>
    public string? PlannedSettings { get; set; }

    /// <summary>
    /// The sha256 of the git bundle of the tag that the plan staged in the artifact store: every part (on any worker host)
    /// starts from it instead of cloning from the forge. Null: there is none (the plan's host has no git command), and
    /// each part clones.
    /// </summary>
    public string? SourceBundleSha256 { get; set; }

    public string? DeliveryId { get; set; }

    public string? Project { get; set; }

    public string? Version { get; set; }

    public BuildState State { get; set; }

    public string? Error { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>Runs of the publish step (<c>PublishReleaseJob</c>): each writes its own end-of-attempt marker to the log.</summary>
    public int PublishAttempts { get; set; }

    /// <summary>When the publish step was last enqueued (by the last part's success, or again by the watchdog).</summary>
    public DateTimeOffset? PublishQueuedAt { get; set; }

    /// <summary>
    /// 0 for the build a tag push made; each admin "build again" (<c>POST /api/builds/{id}/retry</c>) of the same tag
    /// and commit makes the next one. (repository, tag, commit, generation) is unique.
    /// </summary>
    public int Generation { get; set; }

    /// <summary>The build this one builds again (<see cref="Generation"/> &gt; 0); null for a tag push.</summary>
    public long? RetryOf { get; set; }

    /// <summary>Who is planning the build now (a job run's lease, see <c>ReleaseLifecycle</c>); null when nobody is.</summary>
    public string? LeaseOwner { get; set; }

    /// <summary>The planning lease's last heartbeat; a lease older than the lease timeout is taken over.</summary>
    public DateTimeOffset? HeartbeatAt { get; set; }

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

    /// <summary>The build image the plan chose for the part (the planner's <c>Builder:Build:Images:{arch}</c>); every run of the part builds in it.</summary>
    public string? Image { get; set; }

    /// <summary>The image's content digest (<c>sha256:...</c>, Docker's image id) as the run that succeeded found it: provenance names it.</summary>
    public string? ImageDigest { get; set; }

    public BuildState State { get; set; }

    /// <summary>The Hangfire job that runs the part; deleting it (tag deleted) stops the part's containers.</summary>
    public string? JobId { get; set; }

    public int Attempts { get; set; }

    public string? Error { get; set; }

    /// <summary>
    /// Who runs the part now: one job run's lease (worker name, process and run). Set when a run starts the part,
    /// refreshed by its heartbeat, cleared when the part ends or is handed back; see <c>ReleaseLifecycle</c>.
    /// </summary>
    public string? LeaseOwner { get; set; }

    /// <summary>The lease's last heartbeat: a running part whose heartbeat is older than the lease timeout is taken over.</summary>
    public DateTimeOffset? HeartbeatAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public IReadOnlyList<string> IdentifierList => Identifiers.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// A file a part built and staged in the artifact store (<c>PackageArtifacts.StageAsync</c>), with what the part read
/// from it when it checked it: everything its published row will say. Written with the part's success, in the same
/// transaction; the release's publication promotes these files (the store copies them inside itself, no byte is read
/// again) and the rows go when the release ends.
/// </summary>
public sealed class StagedFile
{
    public long Id { get; set; }

    public long BuildId { get; set; }

    public long PartId { get; set; }

    public required string Filename { get; set; }

    /// <summary>sha256 of the bytes, as the part hashed them before it staged them: the staged object's key has it too.</summary>
    public required string Sha256 { get; set; }

    public long Size { get; set; }

    /// <summary>PEP 503 normalized project name, from the file's metadata (checked against its name).</summary>
    public required string Project { get; set; }

    /// <summary>PEP 440 normalized version, from the file's metadata (checked against its name and the tag).</summary>
    public required string Version { get; set; }

    public string? RequiresPython { get; set; }

    /// <summary>sha256 of the wheel's staged core metadata sidecar (PEP 658); null for an sdist.</summary>
    public string? MetadataSha256 { get; set; }

    /// <summary>Bytes of the staged core metadata sidecar; null for an sdist.</summary>
    public long? MetadataSize { get; set; }

    /// <summary>The target that built the file: its cibuildwheel identifier (<c>cp312-manylinux_x86_64</c>) or <c>sdist</c>; null when not known.</summary>
    public string? Target { get; set; }

    /// <summary>The SBOM files the wheel carries, as the part read them (see <see cref="PackageFile.Sboms"/>).</summary>
    public string? Sboms { get; set; }
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

    /// <summary>
    /// Bytes of the metadata sidecar, which a project's usage counts with <see cref="Size"/>; null when there is none, and
    /// for files published before Builder recorded it.
    /// </summary>
    public long? MetadataSize { get; set; }

    /// <summary>PEP 592: a yanked file stays downloadable, but installers skip it unless pinned.</summary>
    public bool Yanked { get; set; }

    public string? YankedReason { get; set; }

    /// <summary>Set when an admin deleted the file: it leaves the index, and its name stays reserved forever.</summary>
    public DateTimeOffset? DeletedAt { get; set; }

    /// <summary>A <see cref="FileProvenance"/> row holds the file's signed provenance (files Builder built; never an upload or an import).</summary>
    public bool HasProvenance { get; set; }

    /// <summary>
    /// The names of the SBOM files a wheel carries under <c>.dist-info/sboms/</c> (<see cref="Packaging.WheelSboms"/>:
    /// a name per line, empty for none), read when the file was checked; null for an sdist and for files published
    /// before Builder read them.
    /// </summary>
    public string? Sboms { get; set; }
}

/// <summary>
/// A published file's provenance object (PEP 740: its attestation bundles, each a publisher and signed attestations),
/// made by the publication that published the file and never changed. Kept apart from <see cref="PackageFile"/>, which
/// the index reads whole.
/// </summary>
public sealed class FileProvenance
{
    public long Id { get; set; }

    /// <summary>The file's name (unique across the index, like <see cref="PackageFile.Filename"/>).</summary>
    public required string Filename { get; set; }

    /// <summary>The provenance object's JSON, as served by <c>/integrity/{project}/{version}/{filename}/provenance</c>.</summary>
    public required string Json { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// One transition of a build or a part, written in the same transaction as the transition itself (an outbox): who
/// needs to hear "queued, started, part finished, published, failed, cancelled" reads them in <see cref="Id"/> order.
/// </summary>
public sealed class BuildEvent
{
    public long Id { get; set; }

    public long BuildId { get; set; }

    /// <summary>The part the event is about; null for the build's own events.</summary>
    public long? PartId { get; set; }

    /// <summary>One of <see cref="BuildEventKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The build's (or part's) state after the transition, lower-case.</summary>
    public required string State { get; set; }

    /// <summary>What a reader needs with it: the failure message, the published project, the lease that started a part.</summary>
    public string? Detail { get; set; }

    public DateTimeOffset At { get; set; }
}

/// <summary>The kinds of <see cref="BuildEvent"/> (public: the events route and subscribers name them).</summary>
public static class BuildEventKinds
{
    public const string Queued = "queued";
    public const string Started = "started";
    public const string Planned = "planned";
    public const string PartStarted = "part-started";
    public const string PartSucceeded = "part-succeeded";
    public const string PartFailed = "part-failed";
    public const string PartCancelled = "part-cancelled";
    public const string PartRequeued = "part-requeued";
    public const string Published = "published";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>The events after which a build never changes again.</summary>
    public static bool IsFinal(string kind) => kind is Published or Failed or Cancelled;
}

/// <summary>A durable subscriber's place in the <see cref="BuildEvent"/> outbox: every event up to <see cref="LastEventId"/> was delivered.</summary>
public sealed class BuildEventCursor
{
    public required string Subscriber { get; set; }

    public long LastEventId { get; set; }
}

/// <summary>
/// A job run's lease on a plan or part: "worker/pid/run" — the worker (<c>Builder:Build:WorkerName</c>, which may itself
/// hold '/'), the process and a run id unique to the run. Events that quote a lease may add words after a space.
/// </summary>
public static class RunLease
{
    public static string New(string workerName, int processId) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{workerName}/{processId}/{Guid.NewGuid().ToString("N")[..12]}");

    /// <summary>The worker of a lease; empty when the text is not a lease.</summary>
    public static string WorkerOf(string lease)
    {
        var end = lease.IndexOf(' ', StringComparison.Ordinal) is var space and > 0 ? space : lease.Length;
        var run = end > 0 ? lease.LastIndexOf('/', end - 1) : -1;
        var pid = run > 0 ? lease.LastIndexOf('/', run - 1) : -1;
        return pid > 0 && run - pid > 1 && lease[(pid + 1)..run].All(char.IsAsciiDigit) ? lease[..pid] : string.Empty;
    }
}

/// <summary>
/// One webhook delivery and what Builder did with it (<see cref="Outcome"/>): every delivery is recorded, refused
/// ones too, so "why did my tag not build" has an answer.
/// </summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }

    /// <summary>The repository the delivery was for; null when it named none Builder knows (refused).</summary>
    public long? RepositoryId { get; set; }

    public required string Provider { get; set; }

    /// <summary>The forge's event name (<c>push</c>, <c>create</c>, <c>release</c>, <c>Tag Push Hook</c>).</summary>
    public required string Event { get; set; }

    /// <summary>The forge's delivery id (<c>X-GitHub-Delivery</c>, <c>X-Gitlab-Event-UUID</c>, <c>X-Gitea-Delivery</c>).</summary>
    public string? DeliveryId { get; set; }

    /// <summary>GitLab's <c>Idempotency-Key</c>: the same for every retry of one delivery.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>The repository name the payload named.</summary>
    public string? RepositoryName { get; set; }

    public string? Tag { get; set; }

    public string? CommitSha { get; set; }

    /// <summary>One of <see cref="WebhookOutcomes"/>.</summary>
    public required string Outcome { get; set; }

    /// <summary>The build it made or found (built, duplicate).</summary>
    public long? BuildId { get; set; }

    /// <summary>A sentence: why it was ignored or refused, which builds it cancelled.</summary>
    public string? Detail { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>What a webhook delivery did.</summary>
public static class WebhookOutcomes
{
    public const string Built = "built";
    public const string Duplicate = "duplicate";
    public const string Cancelled = "cancelled";
    public const string Ignored = "ignored";
    public const string Refused = "refused";
    public const string Pong = "pong";
}

/// <summary>
/// One report to a forge about a build (a commit status, the release's files), written when the lifecycle event that
/// asks for it is heard and sent by the reporter, retried with backoff until it is sent, refused for good, or
/// superseded by a newer report of the same build and target. A build's JSON lists them as <c>statuses</c>.
/// </summary>
public sealed class ForgeReport
{
    public long Id { get; set; }

    public long BuildId { get; set; }

    /// <summary>What is reported: <c>github-status</c>, <c>gitlab-status</c>, <c>gitea-status</c>, <c>github-release</c>, <c>gitlab-release</c>.</summary>
    public required string Target { get; set; }

    /// <summary>The state reported (<c>pending</c>, <c>running</c>, <c>success</c>, <c>failure</c>, <c>cancelled</c>; <c>assets</c> for release files).</summary>
    public required string State { get; set; }

    public string? Description { get; set; }

    /// <summary>The lifecycle event it answers (its id in <c>builder_build_events</c>).</summary>
    public long EventId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the last attempt was made; null before the first.</summary>
    public DateTimeOffset? SentAt { get; set; }

    /// <summary>When the next attempt is due; null when no attempt is left to make (sent, refused, superseded).</summary>
    public DateTimeOffset? DueAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>null while unsent; then <c>sent</c>, <c>retrying</c>, <c>refused</c>, <c>gave-up</c> or <c>superseded</c>, with the forge's answer in <see cref="Detail"/>.</summary>
    public string? Outcome { get; set; }

    public string? Detail { get; set; }
}
