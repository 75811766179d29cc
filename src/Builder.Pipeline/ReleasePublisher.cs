using System.Security.Cryptography;
using Builder.Core.Builds;
using Builder.Core.Packaging;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Pipeline;

/// <summary>A distribution file checked against its release and ready to store.</summary>
public sealed record CheckedFile(string Path, DistributionFilename Name, CoreMetadata Metadata, string Sha256, long Size);

/// <summary>Checks built files against the tag and makes a release visible, all files at once.</summary>
public sealed class ReleasePublisher(BuilderDbContext db, IArtifactStore store, TimeProvider time)
{
    /// <summary>Reads each file's metadata and refuses a release whose files disagree with the tag or with each other.</summary>
    public static async Task<IReadOnlyList<CheckedFile>> CheckAsync(string tag, string tagVersion, IEnumerable<string> paths, CancellationToken cancellationToken)
    {
        var checkedFiles = new List<CheckedFile>();
        foreach (var path in paths)
        {
            var fileName = System.IO.Path.GetFileName(path);
            if (!DistributionFilename.TryParse(fileName, out var name) || name is null)
            {
                throw new BuildStepException($"the build produced '{fileName}', which is not a valid wheel or sdist file name");
            }

            CoreMetadata metadata;
            try
            {
                metadata = await DistributionReader.ReadMetadataAsync(path, name, cancellationToken);
            }
            catch (InvalidDistributionException ex)
            {
                throw new BuildStepException($"{fileName}: {ex.Message}", ex);
            }

            if (!Pep440Version.TryNormalize(metadata.Version, out var builtVersion))
            {
                throw new BuildStepException($"{fileName}: the built metadata version '{metadata.Version}' is not a PEP 440 version");
            }

            if (builtVersion != tagVersion)
            {
                throw new BuildStepException(
                    $"version mismatch: tag '{tag}' says version {tagVersion}, but the built metadata of {fileName} says version {builtVersion}; nothing was published (make the project's version match the tag, then tag again)");
            }

            if (PackageName.Normalize(metadata.Name) != name.NormalizedName || name.Version != builtVersion)
            {
                throw new BuildStepException(
                    $"{fileName}: the file name does not match its metadata (Name {metadata.Name}, Version {metadata.Version})");
            }

            await using var stream = File.OpenRead(path);
            var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
            checkedFiles.Add(new CheckedFile(path, name, metadata, sha256, stream.Length));
        }

        if (checkedFiles.Count == 0)
        {
            throw new BuildStepException("the build produced no files");
        }

        var projects = checkedFiles.Select(f => f.Name.NormalizedName).Distinct(StringComparer.Ordinal).ToList();
        if (projects.Count != 1)
        {
            throw new BuildStepException($"the build produced files of several projects ({string.Join(", ", projects)}); a release is one project");
        }

        return checkedFiles;
    }

    /// <summary>
    /// Stores the files, then records them and the build's success in one transaction: the index reads only recorded
    /// files, so a release appears whole or not at all. Safe to repeat: identical files already stored are success.
    /// </summary>
    public async Task PublishAsync(Build build, IReadOnlyList<CheckedFile> files, CancellationToken cancellationToken)
    {
        var project = files[0].Name.NormalizedName;
        var names = files.Select(f => f.Name.Filename).ToList();
        var existing = await db.Files.Where(f => names.Contains(f.Filename)).ToDictionaryAsync(f => f.Filename, StringComparer.Ordinal, cancellationToken);
        foreach (var file in files)
        {
            if (existing.TryGetValue(file.Name.Filename, out var published) && published.Sha256 != file.Sha256)
            {
                throw new BuildStepException(
                    $"{file.Name.Filename} is already published with other contents (sha256 {published.Sha256}); file names are never reused");
            }

            var outcome = await store.PutAsync($"{project}/{file.Name.Filename}", file.Path, file.Sha256, cancellationToken);
            if (outcome == StoreOutcome.Conflict)
            {
                throw new BuildStepException($"{file.Name.Filename} is already stored with other contents; file names are never reused");
            }
        }

        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var file in files.Where(f => !existing.ContainsKey(f.Name.Filename)))
        {
            db.Files.Add(new PackageFile
            {
                Project = project,
                Version = file.Name.Version,
                Filename = file.Name.Filename,
                Sha256 = file.Sha256,
                Size = file.Size,
                RequiresPython = file.Metadata.RequiresPython,
                BuildId = build.Id,
                UploadedAt = now,
            });
        }

        build.Project = project;
        build.State = BuildState.Succeeded;
        build.FinishedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
