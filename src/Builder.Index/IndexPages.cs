using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Core.Packaging;

namespace Builder.Index;

/// <summary>A rendered response body with its validator.</summary>
public sealed class RenderedPage(byte[] body)
{
    public byte[] Body { get; } = body;

    public string ETag { get; } = "\"" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 12)) + "\"";
}

/// <summary>
/// What the file routes need about one published file, without a database round trip. Every listed file of every
/// cached project has one, so the digests are kept as 32 bytes rather than 64-character strings.
/// </summary>
public sealed class IndexedFile(string filename, string version, string sha256, string? metadataSha256, DateTimeOffset? uploadedAt, bool upstream)
{
    private readonly byte[] _sha256 = Convert.FromHexString(sha256);
    private readonly byte[]? _metadataSha256 = metadataSha256 is null ? null : Convert.FromHexString(metadataSha256);

    public string Filename { get; } = filename;

    /// <summary>The release the file belongs to (normalized), for read rights limited to versions.</summary>
    public string Version { get; } = version;

    /// <summary>Null for an upstream file whose index gave no upload time.</summary>
    public DateTimeOffset? UploadedAt { get; } = uploadedAt;

    /// <summary>Fetched from the upstream index (<see cref="Upstream.UpstreamProxy"/>), not published here.</summary>
    public bool Upstream { get; } = upstream;

    public bool HasMetadata => _metadataSha256 is not null;

    /// <summary>The sha256 of the file, or of its sidecar, in hex.</summary>
    public string Sha256(bool metadata) => Convert.ToHexStringLower(metadata ? _metadataSha256! : _sha256);

    /// <summary>The file's sha256 (or its metadata sidecar's) as a quoted entity tag.</summary>
    public string ETag(bool metadata) => "\"" + Convert.ToHexStringLower(metadata ? _metadataSha256! : _sha256) + "\"";
}

/// <summary>One project's pages in both formats and the files they list.</summary>
public sealed class ProjectPages(RenderedPage html, RenderedPage json, IReadOnlyDictionary<string, IndexedFile> files)
{
    public RenderedPage Html { get; } = html;

    public RenderedPage Json { get; } = json;

    public IReadOnlyDictionary<string, IndexedFile> Files { get; } = files;
}

/// <summary>One file as a project page lists it: published here (<see cref="From(PackageFile)"/>) or proxied from upstream.</summary>
public sealed record IndexEntry(
    string Filename, string Version, string Sha256, string? RequiresPython, bool Yanked, string? YankedReason, string? MetadataSha256,
    long? Size, DateTimeOffset? UploadedAt, bool Upstream = false, bool HasProvenance = false)
{
    public static IndexEntry From(PackageFile file) =>
        new(file.Filename, file.Version, file.Sha256, file.RequiresPython, file.Yanked, file.YankedReason, file.MetadataSha256, file.Size, file.UploadedAt,
            HasProvenance: file.HasProvenance);
}

/// <summary>Renders the simple repository API pages: PEP 503 HTML and PEP 691 JSON with PEP 700, 658/714 and 592 fields.</summary>
public static class IndexPages
{
    /// <summary>PEP 700 is API version 1.1 (versions, size, upload-time); PEP 714's core-metadata keys also belong to 1.1.</summary>
    public const string ApiVersion = "1.1";

    /// <summary>PEP 708 (<c>tracks</c>) is API version 1.2: pages that carry it say so.</summary>
    public const string TracksApiVersion = "1.2";

    public static string FileUrl(string project, string filename) => PublicRoutes.FileFromProjectPage(project, filename);

    public static (RenderedPage Html, RenderedPage Json) RenderRoot(IReadOnlyList<string> projects)
    {
        var html = new StringBuilder(Header("Simple index"));
        foreach (var project in projects)
        {
            var escaped = Escape(project);
            html.Append("<a href=\"").Append(escaped).Append("/\">").Append(escaped).Append("</a><br/>\n");
        }

        html.Append(Footer);

        var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            WriteMeta(writer);
            writer.WriteStartArray("projects");
            foreach (var project in projects)
            {
                writer.WriteStartObject();
                writer.WriteString("name", project);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return (new RenderedPage(Encoding.UTF8.GetBytes(html.ToString())), new RenderedPage(json.ToArray()));
    }

    /// <summary>Renders a project's pages; <paramref name="files"/> are its published, not deleted files.</summary>
    public static ProjectPages RenderProject(string project, IReadOnlyList<PackageFile> files, Uri? publicBase) =>
        RenderProject(project, files.Select(IndexEntry.From).ToList(), tracks: [], publicBase);

    /// <summary>
    /// A file's provenance object (PEP 740): absolute under <c>Builder:PublicUrl</c> (<paramref name="publicBase"/>), as
    /// PEP 740 asks; relative to the project page, like the file links, when that is not set. Null: it has none.
    /// </summary>
    public static string? ProvenanceUrl(string project, IndexEntry file, Uri? publicBase) =>
        !file.HasProvenance ? null
        : publicBase is null ? PublicRoutes.ProvenanceFromProjectPage(project, file.Version, file.Filename)
        : PublicRoutes.Under(publicBase, PublicRoutes.Provenance(project, file.Version, file.Filename)).AbsoluteUri;

    /// <summary>
    /// Renders a project's pages from <paramref name="files"/> (published here, proxied, or both); <paramref name="tracks"/>
    /// are the upstream project pages this project tracks (PEP 708), when it lists upstream files beside its own.
    /// </summary>
    public static ProjectPages RenderProject(string project, IReadOnlyList<IndexEntry> files, IReadOnlyList<string> tracks, Uri? publicBase)
    {
        var ordered = files.OrderBy(f => f.Filename, StringComparer.Ordinal).ToList();
        var apiVersion = tracks.Count > 0 ? TracksApiVersion : ApiVersion;

        var html = new StringBuilder(Header($"Links for {project}", apiVersion, tracks));
        foreach (var file in ordered)
        {
            // Relative to /simple/{project}/, so the index also works below a path prefix.
            html.Append("<a href=\"").Append(Escape(FileUrl(project, file.Filename))).Append("#sha256=").Append(file.Sha256).Append('"');
            if (file.RequiresPython is { } requiresPython)
            {
                // PEP 503: HTML-escaped ("<" becomes "&lt;").
                html.Append(" data-requires-python=\"").Append(Escape(requiresPython)).Append('"');
            }

            if (file.Yanked)
            {
                // PEP 592: present (maybe empty) means yanked; its value is the reason.
                html.Append(" data-yanked=\"").Append(Escape(file.YankedReason ?? string.Empty)).Append('"');
            }

            if (file.MetadataSha256 is { } metadata)
            {
                // PEP 714 renamed PEP 658's attribute; in HTML the old name MAY stay (and must match) for older clients.
                html.Append(" data-core-metadata=\"sha256=").Append(metadata).Append('"');
                html.Append(" data-dist-info-metadata=\"sha256=").Append(metadata).Append('"');
            }

            if (ProvenanceUrl(project, file, publicBase) is { } provenance)
            {
                // PEP 740: the provenance object's URL.
                html.Append(" data-provenance=\"").Append(Escape(provenance)).Append('"');
            }

            html.Append('>').Append(Escape(file.Filename)).Append("</a><br/>\n");
        }

        html.Append(Footer);

        var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            WriteMeta(writer, apiVersion, tracks);
            writer.WriteString("name", project);
            writer.WriteStartArray("versions");
            foreach (var version in ordered.Select(f => f.Version).Distinct(StringComparer.Ordinal).Order(Pep440Comparer.Instance))
            {
                writer.WriteStringValue(version);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("files");
            foreach (var file in ordered)
            {
                writer.WriteStartObject();
                writer.WriteString("filename", file.Filename);
                writer.WriteString("url", FileUrl(project, file.Filename));
                writer.WriteStartObject("hashes");
                writer.WriteString("sha256", file.Sha256);
                writer.WriteEndObject();
                if (file.RequiresPython is { } requiresPython)
                {
                    writer.WriteString("requires-python", requiresPython);
                }

                if (file.Size is { } size)
                {
                    writer.WriteNumber("size", size);
                }

                if (file.UploadedAt is { } uploadedAt)
                {
                    writer.WriteString("upload-time", UploadTime(uploadedAt));
                }

                if (file.Yanked)
                {
                    // PEP 691: a reason string, or true when there is none.
                    if (string.IsNullOrEmpty(file.YankedReason))
                    {
                        writer.WriteBoolean("yanked", true);
                    }
                    else
                    {
                        writer.WriteString("yanked", file.YankedReason);
                    }
                }
                else
                {
                    writer.WriteBoolean("yanked", false);
                }

                // PEP 714: JSON carries only "core-metadata". The old "dist-info-metadata" key makes pip 22.3-23.1
                // fail hard ("TypeError: unhashable type: 'dict'", pypa/pip#12042; seen here with pip 23.0.1).
                if (file.MetadataSha256 is { } metadata)
                {
                    writer.WriteStartObject("core-metadata");
                    writer.WriteString("sha256", metadata);
                    writer.WriteEndObject();
                }
                else
                {
                    writer.WriteBoolean("core-metadata", false);
                }

                // PEP 740: the provenance object's URL, or null.
                writer.WriteString("provenance", ProvenanceUrl(project, file, publicBase));

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var indexed = ordered.ToDictionary(
            f => f.Filename,
            f => new IndexedFile(f.Filename, f.Version, f.Sha256, f.MetadataSha256, f.UploadedAt, f.Upstream),
            StringComparer.Ordinal);
        return new ProjectPages(new RenderedPage(Encoding.UTF8.GetBytes(html.ToString())), new RenderedPage(json.ToArray()), indexed);
    }

    // PEP 700: ISO 8601, UTC, "Z" suffix.
    public static string UploadTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static void WriteMeta(Utf8JsonWriter writer) => WriteMeta(writer, ApiVersion, []);

    private static void WriteMeta(Utf8JsonWriter writer, string apiVersion, IReadOnlyList<string> tracks)
    {
        writer.WriteStartObject("meta");
        writer.WriteString("api-version", apiVersion);
        if (tracks.Count > 0)
        {
            // PEP 708: "tracks" belongs to the meta object in JSON.
            writer.WriteStartArray("tracks");
            foreach (var url in tracks)
            {
                writer.WriteStringValue(url);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static string Header(string title) => Header(title, ApiVersion, []);

    private static string Header(string title, string apiVersion, IReadOnlyList<string> tracks)
    {
        var head = new StringBuilder("<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"").Append(apiVersion).Append("\">\n");
        foreach (var url in tracks)
        {
            head.Append("<meta name=\"pypi:tracks\" content=\"").Append(Escape(url)).Append("\">\n");
        }

        return head.Append("<title>").Append(Escape(title)).Append("</title>\n</head>\n<body>\n<h1>").Append(Escape(title)).Append("</h1>\n").ToString();
    }

    private const string Footer = "</body>\n</html>\n";

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
