using Builder.Core.Builds;
using Builder.Core.Packaging;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Index;

public enum PublishOutcome
{
    /// <summary>Every file is now in the index.</summary>
    Published,

    /// <summary>Every file was already published with the same bytes (a retried upload, a re-run job).</summary>
    AlreadyPublished,

    /// <summary>The build was cancelled or failed while its publication ran: nothing was published.</summary>
    BuildEnded,
}

/// <summary>
/// Makes files visible in the index: stores them (and their metadata sidecars), then records them in one
/// transaction, so the index shows a set of files whole or not at all. Builds, uploads and imports all publish here.
/// </summary>
public sealed class ReleasePublisher(
    BuilderDbContext db, PackageArtifacts artifacts, PublishLock publishLock, IBuildPublication lifecycle, ProjectChanges changes, ProjectQuotas quotas, IIndexMetrics metrics,
    TimeProvider time)
{
    /// <summary>
    /// Checks files a build part made against the tag, each on its own: a valid distribution whose metadata has the tag's
    /// version. The part does it before it stages them, where the bytes are on its disk.
    /// </summary>
    public static async Task<IReadOnlyList<CheckedFile>> CheckBuiltAsync(string tag, string tagVersion, IEnumerable<string> paths, CancellationToken cancellationToken)
    {
        var checkedFiles = new List<CheckedFile>();
        foreach (var built in paths)
        {
            var path = CanonicalName(built);
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

        return checkedFiles;
    }

    /// <summary>
    /// A built file under its canonical name (<see cref="DistributionFilename.Canonical"/>): a build backend that writes
    /// "Acme.Billing-1.0.tar.gz" made the file a build of this service publishes as "acme_billing-1.0.tar.gz". Uploads
    /// are refused instead: their name is the uploader's to fix.
    /// </summary>
    private static string CanonicalName(string path)
    {
        if (!DistributionFilename.TryParse(Path.GetFileName(path), out var name) || name is null || name.Canonical == name.Filename)
        {
            return path;
        }

        var canonical = Path.Combine(Path.GetDirectoryName(path)!, name.Canonical);
        File.Move(path, canonical);
        return canonical;
    }

    /// <summary>Checks a release's files as a whole (the projects their metadata name): some files, and all of one project.</summary>
    public static void CheckRelease(IReadOnlyCollection<string> projectOfEachFile)
    {
        if (projectOfEachFile.Count == 0)
        {
            throw new BuildStepException("the build produced no files");
        }

        var projects = projectOfEachFile.Distinct(StringComparer.Ordinal).ToList();
        if (projects.Count != 1)
        {
            throw new BuildStepException($"the build produced files of several projects ({string.Join(", ", projects)}); a release is one project");
        }
    }

    private static BuildStepException VersionMismatch(string tag, string tagVersion, string fileName, string builtVersion) =>
        new($"version mismatch: tag '{tag}' says version {tagVersion}, but the built metadata of {fileName} says version {builtVersion}; nothing was published (make the project's version match the tag, then tag again)");

    /// <summary>
    /// Publishes <paramref name="files"/> (all of one project) together, under the project's <see cref="PublishLock"/>:
    /// their bytes are stored (verified against their digests), then their rows commit in one transaction, so the index
    /// shows a set of files whole or not at all. Safe to repeat: identical files already published are success, and bytes
    /// a publication left without committing (a fault between the two steps) are replaced. A name published with other
    /// bytes, or deleted before, or files that would take the project over its quota, are refused with
    /// <see cref="PublishConflictException"/> and nothing becomes visible.
    /// When <paramref name="buildId"/> is given, the build's success is recorded in the same transaction
    /// (<see cref="IBuildPublication.PublishedAsync"/>); a build cancelled or failed meanwhile publishes nothing
    /// (<see cref="PublishOutcome.BuildEnded"/>).
    /// </summary>
    public Task<PublishOutcome> PublishAsync(IReadOnlyList<CheckedFile> files, long? buildId, CancellationToken cancellationToken) =>
        PublishAsync(files.Select(f => f.ToRelease()).ToList(), buildId, cancellationToken);

    /// <inheritdoc cref="PublishAsync(IReadOnlyList{CheckedFile}, long?, CancellationToken)"/>
    public async Task<PublishOutcome> PublishAsync(IReadOnlyList<FileToPublish> files, long? buildId, CancellationToken cancellationToken)
    {
        PublishOutcome outcome;
        try
        {
            outcome = await PublishOnceAsync(files, buildId, cancellationToken);
        }
        catch (PublishConflictException)
        {
            metrics.CountPublishConflict();
            throw;
        }

        metrics.CountPublish(outcome);
        return outcome;
    }

    private async Task<PublishOutcome> PublishOnceAsync(IReadOnlyList<FileToPublish> files, long? buildId, CancellationToken cancellationToken)
    {
        var project = files[0].Project;
        var names = files.Select(f => f.Filename).ToList();
        var written = new List<string>();
        List<FileToPublish> created;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        await using (await publishLock.AcquireAsync(db, project, cancellationToken))
        {
            var existing = await db.Files.AsNoTracking().Where(f => names.Contains(f.Filename)).ToDictionaryAsync(f => f.Filename, StringComparer.Ordinal, cancellationToken);
            foreach (var file in files)
            {
                if (existing.TryGetValue(file.Filename, out var published))
                {
                    if (published.DeletedAt is not null)
                    {
                        throw new PublishConflictException($"{file.Filename} was deleted from this index; a deleted file name can never be used again (release a new version)");
                    }

                    if (published.Sha256 != file.Sha256)
                    {
                        throw new PublishConflictException($"File already exists: {file.Filename} is published with other contents (sha256 {published.Sha256}); file names are never reused");
                    }
                }
            }

            created = files.Where(f => !existing.ContainsKey(f.Filename)).ToList();
            if (created.Count > 0)
            {
                var live = await db.Files.AsNoTracking().Where(f => f.Project == project && f.DeletedAt == null)
                    .Select(f => new PublishedName(f.Filename, f.Version)).ToListAsync(cancellationToken);
                if (ReleaseRules.Refusal(live, created) is { } refusal)
                {
                    throw new PublishConflictException(refusal);
                }

                // Under the lock: two publications at once cannot both fit into the project's last free bytes.
                if (await quotas.RefusalAsync(db, project, created, cancellationToken) is { } overQuota)
                {
                    throw new PublishConflictException(overQuota);
                }
            }

            try
            {
                foreach (var file in created)
                {
                    // Recorded before the write: a write that fails half-way is removed with the rest.
                    written.Add(file.Filename);
                    await file.Bytes.StoreAsync(artifacts, file, cancellationToken);
                }

                var now = time.GetUtcNow();
                foreach (var file in created)
                {
                    db.Files.Add(new PackageFile
                    {
                        Project = project,
                        Version = file.Version,
                        Filename = file.Filename,
                        Sha256 = file.Sha256,
                        Size = file.Size,
                        RequiresPython = file.RequiresPython,
                        MetadataSha256 = file.MetadataSha256,
                        MetadataSize = file.MetadataSize,
                        BuildId = buildId,
                        UploadedAt = now,
                        HasProvenance = file.Provenance is not null,
                        Sboms = file.Sboms,
                    });
                    if (file.Provenance is { } provenance)
                    {
                        db.Provenance.Add(new FileProvenance { Filename = file.Filename, Json = provenance, CreatedAt = now });
                    }
                }

                await db.SaveChangesAsync(cancellationToken);
                if (buildId is { } id && !await lifecycle.PublishedAsync(db, id, project, names, cancellationToken))
                {
                    // Cancelled (tag deleted) or failed while this publication ran: nothing of it may become visible.
                    await transaction.RollbackAsync(CancellationToken.None);
                    db.ChangeTracker.Clear();
                    await DeleteAsync(project, written);
                    return PublishOutcome.BuildEnded;
                }

                await changes.CommitAsync(db, transaction, project, cancellationToken);
            }
            catch (DbUpdateException) when (buildId is null)
            {
                // The same files arrived twice at once from a process the publish lock does not reach (an import beside
                // the embedded server): the unique file name index let one insert through. Identical bytes are success,
                // as for a retry that comes later; anything else is a conflict.
                await transaction.RollbackAsync(CancellationToken.None);
                db.ChangeTracker.Clear();
                var winners = await db.Files.AsNoTracking().Where(f => names.Contains(f.Filename)).ToListAsync(CancellationToken.None);
                if (winners.Count == files.Count && files.All(f => winners.Any(w => w.Filename == f.Filename && w.Sha256 == f.Sha256 && w.DeletedAt is null)))
                {
                    return PublishOutcome.AlreadyPublished;
                }

                throw new PublishConflictException($"File already exists: another upload of {string.Join(", ", names)} with other contents won the race");
            }
            catch when (written.Count > 0)
            {
                // Nothing committed: the bytes this publication stored are nobody's (the lock is still held, so no other
                // publication can be counting on them). A crash here instead leaves them for the next one to replace.
                db.ChangeTracker.Clear();
                await DeleteAsync(project, written);
                throw;
            }
        }

        return created.Count == 0 ? PublishOutcome.AlreadyPublished : PublishOutcome.Published;
    }

    /// <summary>
    /// Removes what an uncommitted publication stored (files and sidecars): no row names them, and the project's publish
    /// lock is still held, so no other publication can be counting on them. A crash instead leaves them for the next
    /// publication of those names to replace.
    /// </summary>
    private async Task DeleteAsync(string project, IEnumerable<string> filenames)
    {
        foreach (var filename in filenames)
        {
            await artifacts.DeleteFileAsync(project, filename, CancellationToken.None);
        }
    }
}

/// <summary>
/// A publish refused: a file name is taken (other bytes) or was deleted, the release breaks a rule (<see cref="ReleaseRules"/>),
/// or the files would take the project over its quota (<see cref="ProjectQuotas"/>); the message says which.
/// </summary>
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
