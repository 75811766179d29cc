using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Core.Packaging;

namespace Builder.Web.Index;

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
public sealed class IndexedFile(string filename, string version, string sha256, string? metadataSha256, DateTimeOffset uploadedAt)
{
    private readonly byte[] _sha256 = Convert.FromHexString(sha256);
    private readonly byte[]? _metadataSha256 = metadataSha256 is null ? null : Convert.FromHexString(metadataSha256);

    public string Filename { get; } = filename;

    /// <summary>The release the file belongs to (normalized), for read rights limited to versions.</summary>
    public string Version { get; } = version;

    public DateTimeOffset UploadedAt { get; } = uploadedAt;

    public bool HasMetadata => _metadataSha256 is not null;

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

/// <summary>Renders the simple repository API pages: PEP 503 HTML and PEP 691 JSON with PEP 700, 658/714 and 592 fields.</summary>
public static class IndexPages
{
    /// <summary>PEP 700 is API version 1.1 (versions, size, upload-time); PEP 714's core-metadata keys also belong to 1.1.</summary>
    public const string ApiVersion = "1.1";

    public static string FileUrl(string project, string filename) => $"../../files/{project}/{Uri.EscapeDataString(filename)}";

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
    public static ProjectPages RenderProject(string project, IReadOnlyList<PackageFile> files)
    {
        var ordered = files.OrderBy(f => f.Filename, StringComparer.Ordinal).ToList();

        var html = new StringBuilder(Header($"Links for {project}"));
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

            html.Append('>').Append(Escape(file.Filename)).Append("</a><br/>\n");
        }

        html.Append(Footer);

        var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            WriteMeta(writer);
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

                writer.WriteNumber("size", file.Size);
                writer.WriteString("upload-time", UploadTime(file.UploadedAt));
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

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var indexed = ordered.ToDictionary(
            f => f.Filename,
            f => new IndexedFile(f.Filename, f.Version, f.Sha256, f.MetadataSha256, f.UploadedAt),
            StringComparer.Ordinal);
        return new ProjectPages(new RenderedPage(Encoding.UTF8.GetBytes(html.ToString())), new RenderedPage(json.ToArray()), indexed);
    }

    // PEP 700: ISO 8601, UTC, "Z" suffix.
    public static string UploadTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static void WriteMeta(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("meta");
        writer.WriteString("api-version", ApiVersion);
        writer.WriteEndObject();
    }

    private static string Header(string title) =>
        $"<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"{ApiVersion}\">\n<title>{Escape(title)}</title>\n</head>\n<body>\n<h1>{Escape(title)}</h1>\n";

    private const string Footer = "</body>\n</html>\n";

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
