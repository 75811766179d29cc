namespace Builder.Core.Access;

/// <summary>An API token. The secret itself is never stored: only <see cref="SecretHash"/> (see <see cref="TokenSecret"/>).</summary>
public sealed class ApiToken
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>SHA-256 of the secret, hex; unique.</summary>
    public required string SecretHash { get; set; }

    /// <summary>The first characters of the secret ("bld_3kQ9"), to tell tokens apart in listings.</summary>
    public required string Hint { get; set; }

    /// <summary>Space-separated scopes: read, upload, admin.</summary>
    public required string Scopes { get; set; }

    /// <summary>Space-separated normalized project globs; null: every project.</summary>
    public string? Projects { get; set; }

    /// <summary>A PEP 440 specifier limiting what a read token sees; null: every version.</summary>
    public string? Versions { get; set; }

    /// <summary>Space-separated CIDR ranges the token may be used from; null: anywhere.</summary>
    public string? IpRanges { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>The person the token acts for: it never allows more than they may do at the time of use. Null: a service token.</summary>
    public long? OwnerId { get; set; }

    public Person? Owner { get; set; }

    /// <summary>Who created it, as the audit log names principals ("admin-token", "person:alice", "cli:root").</summary>
    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public string? RevokedBy { get; set; }

    public DateTimeOffset? FirstUsedAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public string? LastUsedFrom { get; set; }

    /// <summary>The trusted publisher whose CI job exchanged its ID token for this token (<c>POST /api/oidc/mint-token</c>); null for others.</summary>
    public long? TrustedPublisherId { get; set; }

    public TrustedPublisher? TrustedPublisher { get; set; }
}

/// <summary>
/// Who may exchange an OpenID Connect ID token for a short-lived Builder token: the CI jobs of one
/// <see cref="Issuer"/> whose claims match <see cref="Claims"/>, and what the minted token may do. Deleting one keeps
/// the row (<see cref="DeletedAt"/>), so the tokens it minted still name it; they are revoked with it.
/// </summary>
public sealed class TrustedPublisher
{
    public long Id { get; set; }

    /// <summary>Unique among the publishers not deleted.</summary>
    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>One of the configured issuers, exactly.</summary>
    public required string Issuer { get; set; }

    /// <summary>JSON object: claim name → glob its value must match (<c>{"repository":"acme/billing","ref":"refs/tags/v*"}</c>).</summary>
    public required string Claims { get; set; }

    /// <summary>What minted tokens may do, stored as tokens store them: space-separated scopes (read, upload).</summary>
    public required string Scopes { get; set; }

    /// <summary>Space-separated normalized project globs; null: every project.</summary>
    public string? Projects { get; set; }

    /// <summary>A PEP 440 specifier limiting what a minted read token sees; null: every version.</summary>
    public string? Versions { get; set; }

    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? DeletedAt { get; set; }

    public string? DeletedBy { get; set; }
}

/// <summary>An ID token exchanged once (issuer and <c>jti</c>): kept until it expires, so a replay is refused by every process.</summary>
public sealed class OidcTokenUse
{
    public required string Issuer { get; set; }

    public required string Jti { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset UsedAt { get; set; }
}

/// <summary>A person: a local account (password hashed here) or someone from the directory, recorded at their first login.</summary>
public sealed class Person
{
    public long Id { get; set; }

    /// <summary>What they log in with; unique.</summary>
    public required string UserName { get; set; }

    /// <summary>"local" or "ldap".</summary>
    public required string Source { get; set; }

    public string? DisplayName { get; set; }

    public string? Email { get; set; }

    /// <summary>Local accounts: ASP.NET Core Identity's PBKDF2 hash (salted, 100,000 iterations or more). Null for directory people.</summary>
    public string? PasswordHash { get; set; }

    /// <summary>Roles as JSON (<c>[{"role":"reader","projects":["acme-*"]}]</c>): set by an admin (local) or mapped from the directory's groups at each refresh.</summary>
    public string Roles { get; set; } = "[]";

    public bool Disabled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }

    public DateTimeOffset? LastLoginAt { get; set; }

    /// <summary>When <see cref="Roles"/> was last read from the directory (directory people).</summary>
    public DateTimeOffset? RolesRefreshedAt { get; set; }
}

/// <summary>
/// One line of the append-only audit log: who did what to what, with what outcome, when and from where. No route
/// updates or deletes these rows, and the database refuses UPDATE and DELETE on the table (a trigger).
/// </summary>
public sealed class AuditEvent
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>"subject:action": token:created, person:login_failed, file:uploaded, webhook:refused, ...</summary>
    public required string Action { get; set; }

    /// <summary>Who: "token:12", "person:alice", "admin-token", "anonymous", "cli:root", "build:7".</summary>
    public required string Principal { get; set; }

    /// <summary>"ok", "refused" or "failed".</summary>
    public required string Outcome { get; set; }

    /// <summary>The normalized project concerned, if any.</summary>
    public string? Project { get; set; }

    /// <summary>What was acted on: "token:12", "file:acme-1.0-py3-none-any.whl", "repository:acme/billing".</summary>
    public string? Target { get; set; }

    /// <summary>A sentence for people (never a secret).</summary>
    public string? Detail { get; set; }

    public string? Address { get; set; }

    public string? UserAgent { get; set; }
}

/// <summary>This installation's identity, made once at the first start (one row).</summary>
public sealed class InstanceIdentity
{
    public int Id { get; set; }

    /// <summary>Part of every token secret, so a token of another instance is refused without a lookup.</summary>
    public long TokenTag { get; set; }

    /// <summary>
    /// Counts changes of who may do what (revocations, changes of people), so every process that caches verified
    /// credentials notices one it was not told about (a command-line revocation, a lost notification) within a second.
    /// </summary>
    public long? AccessSerial { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// A person signed in to the web UI: the browser holds a random secret in a cookie, Builder only its SHA-256
/// (<see cref="SecretHash"/>). Ends at <see cref="ExpiresAt"/> or when the person signs out (<see cref="EndedAt"/>).
/// </summary>
public sealed class PersonSession
{
    public long Id { get; set; }

    public long PersonId { get; set; }

    public Person? Person { get; set; }

    /// <summary>SHA-256 of the cookie's secret, hex; unique.</summary>
    public required string SecretHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Where the sign-in came from (the source address and browser), to tell sessions apart.</summary>
    public string? Address { get; set; }

    public string? UserAgent { get; set; }
}

/// <summary>
/// A key of Builder's provenance signing: its certificate authority (<see cref="Ca"/>, one per installation) or a
/// signing key the CA certified (<see cref="Signing"/>; the newest signs, older ones stay so their certificates are known).
/// The private key is a PKCS#8 document encrypted with Data Protection, like the other secrets.
/// </summary>
public sealed class ProvenanceKey
{
    public const string Ca = "ca";
    public const string Signing = "signing";

    public long Id { get; set; }

    /// <summary><see cref="Ca"/> or <see cref="Signing"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The X.509 certificate, DER.</summary>
    public required byte[] Certificate { get; set; }

    /// <summary>The private key (PKCS#8), protected with Data Protection.</summary>
    public required string ProtectedPrivateKey { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

