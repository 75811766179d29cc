using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

public sealed class DistributionReaderTests : IDisposable
{
    private const string Metadata = "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nRequires-Python: >=3.9\n\nLong description.\nVersion: 9.9\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("builder-unit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DistributionFilename Name(string filename)
    {
        Assert.True(DistributionFilename.TryParse(filename, out var name));
        return name!;
    }

    private string Wheel(string filename, params (string Path, string Content)[] entries)
    {
        var path = Path.Combine(_dir, filename);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (entryPath, content) in entries)
        {
            using var stream = zip.CreateEntry(entryPath).Open();
            stream.Write(Encoding.UTF8.GetBytes(content));
        }

        return path;
    }

    private string Sdist(string filename, params (string Path, string Content)[] entries)
    {
        var path = Path.Combine(_dir, filename);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (entryPath, content) in entries)
        {
            var top = entryPath.TrimStart('.', '/').Split('/')[0] + "/";
            if (dirs.Add(top))
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, top));
            }

            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entryPath)
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
            });
        }

        return path;
    }

    private string RandomFile(string filename, int length)
    {
        var path = Path.Combine(_dir, filename);
        var bytes = new byte[length];
        new Random(12345).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public async Task Reads_metadata_from_a_wheel()
    {
        const string filename = "pkg-1.0-py3-none-any.whl";
        var path = Wheel(filename,
            ("pkg/__init__.py", "x = 1\n"),
            ("pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n"),
            ("pkg-1.0.dist-info/METADATA", Metadata),
            ("pkg-1.0.dist-info/RECORD", ""));

        var m = await DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None);

        Assert.Equal(new CoreMetadata("pkg", "1.0", ">=3.9"), m);
    }

    [Fact]
    public async Task A_wheel_s_sboms_are_the_files_under_its_dist_info_sboms_directory_and_an_sdist_has_none_read()
    {
        const string filename = "pkg-1.0-cp312-cp312-manylinux_2_28_x86_64.whl";
        var path = Wheel(filename,
            ("pkg/__init__.py", "x = 1\n"),
            ("pkg/sboms/not-one.cdx.json", "{}"),
            ("pkg-1.0.dist-info/METADATA", Metadata),
            ("pkg-1.0.dist-info/sboms/", ""),
            ("pkg-1.0.dist-info/sboms/zlib.spdx.json", "{}"),
            ("pkg-1.0.dist-info/sboms/auditwheel.cdx.json", "{}"),
            ("pkg-1.0.dist-info/sboms/vendor/openssl.cdx.json", "{}"),
            ("pkg-1.0.dist-info/sboms/bad\nname.json", "{}"),
            ("pkg-1.0.dist-info/RECORD", ""));
        var plain = Wheel("pkg-1.0-py3-none-any.whl", ("pkg-1.0.dist-info/METADATA", Metadata));
        var sdist = Sdist("pkg-1.0.tar.gz", ("pkg-1.0/PKG-INFO", Metadata));

        var read = await DistributionReader.ReadAsync(path, Name(filename), CancellationToken.None);

        Assert.Equal(["auditwheel.cdx.json", "vendor/openssl.cdx.json", "zlib.spdx.json"], read.Sboms);
        Assert.Equal("auditwheel.cdx.json\nvendor/openssl.cdx.json\nzlib.spdx.json", WheelSboms.Format(read.Sboms));
        Assert.Equal(read.Sboms, WheelSboms.Parse(WheelSboms.Format(read.Sboms)));
        var none = (await DistributionReader.ReadAsync(plain, Name("pkg-1.0-py3-none-any.whl"), CancellationToken.None)).Sboms;
        Assert.NotNull(none);
        Assert.Empty(none);
        Assert.Equal("", WheelSboms.Format(none));
        Assert.Null((await DistributionReader.ReadAsync(sdist, Name("pkg-1.0.tar.gz"), CancellationToken.None)).Sboms);
        Assert.Null(WheelSboms.Format(null));
        Assert.Empty(WheelSboms.Parse(null));
    }

    [Fact]
    public async Task Wheel_metadata_with_a_byte_order_mark_and_crlf_is_read()
    {
        const string filename = "pkg-1.0-py3-none-any.whl";
        var path = Wheel(filename, ("pkg-1.0.dist-info/METADATA", "\uFEFFName: pkg\r\nVersion: 1.0\r\n\r\n"));

        var m = await DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None);

        Assert.Equal("pkg", m.Name);
        Assert.Equal("1.0", m.Version);
    }

    [Fact]
    public async Task Wheel_without_metadata_is_invalid()
    {
        const string filename = "pkg-1.0-py3-none-any.whl";
        var path = Wheel(filename, ("pkg/__init__.py", ""), ("pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n"));

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Wheel_with_only_a_nested_metadata_is_invalid()
    {
        const string filename = "pkg-1.0-py3-none-any.whl";
        var path = Wheel(filename, ("pkg/_vendor/other-2.0.dist-info/METADATA", "Name: other\nVersion: 2.0\n"));

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Wheel_with_two_dist_info_directories_is_invalid()
    {
        const string filename = "pkg-1.0-py3-none-any.whl";
        var path = Wheel(filename,
            ("pkg-1.0.dist-info/METADATA", Metadata),
            ("other-2.0.dist-info/METADATA", "Name: other\nVersion: 2.0\n"));

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Wheel_whose_metadata_has_no_name_is_invalid()
    {
        const string filename = "pkg-1.0-py3-none-any.whl";
        var path = Wheel(filename, ("pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nVersion: 1.0\n"));

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Oversized_wheel_metadata_is_invalid()
    {
        const string filename = "pkg-1.0-py3-none-any.whl";
        var huge = "Name: pkg\nVersion: 1.0\n\n" + new string('x', (4 * 1024 * 1024) + 1);
        var path = Wheel(filename, ("pkg-1.0.dist-info/METADATA", huge));

        var ex = await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
        Assert.Contains("larger", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(0)]
    public async Task Corrupt_wheel_is_invalid(int length)
    {
        const string filename = "pkg-1.0-py3-none-any.whl";
        var path = RandomFile(filename, length);

        var ex = await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
        Assert.Contains(filename, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_metadata_from_an_sdist()
    {
        const string filename = "pkg-1.0.tar.gz";
        var path = Sdist(filename,
            ("pkg-1.0/pyproject.toml", "[project]\nname = \"pkg\"\n"),
            ("pkg-1.0/PKG-INFO", Metadata),
            ("pkg-1.0/src/pkg/__init__.py", ""));

        var m = await DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None);

        Assert.Equal(new CoreMetadata("pkg", "1.0", ">=3.9"), m);
    }

    [Fact]
    public async Task Sdist_top_level_pkg_info_wins_over_a_nested_one()
    {
        const string filename = "pkg-1.0.tar.gz";
        var path = Sdist(filename,
            ("pkg-1.0/src/pkg.egg-info/PKG-INFO", "Name: pkg\nVersion: 0.0.1\n"),
            ("pkg-1.0/PKG-INFO", Metadata));

        var m = await DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None);

        Assert.Equal("1.0", m.Version);
    }

    [Fact]
    public async Task Sdist_entries_with_a_dot_slash_prefix_are_read()
    {
        const string filename = "pkg-1.0.tar.gz";
        var path = Sdist(filename, ("./pkg-1.0/PKG-INFO", Metadata));

        var m = await DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None);

        Assert.Equal("pkg", m.Name);
    }

    [Fact]
    public async Task Sdist_without_pkg_info_is_invalid()
    {
        const string filename = "pkg-1.0.tar.gz";
        var path = Sdist(filename,
            ("pkg-1.0/setup.py", ""),
            ("pkg-1.0/src/pkg.egg-info/PKG-INFO", Metadata));

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Sdist_with_pkg_info_outside_a_directory_is_invalid()
    {
        const string filename = "pkg-1.0.tar.gz";
        var path = Sdist(filename, ("PKG-INFO", Metadata));

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Corrupt_sdist_is_invalid()
    {
        const string filename = "pkg-1.0.tar.gz";
        var path = RandomFile(filename, 4096);

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Empty_sdist_is_invalid()
    {
        const string filename = "pkg-1.0.tar.gz";
        var path = RandomFile(filename, 0);

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Truncated_sdist_is_invalid()
    {
        const string filename = "pkg-1.0.tar.gz";
        var path = Sdist(filename,
            ("pkg-1.0/README", new string('r', 20_000)),
            ("pkg-1.0/PKG-INFO", Metadata));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Truncated_wheel_is_invalid()
    {
        const string filename = "pkg-1.0-py3-none-any.whl";
        var path = Wheel(filename, ("pkg-1.0.dist-info/METADATA", Metadata), ("pkg/data.txt", new string('d', 20_000)));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Gzip_of_something_that_is_not_a_tar_is_invalid()
    {
        const string filename = "pkg-1.0.tar.gz";
        var path = Path.Combine(_dir, filename);
        var bytes = new byte[4096];
        new Random(54321).NextBytes(bytes);
        using (var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }

        await Assert.ThrowsAsync<InvalidDistributionException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None));
    }

    [Fact]
    public async Task Reads_metadata_from_a_zip_sdist()
    {
        const string filename = "legacy-name-1.0.zip";
        var path = Wheel(filename, ("legacy-name-1.0/PKG-INFO", "Name: legacy-name\nVersion: 1.0\n"));

        var m = await DistributionReader.ReadMetadataAsync(path, Name(filename), CancellationToken.None);

        Assert.Equal("legacy-name", m.Name);
    }

    [Fact]
    public async Task Cancelled_wheel_read_is_cancelled()
    {
        const string filename = "pkg-1.0-py3-none-any.whl";
        var path = Wheel(filename, ("pkg-1.0.dist-info/METADATA", Metadata));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task Cancelled_sdist_read_is_cancelled()
    {
        const string filename = "pkg-1.0.tar.gz";
        var path = Sdist(filename, ("pkg-1.0/PKG-INFO", Metadata));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => DistributionReader.ReadMetadataAsync(path, Name(filename), new CancellationToken(canceled: true)));
    }
}
