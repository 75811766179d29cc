namespace Builder.Core.Configuration;

/// <summary>The health check tag of what a process needs to do its work (<c>GET /readyz</c>): database, storage, Docker.</summary>
public static class HealthTags
{
    public const string Ready = "ready";
}
