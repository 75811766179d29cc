using System.ComponentModel.DataAnnotations;
using Builder.Core.Configuration;

namespace Builder.Core.Access;

/// <summary>Who may read and write (<c>Builder:Access</c>).</summary>
public sealed class AccessOptions : ISelfValidating
{
    public const string SectionName = "Builder:Access";

    /// <summary><see cref="People"/> when people's accounts live in LDAP.</summary>
    public const string LdapPeople = "ldap";

    /// <summary>Opens the read routes (index, files, JSON API) to requests without credentials. Off: private by default.</summary>
    public bool AnonymousRead { get; set; }

    /// <summary>Where people's accounts live: <c>local</c> (created by an admin, passwords hashed here) or <c>ldap</c> (<see cref="Ldap"/>).</summary>
    [Required]
    [RegularExpression("^(local|ldap)$", ErrorMessage = "Builder:Access:People must be 'local' or 'ldap'.")]
    public string People { get; set; } = "local";

    /// <summary>Failed authentications one source address may make per <see cref="FailedAuthWindowSeconds"/> before it gets 429.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Builder:Access:FailedAuthLimit must be between 1 and 1000000.")]
    public int FailedAuthLimit { get; set; } = 20;

    [Range(1, 86_400, ErrorMessage = "Builder:Access:FailedAuthWindowSeconds must be between 1 and 86400.")]
    public int FailedAuthWindowSeconds { get; set; } = 60;

    /// <summary>
    /// Addresses or CIDR ranges of reverse proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed
    /// (<c>Builder:Access:KnownProxies:0</c>); from anyone else the connection's own address counts.
    /// </summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>How long a web UI sign-in lasts (the session cookie and its record), from the sign-in on.</summary>
    [Range(1, 720, ErrorMessage = "Builder:Access:SessionHours must be between 1 and 720.")]
    public int SessionHours { get; set; } = 12;

    public LdapOptions Ldap { get; set; } = new();

    public IEnumerable<string> Problems()
    {
        var problems = new List<string>();
        foreach (var proxy in KnownProxies)
        {
            if (!System.Net.IPNetwork.TryParse(proxy, out _) && !System.Net.IPAddress.TryParse(proxy, out _))
            {
                problems.Add($"Builder:Access:KnownProxies names '{proxy}', which is neither an address nor a CIDR range.");
            }
        }

        if (People == LdapPeople)
        {
            var ldap = Ldap;
            if (!Uri.TryCreate(ldap.Url, UriKind.Absolute, out var url) || url.Scheme is not ("ldap" or "ldaps"))
            {
                problems.Add($"Builder:Access:Ldap:Url must be an ldap:// or ldaps:// URL when Builder:Access:People is ldap (got '{ldap.Url}').");
            }

            if (string.IsNullOrWhiteSpace(ldap.UserSearchBase))
            {
                problems.Add("Builder:Access:Ldap:UserSearchBase must name where people's entries are (e.g. ou=people,dc=example,dc=com).");
            }

            if (!ldap.UserFilter.Contains("{0}", StringComparison.Ordinal))
            {
                problems.Add("Builder:Access:Ldap:UserFilter must contain {0}, where the user name goes (e.g. (uid={0})).");
            }

            for (var i = 0; i < ldap.Groups.Count; i++)
            {
                var group = ldap.Groups[i];
                if (string.IsNullOrWhiteSpace(group.Dn))
                {
                    problems.Add($"Builder:Access:Ldap:Groups:{i}:Dn must be a group's DN.");
                }

                if (!Roles.TryNormalize([new RoleGrant(group.Role, group.Projects.Count == 0 ? null : group.Projects)], out _, out var roleProblem))
                {
                    problems.Add($"Builder:Access:Ldap:Groups:{i}: {roleProblem}.");
                }
            }
        }

        return problems;
    }
}

/// <summary>An LDAP / Active Directory server for people's logins (<c>Builder:Access:Ldap</c>).</summary>
public sealed class LdapOptions
{
    public const string SectionName = "Builder:Access:Ldap";

    /// <summary><c>ldap://host:389</c> or <c>ldaps://host:636</c>.</summary>
    public string? Url { get; set; }

    /// <summary>The service account that searches for users and groups (empty: anonymous search).</summary>
    public string? BindDn { get; set; }

    public string? BindPassword { get; set; }

    public string? UserSearchBase { get; set; }

    /// <summary>Finds a user's entry; <c>{0}</c> is the login name, escaped per RFC 4515 (AD: <c>(sAMAccountName={0})</c>).</summary>
    public string UserFilter { get; set; } = "(uid={0})";

    /// <summary>Where groups listing the user (member, uniqueMember, memberUid) are searched; the user's own memberOf counts too.</summary>
    public string? GroupSearchBase { get; set; }

    /// <summary>Group DN → role mappings (<c>Builder:Access:Ldap:Groups:0:Dn</c>, <c>:Role</c>, <c>:Projects:0</c>).</summary>
    public List<LdapGroupMapping> Groups { get; set; } = [];

    /// <summary>How long a successful bind, and the rights it found, are reused before the directory is asked again.</summary>
    [Range(0, 86_400, ErrorMessage = "Builder:Access:Ldap:CacheSeconds must be between 0 and 86400.")]
    public int CacheSeconds { get; set; } = 300;

    /// <summary>Per LDAP operation (connect, bind, search).</summary>
    [Range(1, 600, ErrorMessage = "Builder:Access:Ldap:TimeoutSeconds must be between 1 and 600.")]
    public int TimeoutSeconds { get; set; } = 10;
}

/// <summary>Members of the group <see cref="Dn"/> get <see cref="Role"/> (admin, publisher or reader) over <see cref="Projects"/> (globs; empty = all).</summary>
public sealed class LdapGroupMapping
{
    public string Dn { get; set; } = string.Empty;

    public string Role { get; set; } = string.Empty;

    public List<string> Projects { get; set; } = [];
}
