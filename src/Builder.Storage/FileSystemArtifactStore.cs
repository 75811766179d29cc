using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Core.Packaging;
using Microsoft.Extensions.Options;

namespace Builder.Storage;

/// <summary>Artifacts as files under <c>{DataDir}/files/{project}/{filename}</c>.</summary>
public sealed class FileSystemArtifactStore(IOptions<DataOptions> options) : IArtifactStore
{
    private readonly string _root = Path.Combine(options.Value.FullDataDir, "files");

    public async Task<StoreOutcome> PutAsync(string key, string sourcePath, string sha256, CancellationToken cancellationToken)
    {
        var target = Resolve(key);
        if (File.Exists(target))
        {
            return await FileHash.Sha256Async(target, cancellationToken) == sha256 ? StoreOutcome.AlreadyExists : StoreOutcome.Conflict;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // Atomic: readers never see a partial file. Copy to a temp name beside the target, then rename without overwrite.
        var temp = target + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            await using (var source = File.OpenRead(sourcePath))
            await using (var destination = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await source.CopyToAsync(destination, cancellationToken);
                await destination.FlushAsync(cancellationToken);
            }

            try
            {
                File.Move(temp, target, overwrite: false);
                return StoreOutcome.Created;
            }
            catch (IOException) when (File.Exists(target))
            {
                // Another writer won the race: same bytes are fine, others are a conflict.
                return await FileHash.Sha256Async(target, cancellationToken) == sha256 ? StoreOutcome.AlreadyExists : StoreOutcome.Conflict;
            }
        }
        finally
        {
            File.Delete(temp);
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
