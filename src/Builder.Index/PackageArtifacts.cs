using Builder.Core.Builds;

namespace Builder.Index;

/// <summary>
/// One file the index serves: a distribution or, with <see cref="Metadata"/>, its core metadata sidecar; published here,
/// or (with <see cref="UpstreamSha256"/>: the sha256 of the served bytes) fetched from the upstream index.
/// </summary>
public readonly record struct ServedArtifact(string Project, string Filename, bool Metadata, string? UpstreamSha256 = null);

/// <summary>What a stored key is in the layout (<see cref="PackageArtifacts.Classify"/>).</summary>
public enum StoredKind
{
    /// <summary>"{project}/{filename}" (or its ".metadata" sidecar): a published file's bytes, or bytes no row names yet.</summary>
    Published,

    /// <summary>"_staging-{build}/...": what a build's parts staged, and its source bundle.</summary>
    Staging,

    /// <summary>"_upstream-{project}/...": a file (or sidecar) kept from the upstream index.</summary>
    Upstream,

    /// <summary>Anything else: not Builder's layout (another application's object in a shared bucket); never touched.</summary>
    Foreign,
}

/// <summary>
/// A stored key read back: its <see cref="Kind"/>, the project and (published) file name it belongs to, whether it is a
/// sidecar, and (staging) the build.
/// </summary>
public readonly record struct StoredKey(StoredKind Kind, string? Project = null, string? Filename = null, bool Metadata = false, long? BuildId = null);

/// <summary>Files and bytes of one kind of stored object.</summary>
public readonly record struct StoredBytes(long Files, long Bytes)
{
    public StoredBytes Add(long bytes) => new(Files + 1, Bytes + bytes);
}

/// <summary>What the store holds besides published files: the upstream proxy's cache and the staging of builds.</summary>
public sealed record StoredUsage(StoredBytes Upstream, StoredBytes Staging);

/// <summary>
/// The one owner of the storage layout: distribution files under "{project}/{filename}", their PEP 658 core metadata
/// sidecars under "{project}/{filename}.metadata", a build part's staged files under
/// "_staging-{build}/{sha256}-{filename}" (a wheel's staged sidecar beside it, with ".metadata"; the build's git bundle as
/// "_staging-{build}/source-{sha256}.bundle"), and files kept from the upstream index under
/// "_upstream-{project}/{sha256}-{filename}" (keys no project can own: normalized names never start with "_"). Nothing
/// else formats a key; projects are normalized names.
/// </summary>
public sealed class PackageArtifacts(IArtifactStore store)
{
    private const string StagingPrefix = "_staging-";
    private const string UpstreamPrefix = "_upstream-";

    private static string FileKey(string project, string filename) => $"{project}/{filename}";

    private static string MetadataKey(string project, string filename) => $"{project}/{filename}{PublicRoutes.MetadataSuffix}";

    /// <summary>
    /// Where a built file waits until the release is published, by content: never listed or served by the index, and
    /// never overwritten with other bytes (another run of the part that built other bytes stages them under another key).
    /// </summary>
    private static string StagingKey(long buildId, string filename, string sha256) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{StagingPrefix}{buildId}/{sha256}-{filename}");

    /// <summary>The git bundle of a build's source (<see cref="Build.SourceBundleSha256"/>), by content, beside its staged files.</summary>
    private static string SourceBundleKey(long buildId, string sha256) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{StagingPrefix}{buildId}/source-{sha256}.bundle");

    /// <summary>A staged wheel's core metadata sidecar: beside the staged file, named after it (the file's sha256).</summary>
    private static string StagedMetadataKey(long buildId, string filename, string sha256) => StagingKey(buildId, filename, sha256) + PublicRoutes.MetadataSuffix;

    /// <summary>The store the layout lives in (readiness, tests).</summary>
    public IArtifactStore Store => store;

    /// <summary>
    /// Stores a distribution file under its final name; true when this call wrote bytes (which a publication that does not
    /// commit must remove again with <see cref="DeleteFileAsync"/>). Other bytes already there, which no published row
    /// names (the caller checks that under the project's publish lock), were left by a publication that never committed:
    /// they are replaced.
    /// </summary>
    public Task<bool> StoreFileAsync(string project, string filename, string path, string sha256, CancellationToken cancellationToken) =>
        StoreAsync(FileKey(project, filename), () => OpenSource(path), sha256, cancellationToken);

    /// <summary>Stores a wheel's core metadata sidecar, under the same rules as <see cref="StoreFileAsync"/>.</summary>
    public Task<bool> StoreMetadataAsync(string project, string filename, byte[] metadata, CancellationToken cancellationToken) =>
        StoreAsync(MetadataKey(project, filename), () => new MemoryStream(metadata, writable: false),
            Sha256(metadata), cancellationToken);

    /// <summary>Puts the bytes <paramref name="open"/> reads; replaces other bytes found there (see <see cref="StoreFileAsync"/>).</summary>
    private async Task<bool> StoreAsync(string key, Func<Stream> open, string sha256, CancellationToken cancellationToken)
    {
        StoreOutcome outcome;
        await using (var source = open())
        {
            outcome = await store.PutAsync(key, source, source.Length, sha256, cancellationToken);
        }

        switch (outcome)
        {
            case StoreOutcome.AlreadyExists:
                return false;
            case StoreOutcome.Conflict:
                await using (var source = open())
                {
                    await store.ReplaceAsync(key, source, source.Length, sha256, cancellationToken);
                }

                return true;
            default:
                return true;
        }
    }

    private static FileStream OpenSource(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);

    /// <summary>A distribution file's bytes (null: not stored).</summary>
    public Task<ArtifactContent?> OpenFileAsync(string project, string filename, CancellationToken cancellationToken) =>
        store.OpenReadAsync(FileKey(project, filename), cancellationToken);

    /// <summary>A wheel's core metadata sidecar (null: not stored).</summary>
    public Task<ArtifactContent?> OpenMetadataAsync(string project, string filename, CancellationToken cancellationToken) =>
        store.OpenReadAsync(MetadataKey(project, filename), cancellationToken);

    /// <summary>The bytes the index serves for a name: a published file or sidecar, or an upstream one Builder keeps.</summary>
    public Task<ArtifactContent?> OpenServedAsync(ServedArtifact artifact, CancellationToken cancellationToken) =>
        store.OpenReadAsync(ServedKey(artifact), cancellationToken);

    /// <summary>Where the served bytes lie on a local file system (sendfile); null on other stores.</summary>
    public string? LocalPath(ServedArtifact artifact) => store.LocalPath(ServedKey(artifact));

    /// <summary>A short-lived URL for the served bytes, where the store has one (S3 presigned); else null.</summary>
    public Task<Uri?> DownloadUrlAsync(ServedArtifact artifact, TimeSpan lifetime, CancellationToken cancellationToken) =>
        store.DownloadUrlAsync(ServedKey(artifact), artifact.Metadata ? artifact.Filename + PublicRoutes.MetadataSuffix : artifact.Filename, lifetime, cancellationToken);

    /// <summary>Whether an upstream file (or sidecar) is kept already.</summary>
    public Task<bool> ExistsAsync(ServedArtifact artifact, CancellationToken cancellationToken) => store.ExistsAsync(ServedKey(artifact), cancellationToken);

    /// <summary>
    /// Keeps an upstream file (or sidecar) whose bytes the caller checked against upstream's sha256. Kept by content, so
    /// the same name with other bytes upstream is another object, and a second copy of the same bytes changes nothing.
    /// </summary>
    public async Task StoreUpstreamAsync(ServedArtifact artifact, Stream content, long length, CancellationToken cancellationToken)
    {
        if (artifact.UpstreamSha256 is not { } sha256)
        {
            throw new ArgumentException($"'{artifact.Filename}' is not an upstream file", nameof(artifact));
        }

        await store.PutAsync(ServedKey(artifact), content, length, sha256, cancellationToken);
    }

    /// <summary>The key of a served file: published ones where they were published, upstream ones by content.</summary>
    private static string ServedKey(ServedArtifact artifact) =>
        artifact.UpstreamSha256 is { } sha256 ? $"{UpstreamPrefix}{artifact.Project}/{sha256}-{artifact.Filename}{(artifact.Metadata ? PublicRoutes.MetadataSuffix : string.Empty)}"
        : artifact.Metadata ? MetadataKey(artifact.Project, artifact.Filename)
        : FileKey(artifact.Project, artifact.Filename);

    /// <summary>Removes a distribution file and its sidecar (absent ones are fine).</summary>
    public async Task DeleteFileAsync(string project, string filename, CancellationToken cancellationToken)
    {
        await store.DeleteAsync(FileKey(project, filename), cancellationToken);
        await store.DeleteAsync(MetadataKey(project, filename), cancellationToken);
    }

    /// <summary>
    /// Stages a file a part built, by content (the same bytes staged twice are one object), with its core metadata
    /// sidecar when it is a wheel: the only time the bytes travel to the store before they are published.
    /// </summary>
    public async Task StageAsync(BuildPart part, string filename, string path, string sha256, byte[]? metadata, CancellationToken cancellationToken)
    {
        await using (var source = OpenSource(path))
        {
            await store.PutAsync(StagingKey(part.BuildId, filename, sha256), source, source.Length, sha256, cancellationToken);
        }

        if (metadata is not null)
        {
            await using var sidecar = new MemoryStream(metadata, writable: false);
            await store.PutAsync(StagedMetadataKey(part.BuildId, filename, sha256), sidecar, metadata.Length, Sha256(metadata), cancellationToken);
        }
    }

    /// <summary>
    /// Publishes a staged file and its sidecar under their final names by promotion: the store copies each inside itself
    /// once it has checked that the staged bytes are the ones the part recorded (<see cref="IArtifactStore.CopyAsync"/>).
    /// Other bytes under the final names, which no published row names (the caller checks that under the project's
    /// publish lock), were left by a publication that never committed: they are replaced.
    /// </summary>
    /// <exception cref="BuildStepException">a staged object is missing, or holds other bytes than recorded; the message names the file and the digests.</exception>
    public async Task PromoteAsync(StagedFile staged, CancellationToken cancellationToken)
    {
        await PromoteAsync(staged, StagingKey(staged.BuildId, staged.Filename, staged.Sha256), FileKey(staged.Project, staged.Filename), staged.Sha256, string.Empty, cancellationToken);
        if (staged.MetadataSha256 is { } metadataSha256)
        {
            await PromoteAsync(staged, StagedMetadataKey(staged.BuildId, staged.Filename, staged.Sha256), MetadataKey(staged.Project, staged.Filename), metadataSha256, " (its core metadata)", cancellationToken);
        }
    }

    private async Task PromoteAsync(StagedFile staged, string stagingKey, string key, string sha256, string what, CancellationToken cancellationToken)
    {
        var result = await store.CopyAsync(stagingKey, key, sha256, cancellationToken);
        switch (result.Outcome)
        {
            case CopyOutcome.SourceMissing:
                throw new BuildStepException($"staged file {staged.Filename}{what} of part {staged.PartId} is missing from the artifact store ({stagingKey}); build the tag again");
            case CopyOutcome.SourceChanged:
                throw new BuildStepException(
                    $"staged file {staged.Filename}{what} of part {staged.PartId} holds bytes with sha256 {result.SourceSha256 ?? "unknown"}, not the {sha256} its part recorded ({stagingKey}); nothing was published");
        }
    }

    /// <summary>Stages the git bundle the plan made of the build's source, for the build's parts.</summary>
    public async Task StageSourceBundleAsync(long buildId, string path, string sha256, CancellationToken cancellationToken)
    {
        await using var source = OpenSource(path);
        await store.PutAsync(SourceBundleKey(buildId, sha256), source, source.Length, sha256, cancellationToken);
    }

    /// <summary>The build's staged source bundle (null: not stored, or already dropped).</summary>
    public Task<ArtifactContent?> OpenSourceBundleAsync(long buildId, string sha256, CancellationToken cancellationToken) =>
        store.OpenReadAsync(SourceBundleKey(buildId, sha256), cancellationToken);

    /// <summary>Removes the build's staged source bundle (absent is fine).</summary>
    public Task DropSourceBundleAsync(long buildId, string sha256, CancellationToken cancellationToken) =>
        store.DeleteAsync(SourceBundleKey(buildId, sha256), cancellationToken);

    /// <summary>Where a staged file is, for messages and tests ("_staging-7/ab12-acme-1.0.tar.gz").</summary>
    public static string DescribeStaged(BuildPart part, string filename, string sha256) => StagingKey(part.BuildId, filename, sha256);

    /// <summary>Removes staged files and their sidecars (absent ones are fine).</summary>
    public async Task DropStagedAsync(IEnumerable<StagedFile> files, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            await store.DeleteAsync(StagingKey(file.BuildId, file.Filename, file.Sha256), cancellationToken);
            if (file.MetadataSha256 is not null)
            {
                await store.DeleteAsync(StagedMetadataKey(file.BuildId, file.Filename, file.Sha256), cancellationToken);
            }
        }
    }

    /// <summary>What <paramref name="key"/> is in this layout; keys it never makes are <see cref="StoredKind.Foreign"/>.</summary>
    public static StoredKey Classify(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == key.Length - 1 || key.IndexOf('/', slash + 1) >= 0)
        {
            return new StoredKey(StoredKind.Foreign);
        }

        var directory = key[..slash];
        var name = key[(slash + 1)..];
        if (directory.StartsWith(StagingPrefix, StringComparison.Ordinal))
        {
            return long.TryParse(directory.AsSpan(StagingPrefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var build)
                ? new StoredKey(StoredKind.Staging, BuildId: build)
                : new StoredKey(StoredKind.Foreign);
        }

        if (directory.StartsWith(UpstreamPrefix, StringComparison.Ordinal))
        {
            var project = directory[UpstreamPrefix.Length..];
            return project.Length > 0 && Builder.Core.Packaging.PackageName.Normalize(project) == project
                ? new StoredKey(StoredKind.Upstream, project, name, name.EndsWith(PublicRoutes.MetadataSuffix, StringComparison.Ordinal))
                : new StoredKey(StoredKind.Foreign);
        }

        if (Builder.Core.Packaging.PackageName.Normalize(directory) != directory)
        {
            return new StoredKey(StoredKind.Foreign);
        }

        var metadata = name.EndsWith(PublicRoutes.MetadataSuffix, StringComparison.Ordinal);
        var filename = metadata ? name[..^PublicRoutes.MetadataSuffix.Length] : name;
        return filename.Length == 0 ? new StoredKey(StoredKind.Foreign) : new StoredKey(StoredKind.Published, directory, filename, metadata);
    }

    /// <summary>The key a kept upstream file (or sidecar) lies under: what the proxy's record of reads names.</summary>
    public static string UpstreamKey(ServedArtifact artifact) => artifact.UpstreamSha256 is null
        ? throw new ArgumentException($"'{artifact.Filename}' is not an upstream file", nameof(artifact))
        : ServedKey(artifact);

    /// <summary>Every stored object (garbage collection reads it with <see cref="Classify"/>).</summary>
    public IAsyncEnumerable<StoredObject> ListAsync(CancellationToken cancellationToken) => store.ListAsync(string.Empty, cancellationToken);

    /// <summary>Removes one listed object (garbage collection, which decided it is nobody's); absent is fine.</summary>
    public Task DeleteStoredAsync(string key, CancellationToken cancellationToken) => store.DeleteAsync(key, cancellationToken);

    /// <summary>Files and bytes of the upstream proxy's cache and of builds' staging, as the store lists them now.</summary>
    public async Task<StoredUsage> MeasureAsync(CancellationToken cancellationToken)
    {
        var upstream = default(StoredBytes);
        await foreach (var item in store.ListAsync(UpstreamPrefix, cancellationToken))
        {
            upstream = upstream.Add(item.Size);
        }

        var staging = default(StoredBytes);
        await foreach (var item in store.ListAsync(StagingPrefix, cancellationToken))
        {
            staging = staging.Add(item.Size);
        }

        return new StoredUsage(upstream, staging);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
}
