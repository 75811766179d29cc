using System.Security.Cryptography;

namespace Builder.Core.Packaging;

/// <summary>A file's SHA-256 as the index writes it: lower-case hex.</summary>
public static class FileHash
{
    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}
