namespace Builder.Core.Index;

/// <summary>
/// An admin's settings for one project (table <c>builder_project_settings</c>), kept whether or not anything of it is
/// published yet; each change is audited.
/// </summary>
public sealed class ProjectSettings
{
    /// <summary>The normalized project name.</summary>
    public required string Project { get; set; }

    /// <summary>
    /// The most bytes the project's published files (with their metadata sidecars) may take in the store; null: the
    /// server's <c>Builder:Storage:ProjectQuotaBytes</c> applies.
    /// </summary>
    public long? QuotaBytes { get; set; }

    /// <summary>Who changed the settings last ("person:alice", "admin-token", ...).</summary>
    public required string UpdatedBy { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
