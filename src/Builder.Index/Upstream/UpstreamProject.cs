using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Builder.Core.Packaging;

namespace Builder.Index.Upstream;

/// <summary>One file an upstream project page lists, with what Builder keeps of it.</summary>
public sealed record UpstreamFile(
    string Filename, string Version, Uri Url, string Sha256, string? RequiresPython, bool Yanked, string? YankedReason,
    long? Size, DateTimeOffset? UploadTime, string? MetadataSha256);

/// <summary>An upstream project page, parsed: its usable files (a sha256, a wheel or sdist name) and versions.</summary>
public sealed class UpstreamProject(Uri pageUrl, IReadOnlyList<UpstreamFile> files, IReadOnlyList<string> versions)
{
    /// <summary>The page's own URL (PEP 708 <c>tracks</c> points here).</summary>
    public Uri PageUrl { get; } = pageUrl;

    public IReadOnlyList<UpstreamFile> Files { get; } = files;

    /// <summary>PEP 700's versions list (JSON pages); empty for HTML pages.</summary>
    public IReadOnlyList<string> Versions { get; } = versions;
}

/// <summary>
/// Reads upstream project pages: PEP 691 JSON, or PEP 503 HTML for indexes that only speak that. A file without a
/// sha256 (Builder could not verify what it fetched) or whose name is not a wheel or sdist of the project is left out.
/// </summary>
public static partial class UpstreamPageParser
{
    [GeneratedRegex(@"<a\s([^>]*)>(.*?)</a\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex Anchor();

    [GeneratedRegex(@"([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*(?:=\s*(?:""([^""]*)""|'([^']*)'|([^\s""'=<>`]+)))?", RegexOptions.CultureInvariant)]
    private static partial Regex Attribute();

    [GeneratedRegex(@"^[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Hex();

    public static UpstreamProject Parse(string project, Uri pageUrl, string? mediaType, byte[] body)
    {
        var json = mediaType is not null && mediaType.Contains("json", StringComparison.OrdinalIgnoreCase);
        return json ? ParseJson(project, pageUrl, body) : ParseHtml(project, pageUrl, System.Text.Encoding.UTF8.GetString(body));
    }

    public static UpstreamProject ParseJson(string project, Uri pageUrl, byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var files = new List<UpstreamFile>();
        if (root.TryGetProperty("files", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in list.EnumerateArray())
            {
                var filename = String(entry, "filename");
                var url = String(entry, "url");
                var sha256 = entry.TryGetProperty("hashes", out var hashes) && hashes.ValueKind == JsonValueKind.Object ? String(hashes, "sha256") : null;
                var (yanked, reason) = entry.TryGetProperty("yanked", out var y) ? y.ValueKind switch
                {
                    JsonValueKind.True => (true, null),
                    JsonValueKind.String => (true, y.GetString()),
                    _ => (false, (string?)null),
                } : (false, null);
                long? size = entry.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var n) ? n : null;
                DateTimeOffset? uploaded = String(entry, "upload-time") is { } time && DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
                var metadata = MetadataHash(entry, "core-metadata") ?? MetadataHash(entry, "dist-info-metadata");
                Add(files, project, pageUrl, filename, url, sha256, String(entry, "requires-python"), yanked, reason, size, uploaded, metadata);
            }
        }

        var versions = root.TryGetProperty("versions", out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
            : [];
        return new UpstreamProject(pageUrl, files, versions);
    }

    public static UpstreamProject ParseHtml(string project, Uri pageUrl, string html)
    {
        var files = new List<UpstreamFile>();
        foreach (Match anchor in Anchor().Matches(html))
        {
            var attributes = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (Match attribute in Attribute().Matches(anchor.Groups[1].Value))
            {
                var value = attribute.Groups[2].Success ? attribute.Groups[2].Value : attribute.Groups[3].Success ? attribute.Groups[3].Value : attribute.Groups[4].Success ? attribute.Groups[4].Value : null;
                attributes.TryAdd(attribute.Groups[1].Value, value is null ? null : WebUtility.HtmlDecode(value));
            }

            if (!attributes.TryGetValue("href", out var href) || href is null)
            {
                continue;
            }

            var fragment = href.IndexOf('#');
            string? sha256 = null;
            if (fragment >= 0)
            {
                var hash = href[(fragment + 1)..];
                sha256 = hash.StartsWith("sha256=", StringComparison.Ordinal) ? hash["sha256=".Length..] : null;
                href = href[..fragment];
            }

            var filename = Uri.UnescapeDataString(href[(href.LastIndexOf('/') + 1)..]);
            var yanked = attributes.TryGetValue("data-yanked", out var reason);
            var metadata = attributes.TryGetValue("data-core-metadata", out var core) ? core : attributes.GetValueOrDefault("data-dist-info-metadata");
            var metadataSha256 = metadata is not null && metadata.StartsWith("sha256=", StringComparison.Ordinal) ? metadata["sha256=".Length..] : null;
            attributes.TryGetValue("data-requires-python", out var requiresPython);
            Add(files, project, pageUrl, filename, href, sha256, requiresPython, yanked, string.IsNullOrEmpty(reason) ? null : reason, null, null, metadataSha256);
        }

        return new UpstreamProject(pageUrl, files, []);
    }

    private static void Add(
        List<UpstreamFile> files, string project, Uri pageUrl, string? filename, string? url, string? sha256, string? requiresPython, bool yanked,
        string? yankedReason, long? size, DateTimeOffset? uploaded, string? metadataSha256)
    {
        sha256 = sha256?.ToLowerInvariant();
        metadataSha256 = metadataSha256?.ToLowerInvariant();
        if (filename is null || url is null || sha256 is null || !Sha256Hex().IsMatch(sha256)
            || !DistributionFilename.TryParse(filename, out var parsed) || parsed!.NormalizedName != project
            || !Uri.TryCreate(pageUrl, url, out var absolute) || absolute.Scheme is not ("http" or "https"))
        {
            return;
        }

        files.Add(new UpstreamFile(filename, parsed.Version, absolute, sha256, string.IsNullOrWhiteSpace(requiresPython) ? null : requiresPython, yanked, yankedReason,
            size, uploaded, metadataSha256 is not null && Sha256Hex().IsMatch(metadataSha256) ? metadataSha256 : null));
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // PEP 714/658: false, true (no hash: not verifiable, so not served) or {"sha256": ...}.
    private static string? MetadataHash(JsonElement entry, string name) =>
        entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? String(value, "sha256") : null;
}
