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
/// is kept per file (up to <see cref="MaxEntries"/> files). Views of a file not read yet wait for one read and render
/// (never one each); the render is bounded (<see cref="DescriptionRenderer"/>: size, nesting and time), and a viewer that
/// leaves does not stop it, so the next one finds it done. A read that failed, or found no sidecar, is tried again by the next view.
/// </summary>
public sealed partial class ReleaseMetadata(PackageArtifacts artifacts, IHostApplicationLifetime lifetime, ILogger<ReleaseMetadata> logger)
{
    private const int MaxEntries = 2000;
    private readonly ConcurrentDictionary<string, Lazy<Task<ReleaseInfo?>>> _cache = new(StringComparer.Ordinal);

    /// <returns>Null when no file of the release has a metadata sidecar (an sdist-only release).</returns>
    public async Task<ReleaseInfo?> GetAsync(string project, ReleaseDetail release, CancellationToken cancellationToken)
    {
        foreach (var file in release.Files.Where(f => f.Kind == "wheel"))
        {
            if (await ReadOnceAsync(project, file.Filename).WaitAsync(cancellationToken) is { } info)
            {
                return info;
            }
        }

        return null;
    }

    private Task<ReleaseInfo?> ReadOnceAsync(string project, string filename)
    {
        var key = project + "/" + filename;
        if (!_cache.TryGetValue(key, out var read))
        {
            if (_cache.Count >= MaxEntries)
            {
                _cache.Clear();
            }

            // Lazy: GetOrAdd may call its factory more than once in a race, the Lazy's value is made once. Task.Run: the
            // read and render belong to no request.
            read = _cache.GetOrAdd(key, _ => new Lazy<Task<ReleaseInfo?>>(() => Task.Run(() => ReadAsync(key, project, filename))));
        }

        return read.Value;
    }

    private async Task<ReleaseInfo?> ReadAsync(string key, string project, string filename)
    {
        var keep = false;
        try
        {
            var stopping = lifetime.ApplicationStopping;
            var content = await artifacts.OpenServedAsync(new ServedArtifact(project, filename, Metadata: true), stopping);
            if (content is null)
            {
                return null;
            }

            string text;
            await using (content.Stream)
            {
                using var reader = new StreamReader(content.Stream, Encoding.UTF8);
                text = await reader.ReadToEndAsync(stopping);
            }

            var info = Read(CoreMetadataDocument.Parse(text), project, filename);
            keep = true;
            return info;
        }
        finally
        {
            if (!keep)
            {
                _cache.TryRemove(key, out _);
            }
        }
    }

    private ReleaseInfo Read(CoreMetadataDocument metadata, string project, string filename)
    {
        var description = DescriptionRenderer.Render(metadata.Description, metadata.Get("Description-Content-Type"));
        if (description.Fallback is { } reason)
        {
            LogShownAsText(logger, project, filename, reason);
        }

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
            description.Html,
            metadata.Get("License-Expression") ?? metadata.Get("License"),
            metadata.Get("Requires-Python"),
            metadata.Get("Author") ?? metadata.Get("Author-email"),
            metadata.GetAll("Requires-Dist"),
            links,
            metadata.GetAll("Classifier"));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The description of {Project} ({Filename}) is shown as text: {Reason}")]
    private static partial void LogShownAsText(ILogger logger, string project, string filename, string reason);

    /// <summary>Only http(s) links become links; anything else (javascript:, data:) is shown as text.</summary>
    public static bool IsWebLink(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}
