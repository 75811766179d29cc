using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.RegularExpressions;

namespace Builder.Core.Packaging;

/// <summary>
/// A PEP 440 version specifier: comma-separated clauses that a version must all satisfy
/// (PEP 440 §Version specifiers), such as <c>&gt;=2,&lt;3</c>, <c>~=2.1</c> or <c>==2.*</c>.
/// </summary>
/// <remarks>
/// Matching follows pypa/packaging 26 (<c>SpecifierSet.contains(version, prereleases=True)</c>): pre-releases are
/// never excluded as a class, because this decides which versions a principal may see and "2.x" includes 2.1rc1.
/// The per-operator rules of PEP 440 still apply, so <c>&lt;3</c> excludes 3.0rc1 and <c>&gt;1.7</c> excludes 1.7.post1.
/// </remarks>
public sealed partial class VersionSpecifier
{
    private const string ArbitraryOperator = "===";

    // Longest first, so "===" is not read as "==" and "<=" not as "<".
    private static readonly string[] Operators = [ArbitraryOperator, "~=", "==", "!=", "<=", ">=", "<", ">"];

    // packaging's Specifier regex: a prefix match is a release segment (with optional "v" and epoch) then ".*";
    // PEP 440 §Version matching: "It is invalid to have a prefix match containing a development or local release".
    [GeneratedRegex(@"^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*\z", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ReleaseOnly();

    // The release segment of a normalized version, with its trailing zeros (which Pep440Comparer.Key drops).
    [GeneratedRegex(@"^(?:[0-9]+!)?(?<release>[0-9]+(?:\.[0-9]+)*)", RegexOptions.CultureInvariant)]
    private static partial Regex NormalizedRelease();

    private readonly Clause[] clauses;

    private VersionSpecifier(Clause[] clauses) => this.clauses = clauses;

    /// <summary>
    /// Parses comma-separated clauses such as <c>&gt;=2,&lt;3</c>. Whitespace around clauses and after operators is
    /// allowed; empty text and empty clauses are not (the PEP 440 grammar has no empty clause).
    /// </summary>
    public static bool TryParse(
        string? text,
        [NotNullWhen(true)] out VersionSpecifier? specifier,
        [NotNullWhen(false)] out string? error)
    {
        specifier = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "a version specifier needs at least one clause, such as '>=1.0' (PEP 440 §Version specifiers)";
            return false;
        }

        var parts = text.Split(',');
        var clauses = new Clause[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i].Trim();
            if (part.Length == 0)
            {
                // packaging skips empty clauses; we refuse them so a stray comma in an access rule is noticed.
                error = $"'{text.Trim()}' has an empty clause; clauses are separated by single commas (PEP 440 §Version specifiers)";
                return false;
            }

            if (!TryParseClause(part, out var clause, out error))
            {
                return false;
            }

            clauses[i] = clause;
        }

        specifier = new VersionSpecifier(clauses);
        error = null;
        return true;
    }

    /// <summary>The clauses in the order given, each with its version normalized, joined by ",".</summary>
    public override string ToString() => string.Join(',', clauses.Select(c => c.Text));

    /// <summary>
    /// Whether <paramref name="version"/> (any PEP 440 spelling) satisfies every clause. Pre-releases are allowed;
    /// a string that is not a PEP 440 version matches only through "===".
    /// </summary>
    public bool Contains(string version) => Contains(new ParsedVersion(version));

    /// <inheritdoc cref="Contains(string)"/>
    public bool Contains(ParsedVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        foreach (var clause in clauses)
        {
            if (!clause.Matches(version.Text, version.Key))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseClause(string text, [NotNullWhen(true)] out Clause? clause, [NotNullWhen(false)] out string? error)
    {
        clause = null;
        var op = Operators.FirstOrDefault(o => text.StartsWith(o, StringComparison.Ordinal));
        var version = op is null ? string.Empty : text[op.Length..].TrimStart();
        error = $"'{text}' is not a PEP 440 version specifier clause";
        // Only "===" takes arbitrary text; a version has no inner whitespace ("== 1.0 .*" is not a prefix match).
        if (op is null || version.Length == 0 || (op != ArbitraryOperator && version.Any(char.IsWhiteSpace)))
        {
            return false;
        }

        if (op == ArbitraryOperator)
        {
            // packaging accepts "[^\s;)]*" here. PEP 440 §Arbitrary equality leaves non-ASCII text unspecified,
            // so it is refused rather than matched by some case-folding rule nobody agreed on.
            if (!Ascii.IsValid(version) || version.Any(c => char.IsWhiteSpace(c) || c is ';' or ')'))
            {
                return false;
            }

            clause = new Clause(op, op + version, Version: null, Prefix: null, Arbitrary: version);
            error = null;
            return true;
        }

        if (version.EndsWith(".*", StringComparison.Ordinal))
        {
            return TryParsePrefixClause(text, op, version[..^2], out clause, out error);
        }

        if (!Pep440Version.TryNormalize(version, out var normalized) || Pep440Comparer.Parse(normalized) is not { } parsed)
        {
            return false;
        }

        if (parsed.Local is not null && op is not ("==" or "!="))
        {
            error = $"'{text}' has a local version label, which only '==' and '!=' allow (PEP 440 §Version specifiers)";
            return false;
        }

        string[]? prefix = null;
        if (op == "~=")
        {
            var release = ReleaseOf(normalized);
            if (release.Length < 2)
            {
                error = $"'{text}' needs at least two release segments (PEP 440 §Compatible release)";
                return false;
            }

            // PEP 440 §Compatible release: ~=V.N is >=V.N,==V.*; suffixes are ignored and zeros kept (~=2.2.0 is ==2.2.*).
            prefix = release[..^1];
        }

        clause = new Clause(op, op + normalized, parsed, prefix, Arbitrary: null);
        error = null;
        return true;
    }

    private static bool TryParsePrefixClause(string text, string op, string version, [NotNullWhen(true)] out Clause? clause, [NotNullWhen(false)] out string? error)
    {
        clause = null;
        if (op is not ("==" or "!="))
        {
            error = $"'{text}' uses prefix matching ('.*'), which only '==' and '!=' allow (PEP 440 §Version matching)";
            return false;
        }

        if (!Pep440Version.TryNormalize(version, out var normalized) || Pep440Comparer.Parse(normalized) is not { } parsed)
        {
            error = $"'{text}' is not a PEP 440 version specifier clause";
            return false;
        }

        if (!ReleaseOnly().IsMatch(version))
        {
            error = $"'{text}' puts '.*' after a pre-, post-, development or local segment; a prefix match ends with a release segment (PEP 440 §Version matching)";
            return false;
        }

        clause = new Clause(op, op + normalized + ".*", parsed, ReleaseOf(normalized), Arbitrary: null, IsPrefixMatch: true);
        error = null;
        return true;
    }

    private static string[] ReleaseOf(string normalized) => NormalizedRelease().Match(normalized).Groups["release"].Value.Split('.');

    /// <summary>One clause. Version is null only for "===", whose Arbitrary text is compared as a string.</summary>
    private sealed record Clause(
        string Operator,
        string Text,
        Pep440Comparer.Key? Version,
        string[]? Prefix,
        string? Arbitrary,
        bool IsPrefixMatch = false)
    {
        public bool Matches(string raw, Pep440Comparer.Key? candidate)
        {
            if (Arbitrary is not null)
            {
                // PEP 440 §Arbitrary equality: the raw string, ASCII letters case-insensitive, no normalization
                // ("===1.0" does not match "1.0.0" or "1.0+local"); packaging compares str(item).lower().
                return Ascii.EqualsIgnoreCase(raw, Arbitrary);
            }

            // PEP 440 §Version specifiers: tools SHOULD ignore versions they cannot parse, so no standard operator,
            // not even "!=", matches them (packaging's contains returns False).
            if (candidate is null)
            {
                return false;
            }

            var spec = Version!;
            return Operator switch
            {
                "==" => IsPrefixMatch ? HasPrefix(candidate, spec.Epoch, Prefix!) : IsEqual(candidate, spec),
                "!=" => IsPrefixMatch ? !HasPrefix(candidate, spec.Epoch, Prefix!) : !IsEqual(candidate, spec),
                "~=" => candidate.CompareTo(spec) >= 0 && HasPrefix(candidate, spec.Epoch, Prefix!),
                ">=" => candidate.CompareTo(spec) >= 0,
                // PEP 440 §Version specifiers: local labels of candidates are ignored, so 1.0+local <= 1.0.
                "<=" => (candidate with { Local = null }).CompareTo(spec) <= 0,
                "<" => IsLess(candidate, spec),
                ">" => IsGreater(candidate, spec),
                _ => throw new InvalidOperationException($"Unknown operator '{Operator}'"),
            };
        }

        // PEP 440 §Version matching: zero padding only; a candidate's local label counts only when the clause has one.
        private static bool IsEqual(Pep440Comparer.Key candidate, Pep440Comparer.Key spec) =>
            (spec.Local is null ? candidate with { Local = null } : candidate).CompareTo(spec) == 0;

        // PEP 440 §Version matching, prefix form: the candidate's release, zero padded, starts with the prefix, in the
        // same epoch; everything after the release (pre, post, dev, local) is ignored, so ==1.1.* matches 1.1a1,
        // 1.1.post1 and 1.1.dev1 (packaging: the range [1.1.dev0, 1.2.dev0)).
        private static bool HasPrefix(Pep440Comparer.Key candidate, string epoch, string[] prefix)
        {
            if (!string.Equals(candidate.Epoch, epoch, StringComparison.Ordinal))
            {
                return false;
            }

            for (var i = 0; i < prefix.Length; i++)
            {
                var segment = i < candidate.Release.Count ? candidate.Release[i] : "0";
                if (!string.Equals(segment, prefix[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        // PEP 440 §Exclusive ordered comparison: <V MUST NOT allow a pre-release of V unless V is itself a
        // pre-release. packaging 26 reads "of V" narrowly: <1.0.post1 excludes 1.0.post1.dev0 but admits 1.0rc1,
        // by comparing against V.dev0, the earliest pre-release of V.
        private static bool IsLess(Pep440Comparer.Key candidate, Pep440Comparer.Key spec)
        {
            var isPrerelease = spec.PreLabel >= 0 || spec.Dev is not null;
            return candidate.CompareTo(isPrerelease ? spec : spec with { Dev = "0" }) < 0;
        }

        // PEP 440 §Exclusive ordered comparison: >V MUST NOT allow a post-release of V unless V is itself a
        // post-release, nor a local version of V. As in packaging 26, "of V" means V's own family: >1.0rc1 admits
        // 1.0.post1 (a post-release of 1.0, not of 1.0rc1), and >1.0.dev1 admits 1.0.post0.
        private static bool IsGreater(Pep440Comparer.Key candidate, Pep440Comparer.Key spec)
        {
            if (candidate.CompareTo(spec) <= 0)
            {
                return false;
            }

            if (spec.Dev is not null || spec.Post is not null)
            {
                // Nothing sorts between V.devN (or V.postN) and the next release but V's local versions.
                return (candidate with { Local = null }).CompareTo(spec) != 0;
            }

            // V is a final or pre-release: above it, a candidate with V's epoch, release and pre-release is V+local
            // or a post-release of V (possibly a .dev of one), all excluded.
            return !(string.Equals(candidate.Epoch, spec.Epoch, StringComparison.Ordinal)
                && candidate.Release.SequenceEqual(spec.Release, StringComparer.Ordinal)
                && candidate.PreLabel == spec.PreLabel
                && string.Equals(candidate.PreNumber, spec.PreNumber, StringComparison.Ordinal));
        }
    }
}
