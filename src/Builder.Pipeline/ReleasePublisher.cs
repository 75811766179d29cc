using System.Security.Cryptography;
using Builder.Core.Builds;
using Builder.Core.Packaging;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Pipeline;

public enum PublishOutcome
{
    /// <summary>Every file is now in the index.</summary>
    Published,

    /// <summary>Every file was already published with the same bytes (a retried upload, a re-run job).</summary>
    AlreadyPublished,
}

/// <summary>
/// Makes files visible in the index: stores them (and their metadata sidecars), then records them in one
/// transaction, so the index shows a set of files whole or not at all. Builds, uploads and imports all publish here.
/// </summary>
public sealed class ReleasePublisher(BuilderDbContext db, IArtifactStore store, IIndexChangeNotifier changes, TimeProvider time)
{
    /// <summary>Checks built files against the tag: one project, and the tag's version everywhere.</summary>
    public static async Task<IReadOnlyList<CheckedFile>> CheckAsync(string tag, string tagVersion, IEnumerable<string> paths, CancellationToken cancellationToken)
    {
        var checkedFiles = new List<CheckedFile>();
        foreach (var path in paths)
        {
            var fileName = Path.GetFileName(path);
            CheckedFile file;
            try
            {
                file = await DistributionInspector.InspectAsync(path, fileName, cancellationToken);
            }
            catch (InvalidDistributionException ex)
            {
                // Read the version first when we can: a version mismatch should say so, not "file name does not match".
                if (DistributionFilename.TryParse(fileName, out var name) && name is not null && name.Version != tagVersion)
                {
                    throw VersionMismatch(tag, tagVersion, fileName, name.Version);
                }

                throw new BuildStepException($"{fileName}: {ex.Message}", ex);
            }

            if (file.Metadata.Version != tagVersion)
            {
                throw VersionMismatch(tag, tagVersion, fileName, file.Metadata.Version);
            }

            checkedFiles.Add(file);
        }

        if (checkedFiles.Count == 0)
        {
            throw new BuildStepException("the build produced no files");
        }

        var projects = checkedFiles.Select(f => f.Project).Distinct(StringComparer.Ordinal).ToList();
        if (projects.Count != 1)
        {
            throw new BuildStepException($"the build produced files of several projects ({string.Join(", ", projects)}); a release is one project");
        }

        return checkedFiles;
    }

    private static BuildStepException VersionMismatch(string tag, string tagVersion, string fileName, string builtVersion) =>
        new($"version mismatch: tag '{tag}' says version {tagVersion}, but the built metadata of {fileName} says version {builtVersion}; nothing was published (make the project's version match the tag, then tag again)");

    /// <summary>
    /// Publishes <paramref name="files"/> (all of one project) together. Safe to repeat: identical files already
    /// published are success. A name published with other bytes, or deleted before, is refused with
    /// <see cref="PublishConflictException"/> and nothing of the set becomes visible.
    /// When <paramref name="build"/> is given, its success is recorded in the same transaction.
    /// </summary>
    public async Task<PublishOutcome> PublishAsync(IReadOnlyList<CheckedFile> files, Build? build, CancellationToken cancellationToken)
    {
        var project = files[0].Project;
        var names = files.Select(f => f.Name.Filename).ToList();
        var existing = await db.Files.Where(f => names.Contains(f.Filename)).ToDictionaryAsync(f => f.Filename, StringComparer.Ordinal, cancellationToken);
        foreach (var file in files)
        {
            if (existing.TryGetValue(file.Name.Filename, out var published))
            {
                if (published.DeletedAt is not null)
                {
                    throw new PublishConflictException($"{file.Name.Filename} was deleted from this index; a deleted file name can never be used again (release a new version)");
                }

                if (published.Sha256 != file.Sha256)
                {
                    throw new PublishConflictException($"File already exists: {file.Name.Filename} is published with other contents (sha256 {published.Sha256}); file names are never reused");
                }
            }
        }

        var created = files.Where(f => !existing.ContainsKey(f.Name.Filename)).ToList();
        foreach (var file in created)
        {
            if (await store.PutAsync($"{project}/{file.Name.Filename}", file.Path, file.Sha256, cancellationToken) == StoreOutcome.Conflict)
            {
                throw new PublishConflictException($"File already exists: {file.Name.Filename} is stored with other contents; file names are never reused");
            }

            if (file.MetadataFile is { } sidecar)
            {
                await PutBytesAsync($"{project}/{file.Name.Filename}.metadata", sidecar, cancellationToken);
            }
        }

        var now = time.GetUtcNow();
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            foreach (var file in created)
            {
                db.Files.Add(new PackageFile
                {
                    Project = project,
                    Version = file.Name.Version,
                    Filename = file.Name.Filename,
                    Sha256 = file.Sha256,
                    Size = file.Size,
                    RequiresPython = file.Metadata.RequiresPython,
                    MetadataSha256 = file.MetadataFile is null ? null : Convert.ToHexStringLower(SHA256.HashData(file.MetadataFile)),
                    BuildId = build?.Id,
                    UploadedAt = now,
                });
            }

            if (build is not null)
            {
                build.Project = project;
                build.State = BuildState.Succeeded;
                build.FinishedAt = now;
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (DbUpdateException) when (build is null)
            {
                // The same files arrived twice at once (a retried upload): the unique file name index let one insert
                // through. Identical bytes are success, as for a retry that comes later; anything else is a conflict.
                await transaction.RollbackAsync(CancellationToken.None);
                db.ChangeTracker.Clear();
                var winners = await db.Files.AsNoTracking().Where(f => names.Contains(f.Filename)).ToListAsync(CancellationToken.None);
                if (winners.Count == files.Count && files.All(f => winners.Any(w => w.Filename == f.Name.Filename && w.Sha256 == f.Sha256 && w.DeletedAt is null)))
                {
                    return PublishOutcome.AlreadyPublished;
                }

                throw new PublishConflictException($"File already exists: another upload of {string.Join(", ", names)} with other contents won the race");
            }
        }

        if (created.Count == 0)
        {
            return PublishOutcome.AlreadyPublished;
        }

        await changes.ProjectChangedAsync(project, cancellationToken);
        return PublishOutcome.Published;
    }

    private async Task PutBytesAsync(string key, byte[] bytes, CancellationToken cancellationToken)
    {
        var temp = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(temp, bytes, cancellationToken);
            if (await store.PutAsync(key, temp, Convert.ToHexStringLower(SHA256.HashData(bytes)), cancellationToken) == StoreOutcome.Conflict)
            {
                throw new PublishConflictException($"{key} is stored with other contents");
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }
}

/// <summary>A publish refused because a file name is taken (other bytes) or was deleted; the message says which.</summary>
public sealed class PublishConflictException : Exception
{
    public PublishConflictException(string message)
        : base(message)
    {
    }

    public PublishConflictException()
    {
    }

    public PublishConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
