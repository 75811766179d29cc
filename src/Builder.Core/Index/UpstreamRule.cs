namespace Builder.Core.Index;

/// <summary>What an upstream rule does to one name (<see cref="UpstreamRule.Kind"/>).</summary>
public static class UpstreamRuleKinds
{
    /// <summary>The name is private though nothing of it is published yet: never fetched from upstream.</summary>
    public const string Reserve = "reserve";

    /// <summary>A private name whose upstream files are listed beside the private ones (PEP 708 <c>tracks</c>).</summary>
    public const string Overlap = "overlap";

    /// <summary>One upstream version shown before <c>Builder:Upstream:MinimumAgeHours</c> passed.</summary>
    public const string Early = "early";
}

/// <summary>An admin's decision about a name on the upstream proxy (table <c>builder_upstream_rules</c>); each one is audited.</summary>
public sealed class UpstreamRule
{
    public long Id { get; set; }

    /// <summary><see cref="UpstreamRuleKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The normalized project name.</summary>
    public required string Project { get; set; }

    /// <summary>The normalized version (<see cref="UpstreamRuleKinds.Early"/> only).</summary>
    public string? Version { get; set; }

    public required string Reason { get; set; }

    /// <summary>Who made it ("person:alice", "admin-token", ...).</summary>
    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
