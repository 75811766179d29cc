using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Builder.Index;

/// <summary>How much a project may keep (<c>Builder:Storage:ProjectQuotaBytes</c>; a project's own quota overrides it).</summary>
public sealed class ProjectQuotaOptions
{
    public const string SectionName = "Builder:Storage";

    /// <summary>
    /// The most bytes each project's published files (with their metadata sidecars) may take in the store; unset: no
    /// limit. <c>PATCH /api/projects/{name}</c> sets a project's own.
    /// </summary>
    [Range(0, long.MaxValue, ErrorMessage = "Builder:Storage:ProjectQuotaBytes must be a number of bytes, 0 or more (unset: no quota).")]
    public long? ProjectQuotaBytes { get; set; }
}

/// <summary>Where a project's quota comes from (<see cref="ProjectUsage.QuotaSource"/>).</summary>
public static class QuotaSources
{
    /// <summary>The project's own (<c>PATCH /api/projects/{name}</c>).</summary>
    public const string Project = "project";

    /// <summary>The server's <c>Builder:Storage:ProjectQuotaBytes</c>.</summary>
    public const string Server = "server";
}

/// <summary>
/// A project's published bytes (distribution files and their metadata sidecars: what its keys hold in the store) and
/// files (distributions, not sidecars), with the quota that applies (null: none) and where it comes from
/// (<see cref="QuotaSources"/>; null: none applies).
/// </summary>
public sealed record ProjectUsage(string Project, long Bytes, int Files, long? QuotaBytes, string? QuotaSource)
{
    /// <summary>Whether nothing more fits: the usage has reached the quota.</summary>
    public bool IsFull => QuotaBytes is { } quota && Bytes >= quota;
}

/// <summary>The outcome of setting a project's quota: its usage now, or a status and a sentence saying why not.</summary>
public sealed record QuotaChangeResult(ProjectUsage? Usage, int Status, string? Problem);

/// <summary>
/// The one owner of "how much does a project keep, and may it keep more": usage is counted from the published rows (their
/// sizes are the bytes their keys hold; deleted files' bytes are gone), so it costs one query, never a listing of the
/// store. The publisher asks <see cref="RefusalAsync"/> under the project's publish lock, so two publications at once
/// cannot both fit into the last free bytes; a build's plan asks <see cref="FullRefusalAsync"/> before any container
/// starts.
/// </summary>
public sealed class ProjectQuotas(BuilderDbContext db, IOptions<ProjectQuotaOptions> options)
{
    /// <summary>The usage of <paramref name="project"/> (normalized), with its quota.</summary>
    public Task<ProjectUsage> UsageAsync(string project, CancellationToken cancellationToken) => UsageAsync(db, project, cancellationToken);

    private async Task<ProjectUsage> UsageAsync(BuilderDbContext context, string project, CancellationToken cancellationToken)
    {
        var live = context.Files.AsNoTracking().Where(f => f.Project == project && f.DeletedAt == null);
        var bytes = await live.SumAsync(f => f.Size + (f.MetadataSize ?? 0), cancellationToken);
        var files = await live.CountAsync(cancellationToken);
        var own = await context.ProjectSettings.AsNoTracking().Where(s => s.Project == project).Select(s => s.QuotaBytes).SingleOrDefaultAsync(cancellationToken);
        return Usage(project, bytes, files, own);
    }

    /// <summary>Every project that has published files or settings of its own, the largest first.</summary>
    public async Task<IReadOnlyList<ProjectUsage>> AllAsync(CancellationToken cancellationToken)
    {
        var counted = await db.Files.AsNoTracking().Where(f => f.DeletedAt == null).GroupBy(f => f.Project)
            .Select(g => new { Project = g.Key, Bytes = g.Sum(f => f.Size + (f.MetadataSize ?? 0)), Files = g.Count() })
            .ToListAsync(cancellationToken);
        var settings = await db.ProjectSettings.AsNoTracking().ToDictionaryAsync(s => s.Project, s => s.QuotaBytes, StringComparer.Ordinal, cancellationToken);
        var usage = counted.Select(c => Usage(c.Project, c.Bytes, c.Files, settings.GetValueOrDefault(c.Project))).ToList();
        usage.AddRange(settings.Keys.Where(p => !counted.Any(c => c.Project == p)).Select(p => Usage(p, 0, 0, settings[p])));
        return usage.OrderByDescending(u => u.Bytes).ThenBy(u => u.Project, StringComparer.Ordinal).ToList();
    }

    /// <summary>The quota every project without one of its own has (null: none).</summary>
    public long? ServerQuota => options.Value.ProjectQuotaBytes;

    /// <summary>Bytes of every project's published files (<c>builder_storage_bytes{kind="published"}</c>).</summary>
    public static Task<long> PublishedBytesAsync(BuilderDbContext context, CancellationToken cancellationToken) =>
        context.Files.AsNoTracking().Where(f => f.DeletedAt == null).SumAsync(f => f.Size + (f.MetadataSize ?? 0), cancellationToken);

    private ProjectUsage Usage(string project, long bytes, int files, long? own) =>
        own is { } quota ? new(project, bytes, files, quota, QuotaSources.Project)
        : options.Value.ProjectQuotaBytes is { } server ? new(project, bytes, files, server, QuotaSources.Server)
        : new(project, bytes, files, null, null);

    /// <summary>
    /// Why <paramref name="adding"/> may not be published to <paramref name="project"/>: it would take the project over its
    /// quota (null: it fits, or no quota applies). Asked by the publisher on its own context, under the project's lock.
    /// </summary>
    internal async Task<string?> RefusalAsync(BuilderDbContext context, string project, IReadOnlyList<FileToPublish> adding, CancellationToken cancellationToken)
    {
        if (adding.Count == 0 || (options.Value.ProjectQuotaBytes is null && !await context.ProjectSettings.AnyAsync(s => s.Project == project && s.QuotaBytes != null, cancellationToken)))
        {
            return null;
        }

        var usage = await UsageAsync(context, project, cancellationToken);
        var added = adding.Sum(f => f.Size + (f.MetadataSize ?? 0));
        if (usage.QuotaBytes is not { } quota || usage.Bytes + added <= quota)
        {
            return null;
        }

        var what = adding.Count == 1 ? $"{adding[0].Filename} ({Describe(added)})" : $"these {adding.Count} files ({Describe(added)})";
        return $"Quota exceeded: project '{project}' uses {Describe(usage.Bytes)} of its quota of {DescribeQuota(usage)}; {what} would bring it to {Describe(usage.Bytes + added)}. "
            + "Delete releases it no longer needs, or ask an admin to raise its quota";
    }

    /// <summary>
    /// Why a build of <paramref name="project"/> may not start: the project has already reached its quota, so nothing it
    /// builds could be published (null: there is room, or no quota applies).
    /// </summary>
    public async Task<string?> FullRefusalAsync(string project, CancellationToken cancellationToken)
    {
        var usage = await UsageAsync(project, cancellationToken);
        return usage.IsFull
            ? $"Quota exceeded: project '{project}' uses {Describe(usage.Bytes)} of its quota of {DescribeQuota(usage)}, so nothing more can be published; "
                + "nothing was built. Delete releases it no longer needs, or ask an admin to raise its quota, then build again"
            : null;
    }

    private static string DescribeQuota(ProjectUsage usage) =>
        Describe(usage.QuotaBytes!.Value) + (usage.QuotaSource == QuotaSources.Project ? " (set for the project)" : " (the server's Builder:Storage:ProjectQuotaBytes)");

    /// <summary>A number of bytes as people read it, exact beside a binary unit: "1536 bytes (1.5 KiB)", "12 bytes".</summary>
    public static string Describe(long bytes)
    {
        string[] units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        if (bytes < 1024)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes} {(bytes == 1 ? "byte" : "bytes")}");
        }

        var value = (double)bytes;
        var unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes ({value:0.#} {units[unit]})");
    }
}
