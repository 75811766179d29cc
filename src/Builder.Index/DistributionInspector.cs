using System.Security.Cryptography;
using Builder.Core.Packaging;

namespace Builder.Index;

/// <summary>A distribution file whose name, archive and metadata were checked, with its digests.</summary>
/// <param name="Sboms">The SBOM files a wheel carries (<see cref="WheelSboms"/>); null for an sdist.</param>
public sealed record CheckedFile(string Path, DistributionFilename Name, CoreMetadata Metadata, byte[]? MetadataFile, string Sha256, long Size, IReadOnlyList<string>? Sboms)
{
    public string Project => Name.NormalizedName;

    /// <summary>The sha256 of the core metadata sidecar; null when there is none (an sdist).</summary>
    public string? MetadataSha256 => MetadataFile is null ? null : Convert.ToHexStringLower(SHA256.HashData(MetadataFile));

    /// <summary>This file, to publish from where it lies.</summary>
    public FileToPublish ToRelease() =>
        new(Project, Name.Filename, Name.Version, Sha256, Size, Metadata.RequiresPython, MetadataSha256, new LocalFileBytes(Path, MetadataFile))
        {
            Sboms = WheelSboms.Format(Sboms),
            MetadataSize = MetadataFile?.Length,
        };
}

/// <summary>Checks that a file is what its name says: a readable wheel or sdist whose metadata names the same project and version.</summary>
public static class DistributionInspector
{
    /// <exception cref="InvalidDistributionException">with a message naming the problem.</exception>
    public static async Task<CheckedFile> InspectAsync(string path, string fileName, CancellationToken cancellationToken)
    {
        if (!DistributionFilename.TryParse(fileName, out var name) || name is null)
        {
            throw new InvalidDistributionException(
                $"'{fileName}' is not a valid wheel or sdist file name ({{name}}-{{version}}-{{python}}-{{abi}}-{{platform}}.whl or {{name}}-{{version}}.tar.gz)");
        }

        if (!PackageName.IsValid(name.Name))
        {
            throw new InvalidDistributionException($"'{name.Name}' in {fileName} is not a valid project name (PEP 508)");
        }

        if (Pep440Version.IsLocal(name.Version))
        {
            throw new InvalidDistributionException(
                $"{fileName} has the local version {name.Version}; local versions are never published (pip's =={name.Version[..name.Version.IndexOf('+', StringComparison.Ordinal)]} would install it): publish it without '+...'");
        }

        // One file, one name: "ALPHA_LIB-1.0-...", "alpha.lib-1.0-..." and "alpha_lib-01.0-..." are all alpha_lib-1.0-...
        if (name.Canonical != fileName)
        {
            throw new InvalidDistributionException(
                $"'{fileName}' is not a canonical file name: this file must be named '{name.Canonical}' (the project name normalized with '_' and the version PEP 440-normalized, as the binary distribution format and PEP 625 write them)");
        }

        var read = await DistributionReader.ReadAsync(path, name, cancellationToken);
        var metadata = read.Metadata;
        if (!Pep440Version.TryNormalize(metadata.Version, out var version))
        {
            throw new InvalidDistributionException($"{fileName}: the metadata version '{metadata.Version}' is not a PEP 440 version");
        }

        if (PackageName.Normalize(metadata.Name) != name.NormalizedName)
        {
            throw new InvalidDistributionException($"{fileName}: the metadata names project '{metadata.Name}', the file name '{name.Name}'");
        }

        if (version != name.Version)
        {
            throw new InvalidDistributionException($"{fileName}: the metadata says version {version}, the file name {name.Version}");
        }

        await using var stream = File.OpenRead(path);
        var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        // PEP 658: the sidecar is the wheel's METADATA file as is; sdists get none.
        var metadataFile = name.Kind == DistributionKind.Wheel ? read.Raw : null;
        return new CheckedFile(path, name, metadata with { Version = version }, metadataFile, sha256, stream.Length, read.Sboms);
    }
}
