using System.Text;
using Builder.Core.Packaging;

namespace Builder.Core.Access;

/// <summary>What a right allows: reading the index, uploading files, or everything (admin).</summary>
public enum AccessScope
{
    Read,
    Upload,
    Admin,
}

public static class AccessScopes
{
    /// <summary>The names used in the API, configuration and storage.</summary>
    public static string Name(AccessScope scope) => scope switch
    {
        AccessScope.Read => "read",
        AccessScope.Upload => "upload",
        _ => "admin",
    };

    public static bool TryParse(string? text, out AccessScope scope)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "read":
                scope = AccessScope.Read;
                return true;
            case "upload":
                scope = AccessScope.Upload;
                return true;
            case "admin":
                scope = AccessScope.Admin;
                return true;
            default:
                scope = default;
                return false;
        }
    }
}

/// <summary>One right: a scope over some projects; a read right may be limited to versions matching a PEP 440 specifier.</summary>
public sealed record Grant(AccessScope Scope, ProjectGlobs Projects, VersionSpecifier? Versions = null)
{
    public override string ToString() =>
        AccessScopes.Name(Scope) + ":" + Projects + (Versions is null ? string.Empty : ":" + Versions);
}

/// <summary>
/// What a principal may read of one project: nothing, every version, or the versions that satisfy every one of
/// <see cref="Clauses"/> (each clause: at least one of its specifiers), which is what a token's version limit and its
/// owner's rights together leave.
/// </summary>
public sealed class ReadAccess
{
    private ReadAccess(bool any, IReadOnlyList<IReadOnlyList<VersionSpecifier>> clauses)
    {
        Any = any;
        Clauses = clauses;
        Key = any ? (clauses.Count == 0 ? "*" : string.Join("&", clauses.Select(c => string.Join("|", c.Select(s => s.ToString()))))) : "-";
    }

    public static ReadAccess None { get; } = new(false, []);

    public static ReadAccess Everything { get; } = new(true, []);

    /// <summary>False: the project is invisible (404 on every route that names it).</summary>
    public bool Any { get; }

    /// <summary>True when every version is visible (no filtering needed).</summary>
    public bool IsEverything => Any && Clauses.Count == 0;

    public IReadOnlyList<IReadOnlyList<VersionSpecifier>> Clauses { get; }

    /// <summary>Identifies the filter ("*" everything, "-" nothing): pages filtered by equal keys are equal.</summary>
    public string Key { get; }

    public static ReadAccess Only(IReadOnlyList<VersionSpecifier> anyOf) => anyOf.Count == 0 ? None : new(true, [anyOf]);

    public bool Allows(string version) => IsEverything || (Any && Allows(new ParsedVersion(version)));

    /// <inheritdoc cref="Allows(string)"/>
    public bool Allows(ParsedVersion version)
    {
        if (!Any)
        {
            return false;
        }

        foreach (var clause in Clauses)
        {
            var matched = false;
            foreach (var specifier in clause)
            {
                if (specifier.Contains(version))
                {
                    matched = true;
                    break;
                }
            }

            if (!matched)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>What both allow.</summary>
    public ReadAccess And(ReadAccess other) =>
        !Any || !other.Any ? None
        : IsEverything ? other
        : other.IsEverything ? this
        : new ReadAccess(true, [.. Clauses, .. other.Clauses]);
}

/// <summary>
/// The one answer to "may this principal read project X (which versions), upload to it, administer Builder". Every
/// route, the listing filter and the index relay ask this instead of re-deriving it. A set of grants, optionally
/// bounded by another set (a token never allows more than its owner may do now: checked at each use, like a caveat).
/// </summary>
public sealed class AccessRights
{
    private readonly Grant[] _grants;
    private readonly AccessRights? _bound;

    public AccessRights(IEnumerable<Grant> grants, AccessRights? bound = null)
    {
        _grants = [.. grants.OrderBy(g => g.ToString(), StringComparer.Ordinal)];
        _bound = bound;
        IsAdmin = _grants.Any(g => g.Scope == AccessScope.Admin) && (bound?.IsAdmin ?? true);
        ReadsEverything = IsAdmin || (_grants.Any(g => g.Scope == AccessScope.Read && g.Projects.IsAll && g.Versions is null) && (bound?.ReadsEverything ?? true));
        MayUploadSomewhere = IsAdmin || (_grants.Any(g => g.Scope == AccessScope.Upload) && (bound?.MayUploadSomewhere ?? true));
        var key = new StringBuilder();
        key.AppendJoin(';', _grants.Where(g => g.Scope != AccessScope.Upload).Select(g => g.ToString()));
        if (bound is not null)
        {
            key.Append(" within (").Append(bound.ReadKey).Append(')');
        }

        ReadKey = ReadsEverything ? "*" : key.ToString();
    }

    public static AccessRights None { get; } = new([]);

    public static AccessRights Administrator { get; } = new([new Grant(AccessScope.Admin, ProjectGlobs.All)]);

    public static AccessRights ReadAll { get; } = new([new Grant(AccessScope.Read, ProjectGlobs.All)]);

    public IReadOnlyList<Grant> Grants => _grants;

    public AccessRights? Bound => _bound;

    public bool IsAdmin { get; }

    /// <summary>Every version of every project: the fast path (the unfiltered, cached pages).</summary>
    public bool ReadsEverything { get; }

    /// <summary>Whether any upload could be allowed: a principal without it is refused before its upload is received.</summary>
    public bool MayUploadSomewhere { get; }

    /// <summary>Identifies what <see cref="Read"/> answers for every project: principals with equal keys see the same index.</summary>
    public string ReadKey { get; }

    public ReadAccess Read(string project)
    {
        if (ReadsEverything)
        {
            return ReadAccess.Everything;
        }

        var access = OwnRead(project);
        return _bound is null || !access.Any ? access : access.And(_bound.Read(project));
    }

    public bool CanRead(string project, string version) => Read(project).Allows(version);

    /// <summary>
    /// Whether a build (its status, log, events, its row in listings) is visible: admins see every build; others the
    /// builds of releases they may read. A build that names no project and version yet (not planned, or failed before
    /// publishing) is for admins only. A build the principal may not see does not exist for them (404).
    /// </summary>
    public bool CanSeeBuild(string? project, string? version) =>
        IsAdmin || (project is not null && version is not null && CanRead(project, version));

    public bool CanUpload(string project) =>
        IsAdmin || (_grants.Any(g => g.Scope == AccessScope.Upload && g.Projects.Matches(project)) && (_bound?.CanUpload(project) ?? true));

    private ReadAccess OwnRead(string project)
    {
        List<VersionSpecifier>? filters = null;
        foreach (var grant in _grants)
        {
            if (grant.Scope == AccessScope.Upload || !grant.Projects.Matches(project))
            {
                continue;
            }

            if (grant.Scope == AccessScope.Admin || grant.Versions is null)
            {
                return ReadAccess.Everything;
            }

            (filters ??= []).Add(grant.Versions);
        }

        return filters is null ? ReadAccess.None : ReadAccess.Only(filters);
    }

    public override string ToString() => string.Join("; ", _grants.Select(g => g.ToString())) + (_bound is null ? string.Empty : " within (" + _bound + ")");
}
