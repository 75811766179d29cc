namespace Builder.Index.Upstream;

/// <summary>The <c>kind</c> and <c>outcome</c> labels of the upstream proxy's requests (<see cref="IIndexMetrics.CountUpstreamRequest"/>).</summary>
public static class UpstreamOutcomes
{
    public const string Page = "page";
    public const string File = "file";
    public const string Fetched = "fetched";
    public const string NotModified = "not_modified";
    public const string Missing = "missing";
    public const string Failed = "failed";
    public const string Kept = "kept";
    public const string Refused = "refused";

    /// <summary>Every pair the proxy counts (each series exists from the start, at zero).</summary>
    public static readonly IReadOnlyList<(string Kind, string Outcome)> All =
        [(Page, Fetched), (Page, NotModified), (Page, Missing), (Page, Failed), (File, Kept), (File, Refused), (File, Failed)];
}
