using System.Collections.Concurrent;
using System.Text;
using Builder.Core.Packaging;
using Builder.Index;
using Builder.Web.Catalog;
using Microsoft.AspNetCore.Html;

namespace Builder.Web.Ui;

/// <summary>What a release's core metadata says about it, for the project page: its summary, the rendered description, links, requirements.</summary>
public sealed record ReleaseInfo(
    string? Summary,
    IHtmlContent Description,
    string? License,
    string? RequiresPython,
    string? Author,
    IReadOnlyList<string> RequiresDist,
    IReadOnlyList<KeyValuePair<string, string>> Links,
    IReadOnlyList<string> Classifiers);

/// <summary>
/// Reads a release's core metadata from the PEP 658 sidecar of one of its wheels (the same bytes
/// <c>/files/.../*.metadata</c> serves) and renders its description once: a file's metadata never changes, so the result
/// is kept per file (up to <see cref="MaxEntries"/> files).
/// </summary>
public sealed class ReleaseMetadata(PackageArtifacts artifacts)
{
    private const int MaxEntries = 2000;
    private readonly ConcurrentDictionary<string, ReleaseInfo> _cache = new(StringComparer.Ordinal);

    /// <returns>Null when no file of the release has a metadata sidecar (an sdist-only release).</returns>
    public async Task<ReleaseInfo?> GetAsync(string project, ReleaseDetail release, CancellationToken cancellationToken)
    {
        foreach (var file in release.Files.Where(f => f.Kind == "wheel"))
        {
            var key = project + "/" + file.Filename;
            if (_cache.TryGetValue(key, out var known))
            {
                return known;
            }

            var content = await artifacts.OpenServedAsync(new ServedArtifact(project, file.Filename, Metadata: true), cancellationToken);
            if (content is null)
            {
                continue;
            }

            string text;
            await using (content.Stream)
            {
                using var reader = new StreamReader(content.Stream, Encoding.UTF8);
                text = await reader.ReadToEndAsync(cancellationToken);
            }

            var info = Read(CoreMetadataDocument.Parse(text));
            if (_cache.Count >= MaxEntries)
            {
                _cache.Clear();
            }

            _cache[key] = info;
            return info;
        }

        return null;
    }

    private static ReleaseInfo Read(CoreMetadataDocument metadata)
    {
        var links = new List<KeyValuePair<string, string>>();
        if (metadata.Get("Home-page") is { Length: > 0 } home)
        {
            links.Add(new("Homepage", home));
        }

        foreach (var entry in metadata.GetAll("Project-URL"))
        {
            var comma = entry.IndexOf(',', StringComparison.Ordinal);
            if (comma > 0)
            {
                links.Add(new(entry[..comma].Trim(), entry[(comma + 1)..].Trim()));
            }
        }

        return new ReleaseInfo(
            metadata.Get("Summary"),
            DescriptionRenderer.Render(metadata.Description, metadata.Get("Description-Content-Type")),
            metadata.Get("License-Expression") ?? metadata.Get("License"),
            metadata.Get("Requires-Python"),
            metadata.Get("Author") ?? metadata.Get("Author-email"),
            metadata.GetAll("Requires-Dist"),
            links,
            metadata.GetAll("Classifier"));
    }

    /// <summary>Only http(s) links become links; anything else (javascript:, data:) is shown as text.</summary>
    public static bool IsWebLink(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}
