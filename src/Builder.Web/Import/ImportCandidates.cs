using System.IO.Enumeration;

namespace Builder.Web.Import;

/// <summary>A file under the import directory that looks like a distribution (by its extension).</summary>
internal sealed record ImportCandidate(string FullPath, string RelativePath)
{
    public string FileName => Path.GetFileName(FullPath);
}

/// <summary>
/// Finds the distribution files under a directory in the layouts teams migrate from: a flat folder (<c>dist/</c>, a
/// pypiserver root), one folder per project (pypiserver), or a static PEP 503 tree (<c>simple/&lt;project&gt;/</c>
/// with index.html pages). Only names ending .whl, .tar.gz or .zip are candidates; index pages and other files are not.
/// Dot-files and dot-directories (<c>.dataset.json</c>, <c>.git</c>) are never looked at, links to directories not followed.
/// </summary>
internal static class ImportCandidates
{
    private static readonly string[] Extensions = [".whl", ".tar.gz", ".zip"];

    /// <summary>The candidates, sorted by relative path (ordinal), so which of two equal names wins is repeatable.</summary>
    /// <exception cref="UnauthorizedAccessException">a directory under <paramref name="root"/> cannot be read: a partial walk would import a subset silently.</exception>
    public static IReadOnlyList<ImportCandidate> Find(string root)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            // On Unix dot-files count as Hidden; we skip them by name below, and skip nothing else by attribute.
            AttributesToSkip = 0,
            IgnoreInaccessible = false,
        };
        var files = new FileSystemEnumerable<string>(root, (ref entry) => entry.ToFullPath(), options)
        {
            // A link to a directory is not followed: it may point back up the tree (endless walk) or to a copy already seen.
            ShouldRecursePredicate = (ref entry) => !IsDotName(entry.FileName) && (entry.Attributes & FileAttributes.ReparsePoint) == 0,
            ShouldIncludePredicate = (ref entry) => !entry.IsDirectory && !IsDotName(entry.FileName) && IsCandidateName(entry.FileName),
        };
        return files
            .Select(path => new ImportCandidate(path, Path.GetRelativePath(root, path)))
            .OrderBy(c => c.RelativePath, StringComparer.Ordinal)
            .ToList();
    }

    private static bool IsDotName(ReadOnlySpan<char> name) => name.Length > 0 && name[0] == '.';

    // Case-insensitive, so that FOO-1.0.WHL is reported as an invalid name rather than passed over in silence.
    private static bool IsCandidateName(ReadOnlySpan<char> name)
    {
        foreach (var extension in Extensions)
        {
            if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
