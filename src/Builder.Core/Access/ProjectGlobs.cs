using System.Text.RegularExpressions;

namespace Builder.Core.Access;

/// <summary>
/// Which projects a right covers: PEP 503 normalized-name globs (<c>acme-*</c>, <c>pkg-00?</c>) where <c>*</c> is any run
/// of characters and <c>?</c> one; no globs at all means every project. Globs are normalized like names (<c>Acme_*</c>
/// is <c>acme-*</c>), so a right and a project name are always compared in the same spelling.
/// </summary>
public sealed partial class ProjectGlobs : IEquatable<ProjectGlobs>
{
    private readonly Matcher[] _matchers;

    private ProjectGlobs(IReadOnlyList<string> patterns)
    {
        Patterns = patterns;
        _matchers = [.. patterns.Select(Matcher.Create)];
    }

    public static ProjectGlobs All { get; } = new([]);

    /// <summary>The normalized globs, sorted and without duplicates; empty for <see cref="All"/>.</summary>
    public IReadOnlyList<string> Patterns { get; }

    public bool IsAll => Patterns.Count == 0;

    /// <summary>Null or empty means every project; each glob must be a project name with <c>*</c> and <c>?</c> allowed.</summary>
    public static bool TryParse(IEnumerable<string>? globs, out ProjectGlobs result, out string? error)
    {
        result = All;
        error = null;
        var normalized = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var glob in globs ?? [])
        {
            var text = glob?.Trim() ?? string.Empty;
            if (!GlobPattern().IsMatch(text))
            {
                error = $"'{glob}' is not a project glob: use a project name where * matches any characters and ? one (e.g. 'acme-*')";
                return false;
            }

            if (text == "*")
            {
                // "*" alone is every project, whatever else is listed.
                return true;
            }

            normalized.Add(Separators().Replace(text, "-").ToLowerInvariant());
        }

        result = normalized.Count == 0 ? All : new ProjectGlobs([.. normalized]);
        return true;
    }

    /// <summary>Space-separated storage form (as written by <see cref="ToString"/>): empty or null is every project.</summary>
    public static ProjectGlobs FromStored(string? stored) =>
        string.IsNullOrWhiteSpace(stored) ? All
        : TryParse(stored.Split(' ', StringSplitOptions.RemoveEmptyEntries), out var globs, out var error) ? globs
        : throw new FormatException(error);

    /// <summary><paramref name="project"/> is a normalized name.</summary>
    public bool Matches(string project)
    {
        if (_matchers.Length == 0)
        {
            return true;
        }

        foreach (var matcher in _matchers)
        {
            if (matcher.IsMatch(project))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>"*" for every project, else the globs separated by spaces.</summary>
    public override string ToString() => IsAll ? "*" : string.Join(' ', Patterns);

    /// <summary>The storage form: null for every project.</summary>
    public string? ToStored() => IsAll ? null : string.Join(' ', Patterns);

    public bool Equals(ProjectGlobs? other) => other is not null && Patterns.SequenceEqual(other.Patterns, StringComparer.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as ProjectGlobs);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());

    // A project name (PEP 508: letters, digits, '.', '-', '_') in which '*' and '?' may stand for characters.
    [GeneratedRegex(@"^[A-Za-z0-9._*?-]{1,200}\z", RegexOptions.CultureInvariant)]
    private static partial Regex GlobPattern();

    [GeneratedRegex("[-_.]+", RegexOptions.CultureInvariant)]
    private static partial Regex Separators();

    /// <summary>One glob: a literal (the common case: one project), a literal prefix ("acme-*"), or anything else by backtracking-free matching.</summary>
    private sealed class Matcher
    {
        private readonly string _pattern;
        private readonly int _kind; // 0 literal, 1 prefix, 2 general

        private Matcher(string pattern, int kind)
        {
            _pattern = pattern;
            _kind = kind;
        }

        public static Matcher Create(string pattern)
        {
            var wildcards = pattern.IndexOfAny(['*', '?']);
            if (wildcards < 0)
            {
                return new Matcher(pattern, 0);
            }

            return wildcards == pattern.Length - 1 && pattern[^1] == '*'
                ? new Matcher(pattern[..^1], 1)
                : new Matcher(pattern, 2);
        }

        public bool IsMatch(string name) => _kind switch
        {
            0 => string.Equals(name, _pattern, StringComparison.Ordinal),
            1 => name.StartsWith(_pattern, StringComparison.Ordinal),
            _ => Glob.Matches(_pattern, name),
        };
    }
}
