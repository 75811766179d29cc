using Builder.Access;
using Builder.Core.Index;
using Builder.Core.Packaging;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Index;

/// <summary>
/// An admin's changes to a project's settings (its quota, which <see cref="ProjectQuotas"/> applies), each audited in the
/// transaction that makes it.
/// </summary>
public sealed class ProjectSettingsAdmin(BuilderDbContext db, ProjectQuotas quotas, AuditLog audit, TimeProvider time)
{
    /// <summary>
    /// Sets (or with null removes) <paramref name="project"/>'s own quota, audited in the same transaction; a project
    /// need not have published anything yet.
    /// </summary>
    public async Task<QuotaChangeResult> SetQuotaAsync(string project, long? quotaBytes, AuditActor actor, CancellationToken cancellationToken)
    {
        if (!PackageName.IsValid(project))
        {
            return new QuotaChangeResult(null, StatusCodes.Status400BadRequest, $"'{project}' is not a valid project name");
        }

        if (quotaBytes < 0)
        {
            return new QuotaChangeResult(null, StatusCodes.Status400BadRequest, $"\"quotaBytes\" must be a number of bytes, 0 or more, or null for the server's quota (it is {quotaBytes})");
        }

        var normalized = PackageName.Normalize(project);
        var settings = await db.ProjectSettings.SingleOrDefaultAsync(s => s.Project == normalized, cancellationToken);
        var before = settings?.QuotaBytes;
        if (settings is null)
        {
            settings = new ProjectSettings { Project = normalized, UpdatedBy = actor.Principal };
            db.ProjectSettings.Add(settings);
        }

        settings.QuotaBytes = quotaBytes;
        settings.UpdatedBy = actor.Principal;
        settings.UpdatedAt = time.GetUtcNow();
        var server = quotas.ServerQuota is { } serverQuota ? $"{ProjectQuotas.Describe(serverQuota)}, Builder:Storage:ProjectQuotaBytes" : "none: the server sets no quota";
        var now = quotaBytes is { } set ? ProjectQuotas.Describe(set) : $"the server's ({server})";
        var was = before is { } old ? ProjectQuotas.Describe(old) : "the server's";
        audit.Add(db, actor, AuditActions.ProjectQuotaChanged, AuditOutcomes.Ok, normalized, "quota", $"quota {now} (was {was})");
        await db.SaveChangesAsync(cancellationToken);
        return new QuotaChangeResult(await quotas.UsageAsync(normalized, cancellationToken), StatusCodes.Status200OK, null);
    }
}
