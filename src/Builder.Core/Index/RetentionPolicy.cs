namespace Builder.Core.Index;

/// <summary>What a retention policy does to the releases it selects (<see cref="RetentionPolicy.Action"/>).</summary>
public static class RetentionActions
{
    /// <summary>Yank them (PEP 592): installers skip them unless pinned with <c>==</c>.</summary>
    public const string Yank = "yank";

    /// <summary>Yank them, then delete them once <c>Builder:Retention:GraceDays</c> passed since the policy yanked them.</summary>
    public const string Delete = "delete";
}

/// <summary>
/// An admin's rule for old releases (table <c>builder_retention_policies</c>): of each project its globs cover, the
/// releases that are not the newest, not among the newest <see cref="KeepLatest"/>, not matching
/// <see cref="KeepPattern"/> and (when set) pre-releases older than <see cref="PrereleaseDays"/> and older than
/// <see cref="OlderThanDays"/> are yanked, and with <see cref="RetentionActions.Delete"/> deleted after the grace.
/// </summary>
public sealed class RetentionPolicy
{
    public long Id { get; set; }

    /// <summary>The project globs' storage form (<c>ProjectGlobs.ToStored</c>): null for every project.</summary>
    public string? Projects { get; set; }

    public int KeepLatest { get; set; }

    /// <summary>A .NET regular expression matched against the normalized version; a match is always kept.</summary>
    public string? KeepPattern { get; set; }

    public int? PrereleaseDays { get; set; }

    public int? OlderThanDays { get; set; }

    /// <summary><see cref="RetentionActions"/>.</summary>
    public required string Action { get; set; }

    /// <summary>Who made it ("person:alice", "admin-token", ...).</summary>
    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it last ran (on the schedule or on request); the schedule runs it next one period after this (or after <see cref="CreatedAt"/>).</summary>
    public DateTimeOffset? LastRunAt { get; set; }
}

/// <summary>
/// A release a retention policy yanked, and when (table <c>builder_retention_yanks</c>): the grace before the policy deletes
/// it counts from <see cref="YankedAt"/>. Removed with the release's deletion and with its policy.
/// </summary>
public sealed class RetentionYank
{
    public long Id { get; set; }

    public long PolicyId { get; set; }

    /// <summary>The normalized project name.</summary>
    public required string Project { get; set; }

    /// <summary>The normalized version.</summary>
    public required string Version { get; set; }

    public DateTimeOffset YankedAt { get; set; }
}
