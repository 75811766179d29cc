using System.Formats.Tar;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace Builder.Core.Packaging;

/// <summary>A distribution's core metadata, parsed, and the file's bytes as they are (a wheel's METADATA is the PEP 658 sidecar).</summary>
/// <param name="Sboms">A wheel's SBOM files (<see cref="WheelSboms"/>), read from the same archive directory; null for an sdist.</param>
public sealed record DistributionMetadata(CoreMetadata Metadata, byte[] Raw, IReadOnlyList<string>? Sboms = null);

/// <summary>Reads the core metadata out of a built wheel (.dist-info/METADATA) or sdist (PKG-INFO).</summary>
public static class DistributionReader
{
    private const long MaxMetadataBytes = 4 * 1024 * 1024;

    public static async Task<CoreMetadata> ReadMetadataAsync(string path, DistributionFilename filename, CancellationToken cancellationToken) =>
        (await ReadAsync(path, filename, cancellationToken).ConfigureAwait(false)).Metadata;

    public static async Task<DistributionMetadata> ReadAsync(string path, DistributionFilename filename, CancellationToken cancellationToken)
    {
        try
        {
            var (raw, sboms) = filename.Kind == DistributionKind.Wheel ? await ReadWheelMetadataAsync(path, cancellationToken).ConfigureAwait(false)
                : filename.Filename.EndsWith(".zip", StringComparison.Ordinal) ? (await ReadZipSdistMetadataAsync(path, cancellationToken).ConfigureAwait(false), null)
                : (await ReadSdistMetadataAsync(path, cancellationToken).ConfigureAwait(false), null);
            // A byte order mark is not part of the first field name.
            return new DistributionMetadata(CoreMetadata.Parse(Encoding.UTF8.GetString(raw).TrimStart('\uFEFF')), raw, sboms);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new InvalidDistributionException($"{filename.Filename} is not a valid archive: {ex.Message}", ex);
        }
    }

    /// <summary>The wheel's METADATA, and the SBOM names beside it: both from the one archive directory read.</summary>
    private static async Task<(byte[] Metadata, IReadOnlyList<string>? Sboms)> ReadWheelMetadataAsync(string path, CancellationToken cancellationToken)
    {
        using var zip = ZipFile.OpenRead(path);
        // Binary distribution format §The .dist-info directory: exactly one top-level *.dist-info/METADATA.
        var entries = zip.Entries
            .Where(e => e.FullName.EndsWith(".dist-info/METADATA", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
            .ToList();
        if (entries.Count != 1)
        {
            throw new InvalidDistributionException($"{Path.GetFileName(path)} has {entries.Count} top-level .dist-info/METADATA files, expected one");
        }

        var distInfo = entries[0].FullName[..(entries[0].FullName.IndexOf('/', StringComparison.Ordinal) + 1)];
        var sboms = WheelSboms.Find(zip.Entries.Select(e => e.FullName), distInfo);
        return (await ReadEntryAsync(entries[0], cancellationToken).ConfigureAwait(false), sboms);
    }

    /// <summary>Legacy .zip sdists (before PEP 625): {name}-{version}/PKG-INFO at the top.</summary>
    private static async Task<byte[]> ReadZipSdistMetadataAsync(string path, CancellationToken cancellationToken)
    {
        using var zip = ZipFile.OpenRead(path);
        var entry = zip.Entries.FirstOrDefault(e => e.FullName.Split('/') is [_, "PKG-INFO"])
            ?? throw new InvalidDistributionException($"{Path.GetFileName(path)} has no top-level PKG-INFO");
        return await ReadEntryAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The entry's bytes, checked against the size and CRC-32 the archive gives for them. ZipArchive stops at the size the
    /// headers state and checks no CRC: an archive whose stated size is smaller than the entry would read as a cut
    /// METADATA (and a larger one as a short one), published as if whole.
    /// </summary>
    private static async Task<byte[]> ReadEntryAsync(ZipArchiveEntry entry, CancellationToken cancellationToken)
    {
        var bytes = await ReadTextAsync(entry.Open(), entry.Length, cancellationToken).ConfigureAwait(false);
        if (bytes.Length != entry.Length)
        {
            throw new InvalidDistributionException($"{entry.FullName} has {bytes.Length} bytes, but the archive says {entry.Length}");
        }

        var crc = Crc32.HashToUInt32(bytes);
        if (crc != entry.Crc32)
        {
            throw new InvalidDistributionException($"{entry.FullName} does not match its CRC-32 in the archive (CRC-32 {crc:x8}, the archive says {entry.Crc32:x8}): its size or bytes were changed");
        }

        return bytes;
    }

    private static async Task<byte[]> ReadSdistMetadataAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(path);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            // Source distribution format: {name}-{version}/PKG-INFO at the top of the archive.
            var parts = entry.Name.TrimStart('.', '/').Split('/');
            if (parts is [_, "PKG-INFO"] && entry.DataStream is not null)
            {
                return await ReadTextAsync(entry.DataStream, entry.Length, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new InvalidDistributionException($"{Path.GetFileName(path)} has no top-level PKG-INFO");
    }

    private static async Task<byte[]> ReadTextAsync(Stream stream, long length, CancellationToken cancellationToken)
    {
        if (length > MaxMetadataBytes)
        {
            throw new InvalidDistributionException($"core metadata of {length} bytes is larger than the {MaxMetadataBytes} bytes allowed");
        }

        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
    }
}
