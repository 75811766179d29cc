using Builder.Core.Builds;

namespace Builder.Index;

/// <summary>
/// A file to publish (<see cref="ReleasePublisher"/>): what its row will say, and where its bytes come from (a file on
/// this host's disk, or an object a build part staged in the artifact store).
/// </summary>
public sealed record FileToPublish(
    string Project, string Filename, string Version, string Sha256, long Size, string? RequiresPython, string? MetadataSha256, FileBytesSource Bytes)
{
    /// <summary>The file's signed provenance object (PEP 740), published with it; null for files Builder did not build.</summary>
    public string? Provenance { get; init; }

    /// <summary>Bytes of the metadata sidecar (<see cref="PackageFile.MetadataSize"/>); null when there is none.</summary>
    public long? MetadataSize { get; init; }

    /// <summary>The names of the SBOM files a wheel carries, as <see cref="PackageFile.Sboms"/> keeps them; null: not read (an sdist).</summary>
    public string? Sboms { get; init; }

    /// <summary>A staged file, published by promotion: its bytes are not read again.</summary>
    public static FileToPublish Staged(StagedFile staged) => new(
        staged.Project, staged.Filename, staged.Version, staged.Sha256, staged.Size, staged.RequiresPython, staged.MetadataSha256, new StagedBytes(staged))
    {
        Sboms = staged.Sboms,
        MetadataSize = staged.MetadataSize,
    };

    private sealed class StagedBytes(StagedFile staged) : FileBytesSource
    {
        internal override Task StoreAsync(PackageArtifacts artifacts, FileToPublish file, CancellationToken cancellationToken) =>
            artifacts.PromoteAsync(staged, cancellationToken);
    }
}

/// <summary>Where a <see cref="FileToPublish"/>'s bytes are, and how they get under its final name in the store.</summary>
public abstract class FileBytesSource
{
    internal abstract Task StoreAsync(PackageArtifacts artifacts, FileToPublish file, CancellationToken cancellationToken);
}

/// <summary>A file on this host's disk (an upload, an import) with its core metadata sidecar: both are written to the store.</summary>
public sealed class LocalFileBytes(string path, byte[]? metadata) : FileBytesSource
{
    internal override async Task StoreAsync(PackageArtifacts artifacts, FileToPublish file, CancellationToken cancellationToken)
    {
        await artifacts.StoreFileAsync(file.Project, file.Filename, path, file.Sha256, cancellationToken);
        if (metadata is not null)
        {
            await artifacts.StoreMetadataAsync(file.Project, file.Filename, metadata, cancellationToken);
        }
    }
}
