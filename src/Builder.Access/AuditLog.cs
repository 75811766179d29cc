using Builder.Core;
using Builder.Core.Access;
using Builder.Data;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Access;

/// <summary>Who acts and from where: the principal's audit name, the client address and user agent (null off HTTP).</summary>
public sealed record AuditActor(string Principal, string? Address, string? UserAgent)
{
    public static AuditActor CommandLine { get; } = new("cli:" + Environment.UserName, null, null);
}

/// <summary>Well-known audit actions, "subject:action".</summary>
public static class AuditActions
{
    public const string TokenCreated = "token:created";
    public const string TokenFirstUsed = "token:first_used";
    public const string TokenRevoked = "token:revoked";
    public const string TokenRefused = "token:refused";
    public const string OidcMinted = "oidc:minted";
    public const string OidcRefused = "oidc:refused";
    public const string TrustedPublisherCreated = "trusted_publisher:created";
    public const string TrustedPublisherDeleted = "trusted_publisher:deleted";
    public const string PersonLogin = "person:login";
    public const string PersonLoginFailed = "person:login_failed";
    public const string PersonSignedIn = "person:signed_in";
    public const string PersonSignedOut = "person:signed_out";
    public const string PersonCreated = "person:created";
    public const string PersonChanged = "person:changed";
    public const string RateLimited = "auth:rate_limited";
    public const string AccessDenied = "access:denied";
    public const string FileUploaded = "file:uploaded";
    public const string UploadRefused = "file:upload_refused";
    public const string ReleaseYanked = "release:yanked";
    public const string ReleaseUnyanked = "release:unyanked";
    public const string FileYanked = "file:yanked";
    public const string FileUnyanked = "file:unyanked";
    public const string ReleaseDeleted = "release:deleted";
    public const string FileDeleted = "file:deleted";
    public const string RepositoryRegistered = "repository:registered";
    public const string RepositoryChanged = "repository:changed";
    public const string WebhookRefused = "webhook:refused";
    public const string BuildRetried = "build:retried";
    public const string ProvenanceKeyRotated = "provenance:key_rotated";
    public const string BuildTriggered = "build:triggered";
    public const string UpstreamAllowed = "upstream:allowed";
    public const string UpstreamReserved = "upstream:reserved";
    public const string UpstreamRuleRemoved = "upstream:rule_removed";
    public const string StorageCollected = "storage:gc";
    public const string ProjectQuotaChanged = "project:quota_changed";
    public const string RetentionPolicyCreated = "retention_policy:created";
    public const string RetentionPolicyDeleted = "retention_policy:deleted";
    public const string RetentionPolicyRun = "retention_policy:run";
}

/// <summary>
/// Appends to the audit log. <see cref="Add"/> puts the event in the caller's unit of work, so the action and its
/// record commit together; <see cref="RecordAsync"/> writes it on its own (refusals, logins, events of no transaction).
/// </summary>
public sealed class AuditLog(IServiceScopeFactory scopes, TimeProvider time)
{
    // Every field may carry what a client or a payload sent (a user name, a repository name, a refused tag): each is cut
    // here, for every caller, so no request grows the append-only log by more than a few kilobytes.
    private const int MaxDetail = 2000;
    private const int MaxUserAgent = 300;
    private const int MaxPrincipal = 300;
    private const int MaxTarget = 600;
    private const int MaxProject = 300;

    public void Add(BuilderDbContext db, AuditActor actor, string action, string outcome, string? project = null, string? target = null, string? detail = null) =>
        db.Audit.Add(Create(actor, action, outcome, project, target, detail));

    public async Task RecordAsync(AuditActor actor, string action, string outcome, string? project = null, string? target = null, string? detail = null, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        db.Audit.Add(Create(actor, action, outcome, project, target, detail));
        await db.SaveChangesAsync(cancellationToken);
    }

    private AuditEvent Create(AuditActor actor, string action, string outcome, string? project, string? target, string? detail) => new()
    {
        At = time.GetUtcNow(),
        Action = action,
        // A user name is whatever a client sent: cut to the column's size (an over-long one is still a 401, not a 500).
        Principal = StoredText.Cut(actor.Principal, MaxPrincipal)!,
        Outcome = outcome,
        Project = StoredText.Cut(project, MaxProject),
        Target = StoredText.Cut(target, MaxTarget),
        Detail = StoredText.Cut(detail, MaxDetail),
        Address = actor.Address,
        UserAgent = StoredText.Cut(actor.UserAgent, MaxUserAgent),
    };
}

public static class AuditOutcomes
{
    public const string Ok = "ok";
    public const string Refused = "refused";
    public const string Failed = "failed";
}
