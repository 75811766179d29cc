using Builder.Access;
using Builder.Core.Builds;
using Builder.Core.Packaging;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Index;

public sealed record FilesChanged(string Project, IReadOnlyList<string> Files);

/// <summary>The outcome of an admin action on published files: what changed, or a status and a sentence saying why not.</summary>
public sealed record FilesChangeResult(FilesChanged? Changed, int Status, string? Problem);

/// <summary>
/// Yank, unyank and delete published files (a release's, or one): the one implementation behind the admin routes and
/// the project page's buttons. Each change is audited and reaches the index before it returns.
/// </summary>
public sealed class ReleaseAdmin(BuilderDbContext db, AuditLog audit, PackageArtifacts artifacts, ProjectChanges changes, TimeProvider time)
{
    public async Task<FilesChangeResult> SetYankedAsync(
        string project, string? version, string? filename, bool yanked, string? reason, AuditActor actor, CancellationToken cancellationToken)
    {
        var (normalized, files, problem) = await FindAsync(project, version, filename, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        foreach (var file in files)
        {
            file.Yanked = yanked;
            file.YankedReason = yanked && !string.IsNullOrWhiteSpace(reason) ? reason.Trim() : null;
        }

        var action = (version is not null, yanked) switch
        {
            (true, true) => AuditActions.ReleaseYanked,
            (true, false) => AuditActions.ReleaseUnyanked,
            (false, true) => AuditActions.FileYanked,
            _ => AuditActions.FileUnyanked,
        };
        audit.Add(db, actor, action, AuditOutcomes.Ok, normalized, Target(version, filename),
            string.Join(' ', files.Select(f => f.Filename)) + (yanked && !string.IsNullOrWhiteSpace(reason) ? $" (reason: {reason.Trim()})" : string.Empty));
        await changes.SaveAsync(db, normalized, cancellationToken);
        return new FilesChangeResult(new FilesChanged(normalized, files.Select(f => f.Filename).ToList()), StatusCodes.Status200OK, null);
    }

    /// <summary>Deletes files: their bytes go, their rows stay as tombstones so the names can never be used again.</summary>
    public async Task<FilesChangeResult> DeleteAsync(string project, string? version, string? filename, AuditActor actor, CancellationToken cancellationToken)
    {
        var (normalized, files, problem) = await FindAsync(project, version, filename, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var now = time.GetUtcNow();
        foreach (var file in files)
        {
            file.DeletedAt = now;
        }

        audit.Add(db, actor, version is not null ? AuditActions.ReleaseDeleted : AuditActions.FileDeleted, AuditOutcomes.Ok, normalized,
            Target(version, filename), string.Join(' ', files.Select(f => f.Filename)));

        // Leave the index first, then remove the bytes: a reader never finds a listed file without its bytes.
        await changes.SaveAsync(db, normalized, cancellationToken);
        foreach (var file in files)
        {
            await artifacts.DeleteFileAsync(normalized, file.Filename, cancellationToken);
        }

        return new FilesChangeResult(new FilesChanged(normalized, files.Select(f => f.Filename).ToList()), StatusCodes.Status200OK, null);
    }

    private static string Target(string? version, string? filename) => version is not null ? "release:" + version : "file:" + filename;

    private async Task<(string Project, List<PackageFile> Files, FilesChangeResult? Problem)> FindAsync(
        string project, string? version, string? filename, CancellationToken cancellationToken)
    {
        var normalized = PackageName.Normalize(project);
        if (version is not null && !Pep440Version.TryNormalize(version, out _))
        {
            return (normalized, [], new FilesChangeResult(null, StatusCodes.Status400BadRequest, $"'{version}' is not a PEP 440 version"));
        }

        var query = db.Files.Where(f => f.Project == normalized && f.DeletedAt == null);
        if (filename is not null)
        {
            query = query.Where(f => f.Filename == filename);
        }

        // PEP 440 equality, not spelling: "1.0" names the release published as "1.0.0".
        var files = (await query.ToListAsync(cancellationToken))
            .Where(f => version is null || Pep440Comparer.Instance.Compare(f.Version, version) == 0)
            .ToList();
        if (files.Count == 0)
        {
            var what = filename is not null ? $"file '{filename}'" : $"release {version}";
            return (normalized, files, new FilesChangeResult(null, StatusCodes.Status404NotFound, $"project '{normalized}' has no {what}"));
        }

        return (normalized, files, null);
    }
}
