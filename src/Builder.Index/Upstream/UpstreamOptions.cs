using Builder.Core.Configuration;

namespace Builder.Index.Upstream;

/// <summary>The upstream index proxied for names Builder does not own (<c>Builder:Upstream</c>).</summary>
public sealed class UpstreamOptions : ISelfValidating
{
    public const string SectionName = "Builder:Upstream";

    /// <summary>The upstream's simple API root, e.g. <c>https://pypi.org/simple/</c>; empty: no proxy (the default).</summary>
    public string? Url { get; set; }

    /// <summary>Upstream files younger than this (by upstream's upload-time) are hidden and refused; 0: off.</summary>
    public double MinimumAgeHours { get; set; }

    /// <summary>How long a fetched upstream page is served before it is revalidated (<c>If-None-Match</c>).</summary>
    public int MaxAgeSeconds { get; set; } = 600;

    /// <summary>Whether anonymous readers (<c>Builder:Access:AnonymousRead</c>) may read through the proxy too.</summary>
    public bool AnonymousRead { get; set; }

    /// <summary>How long an upstream request may take to answer (and a download may stall between reads).</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// The most bytes of upstream files (and sidecars) the artifact store keeps: garbage collection removes the least
    /// recently read beyond it. Null: no limit.
    /// </summary>
    public long? CacheBytes { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Url);

    /// <summary>The root with a trailing slash; null when off.</summary>
    public Uri? BaseUri => Enabled ? new Uri(Url!.TrimEnd('/') + "/", UriKind.Absolute) : null;

    public TimeSpan MaxAge => TimeSpan.FromSeconds(MaxAgeSeconds);

    public TimeSpan MinimumAge => TimeSpan.FromHours(MinimumAgeHours);

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    public IEnumerable<string> Problems()
    {
        if (Enabled && !(Uri.TryCreate(Url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.UserInfo)))
        {
            yield return $"Builder:Upstream:Url must be an absolute http(s) URL of a simple index without credentials, like https://pypi.org/simple/ (it is '{Url}')";
        }

        if (MinimumAgeHours is < 0 or > 8760 || double.IsNaN(MinimumAgeHours))
        {
            yield return $"Builder:Upstream:MinimumAgeHours must be between 0 and 8760 (it is {MinimumAgeHours})";
        }

        if (MaxAgeSeconds is < 0 or > 604_800)
        {
            yield return $"Builder:Upstream:MaxAgeSeconds must be between 0 and 604800 (it is {MaxAgeSeconds})";
        }

        if (CacheBytes is < 0)
        {
            yield return $"Builder:Upstream:CacheBytes must be 0 or more (it is {CacheBytes}); leave it unset for no limit";
        }

        if (TimeoutSeconds is < 1 or > 3600)
        {
            yield return $"Builder:Upstream:TimeoutSeconds must be between 1 and 3600 (it is {TimeoutSeconds})";
        }
    }
}
