namespace Builder.Core.Access;

public enum PrincipalKind
{
    /// <summary>No credentials: reads only when <c>Builder:Access:AnonymousRead</c> is on.</summary>
    Anonymous,

    /// <summary>The configured bootstrap key, <c>Builder:AdminToken</c>.</summary>
    AdminToken,

    /// <summary>An API token (<c>bld_...</c>).</summary>
    Token,

    /// <summary>A person with their password (local account or directory).</summary>
    Person,

    /// <summary>A build container reading the index through its relay, with its repository's rights.</summary>
    Build,

    /// <summary>The command line on the server (bootstrap without HTTP).</summary>
    CommandLine,

    /// <summary>The configured metrics secret, <c>Builder:Metrics:Token</c>: reads <c>/metrics</c>, nothing else.</summary>
    MetricsToken,
}

/// <summary>Who is asking, and what they may do. <see cref="Id"/> is what the audit log records ("token:12", "person:alice").</summary>
public sealed record Principal(string Id, PrincipalKind Kind, AccessRights Rights)
{
    public static Principal Anonymous(bool anonymousRead) => anonymousRead ? AnonymousReader : AnonymousNobody;

    private static readonly Principal AnonymousReader = new("anonymous", PrincipalKind.Anonymous, AccessRights.ReadAll);
    private static readonly Principal AnonymousNobody = new("anonymous", PrincipalKind.Anonymous, AccessRights.None);

    public static Principal AdminToken { get; } = new("admin-token", PrincipalKind.AdminToken, AccessRights.Administrator);

    /// <summary>Prometheus, with <c>Builder:Metrics:Token</c>: no rights on projects or the API.</summary>
    public static Principal MetricsToken { get; } = new("metrics-token", PrincipalKind.MetricsToken, AccessRights.None);

    /// <summary>May read <c>GET /metrics</c>: admins and the metrics token.</summary>
    public bool MayReadMetrics => Rights.IsAdmin || Kind == PrincipalKind.MetricsToken;

    public long? TokenId { get; init; }

    public long? PersonId { get; init; }

    /// <summary>The web UI session the person signed in with (a person with their session cookie).</summary>
    public long? SessionId { get; init; }

    /// <summary>The person's user name (people, and tokens owned by a person).</summary>
    public string? PersonName { get; init; }

    public bool IsAnonymous => Kind == PrincipalKind.Anonymous;

    /// <summary>
    /// May browse the index at all (its pages, the catalog, the web UI's packages): anyone with credentials, whose rights
    /// then decide what each project shows, and callers without only when <c>Builder:Access:AnonymousRead</c> opens the
    /// index. The one rule: every route and page that says no asks for credentials.
    /// </summary>
    public bool MayBrowse => !IsAnonymous || Rights.ReadsEverything;
}
