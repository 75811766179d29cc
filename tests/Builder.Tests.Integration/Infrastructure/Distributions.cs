using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>Real, installable distribution files written by the test: a pure wheel (with a module) and an sdist.</summary>
internal static class Distributions
{
    /// <summary>
    /// A METADATA (or PKG-INFO) file. <paramref name="description"/> is the body (the long description, "The long
    /// description." by default) and <paramref name="descriptionContentType"/> its Description-Content-Type.
    /// </summary>
    public static string Metadata(string name, string version, string? requiresPython = null, IEnumerable<string>? requiresDist = null, string summary = "A test package",
        string? description = null, string? descriptionContentType = null)
    {
        var text = new StringBuilder($"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n");
        if (descriptionContentType is not null)
        {
            text.Append("Description-Content-Type: ").Append(descriptionContentType).Append('\n');
        }

        if (requiresPython is not null)
        {
            text.Append("Requires-Python: ").Append(requiresPython).Append('\n');
        }

        foreach (var requirement in requiresDist ?? [])
        {
            text.Append("Requires-Dist: ").Append(requirement).Append('\n');
        }

        return text.Append('\n').Append(description ?? "The long description.\n").ToString();
    }

    /// <summary>
    /// Writes {name}-{version}-py3-none-any.whl into <paramref name="directory"/>; its module says the version. <paramref name="files"/>
    /// adds text files to the wheel (path inside the wheel → content), replacing the default module when it names the same path;
    /// <paramref name="description"/> and <paramref name="descriptionContentType"/> go to its METADATA (see <see cref="Metadata"/>).
    /// </summary>
    public static string Wheel(string directory, string name, string version, string? requiresPython = null, IEnumerable<string>? requiresDist = null, int payloadBytes = 0,
        IReadOnlyDictionary<string, string>? files = null, string summary = "A test package", string? description = null, string? descriptionContentType = null,
        string tag = "py3-none-any")
    {
        var escaped = Escape(name);
        var module = escaped;
        var distInfo = $"{escaped}-{version}.dist-info";
        var entries = new List<(string Path, byte[] Bytes)>
        {
            ($"{module}/__init__.py", Encoding.UTF8.GetBytes($"VERSION = \"{version}\"\n")),
            ($"{module}/payload.bin", RandomNumberGenerator.GetBytes(payloadBytes)),
            ($"{distInfo}/METADATA", Encoding.UTF8.GetBytes(Metadata(name, version, requiresPython, requiresDist, summary, description, descriptionContentType))),
            ($"{distInfo}/WHEEL", Encoding.UTF8.GetBytes($"Wheel-Version: 1.0\nGenerator: builder-tests\nRoot-Is-Purelib: {(tag == "py3-none-any" ? "true" : "false")}\nTag: {tag}\n")),
        };
        foreach (var (path, text) in files ?? new Dictionary<string, string>())
        {
            entries.RemoveAll(e => e.Path == path);
            entries.Add((path, Encoding.UTF8.GetBytes(text)));
        }

        var record = new StringBuilder();
        foreach (var (path, bytes) in entries)
        {
            var hash = Convert.ToBase64String(SHA256.HashData(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            record.Append(path).Append(",sha256=").Append(hash).Append(',').Append(bytes.Length).Append('\n');
        }

        record.Append(distInfo).Append("/RECORD,,\n");
        entries.Add(($"{distInfo}/RECORD", Encoding.UTF8.GetBytes(record.ToString())));

        var path1 = Path.Combine(directory, $"{escaped}-{version}-{tag}.whl");
        using var zip = ZipFile.Open(path1, ZipArchiveMode.Create);
        foreach (var (path, bytes) in entries)
        {
            // Stored, so a payload makes the file as large as asked.
            using var entry = zip.CreateEntry(path, CompressionLevel.NoCompression).Open();
            entry.Write(bytes);
        }

        return path1;
    }

    /// <summary>Writes {name}-{version}.tar.gz with a PKG-INFO into <paramref name="directory"/>.</summary>
    public static string Sdist(string directory, string name, string version, string? requiresPython = null)
    {
        var escaped = Escape(name);
        var path = Path.Combine(directory, $"{escaped}-{version}.tar.gz");
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        var pkgInfo = Encoding.UTF8.GetBytes(Metadata(name, version, requiresPython));
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{escaped}-{version}/PKG-INFO") { DataStream = new MemoryStream(pkgInfo) });
        return path;
    }

    public static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    // Binary distribution format and PEP 625: the normalized name with "-" escaped to "_".
    private static string Escape(string name) => System.Text.RegularExpressions.Regex.Replace(name, "[-_.]+", "_").ToLowerInvariant();
}
