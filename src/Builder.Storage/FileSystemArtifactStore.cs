using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Core.Packaging;
using Microsoft.Extensions.Options;

namespace Builder.Storage;

/// <summary>Artifacts as files under <c>{DataDir}/files/{project}/{filename}</c>.</summary>
public sealed class FileSystemArtifactStore(IOptions<DataOptions> options) : IArtifactStore
{
    private readonly string _root = Path.Combine(options.Value.FullDataDir, "files");

    public async Task<StoreOutcome> PutAsync(string key, Stream content, long length, string sha256, CancellationToken cancellationToken)
    {
        var target = Resolve(key);
        if (File.Exists(target))
        {
            return await FileHash.Sha256Async(target, cancellationToken) == sha256 ? StoreOutcome.AlreadyExists : StoreOutcome.Conflict;
        }

        var temp = await CopyVerifiedAsync(target, content, sha256, cancellationToken);
        try
        {
            // Atomic: readers never see a partial file. Renamed without overwrite: another writer may have won.
            File.Move(temp, target, overwrite: false);
            return StoreOutcome.Created;
        }
        catch (IOException) when (File.Exists(target))
        {
            // Another writer won the race: same bytes are fine, others are a conflict.
            return await FileHash.Sha256Async(target, cancellationToken) == sha256 ? StoreOutcome.AlreadyExists : StoreOutcome.Conflict;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task ReplaceAsync(string key, Stream content, long length, string sha256, CancellationToken cancellationToken)
    {
        var target = Resolve(key);
        var temp = await CopyVerifiedAsync(target, content, sha256, cancellationToken);
        try
        {
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Copies the source beside the target under a temporary name, hashing as it writes; throws when the bytes differ from <paramref name="sha256"/>.</summary>
    private static async Task<string> CopyVerifiedAsync(string target, Stream source, string sha256, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = TemporaryName(target);
        try
        {
            string written;
            await using (var destination = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                written = await FileHash.CopyAsync(source, destination, cancellationToken);
                await destination.FlushAsync(cancellationToken);
            }

            if (!string.Equals(written, sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new IOException($"the bytes written for {Path.GetFileName(target)} have sha256 {written}, not the expected {sha256}; nothing was stored");
            }

            return temp;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// The source is hashed in place (a local read), then linked under the target's name: a second name for the same
    /// bytes, made beside the target and renamed over it, so readers see the old file or the new one, never a part. Where
    /// the file system refuses hard links, the bytes are copied on the disk instead.
    /// </summary>
    public async Task<CopyResult> CopyAsync(string sourceKey, string key, string sha256, CancellationToken cancellationToken)
    {
        var source = Resolve(sourceKey);
        var target = Resolve(key);
        var temp = TemporaryName(target);
        try
        {
            var actual = await FileHash.Sha256Async(source, cancellationToken);
            if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
            {
                return new CopyResult(CopyOutcome.SourceChanged, actual);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (!HardLink.TryCreate(source, temp))
            {
                File.Copy(source, temp);
            }

            File.Move(temp, target, overwrite: true);
            return new CopyResult(CopyOutcome.Copied, actual);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // No source, or it went while it was read or linked (its build ended and dropped what it staged).
            return new CopyResult(CopyOutcome.SourceMissing);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public Task<ArtifactContent?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = Resolve(key);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return Task.FromResult<ArtifactContent?>(null);
        }

        Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
        return Task.FromResult<ArtifactContent?>(new ArtifactContent(stream, info.Length, info.LastWriteTimeUtc));
    }

    public string? LocalPath(string key) => Resolve(key);

    /// <summary>No URL serves these files but Builder's own routes.</summary>
    public Task<Uri?> DownloadUrlAsync(string key, string filename, TimeSpan lifetime, CancellationToken cancellationToken) => Task.FromResult<Uri?>(null);

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) => Task.FromResult(File.Exists(Resolve(key)));

    /// <summary>
    /// Keys are "{directory}/{file}" under the root. Files a write has not renamed into place yet (the temporary names
    /// <see cref="TemporaryName"/> makes) are not objects; nor is anything directly under the root (the readiness probe).
    /// </summary>
    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        if (!Directory.Exists(_root))
        {
            yield break;
        }

        var slash = prefix.IndexOf('/', StringComparison.Ordinal);
        var directoryPrefix = slash < 0 ? prefix : prefix[..slash];
        foreach (var directory in new DirectoryInfo(_root).EnumerateDirectories())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!(slash < 0 ? directory.Name.StartsWith(directoryPrefix, StringComparison.Ordinal) : directory.Name == directoryPrefix))
            {
                continue;
            }

            IEnumerable<FileInfo> files;
            try
            {
                files = directory.EnumerateFiles().ToList();
            }
            catch (DirectoryNotFoundException)
            {
                continue; // a staging directory whose last file went meanwhile
            }

            foreach (var file in files)
            {
                var key = directory.Name + "/" + file.Name;
                if (IsTemporary(file.Name) || !key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                yield return new StoredObject(key, file.Length, file.LastWriteTimeUtc);
            }
        }
    }

    /// <summary>Where a write puts its bytes before it renames them into place: beside the target, never listed.</summary>
    private static string TemporaryName(string target) => target + "." + Guid.NewGuid().ToString("N") + TemporarySuffix;

    private const string TemporarySuffix = ".tmp";

    private static bool IsTemporary(string name) =>
        name.EndsWith(TemporarySuffix, StringComparison.Ordinal) && name.Length > 33 + TemporarySuffix.Length
        && name[^(33 + TemporarySuffix.Length)] == '.' && name[^(32 + TemporarySuffix.Length)..^TemporarySuffix.Length].All(char.IsAsciiHexDigitLower);

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = Resolve(key);
        if (File.Exists(path))
        {
            File.Delete(path);
        }

        // Staging directories are per build: the last file out takes the directory with it.
        var directory = Path.GetDirectoryName(path)!;
        if (Path.GetFileName(directory).StartsWith('_') && Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
        {
            try
            {
                Directory.Delete(directory);
            }
            catch (IOException)
            {
                // Another part staged a file meanwhile: the directory stays for it.
            }
        }

        return Task.CompletedTask;
    }

    public async Task<string?> ReadinessProblemAsync(CancellationToken cancellationToken)
    {
        var probe = Path.Combine(_root, $".ready-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(_root);
            await File.WriteAllBytesAsync(probe, [], cancellationToken);
            File.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"{_root} cannot be written: {ex.Message}";
        }
    }

    /// <summary>Maps a key to a path, refusing anything that would leave the root (path traversal guard).</summary>
    private string Resolve(string key)
    {
        var parts = key.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p is "." or ".." || p.IndexOfAny(['\\', '\0']) >= 0))
        {
            throw new ArgumentException($"artifact key '{key}' must be 'project/filename'", nameof(key));
        }

        var full = Path.GetFullPath(Path.Combine(_root, parts[0], parts[1]));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"artifact key '{key}' leaves the store", nameof(key));
        }

        return full;
    }
}
