using System.Security.Cryptography;
using Builder.Core.Access;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Builder.Access;

/// <summary>The outcome of a sign-in: the cookie's secret (once) and when it ends, or why not (401, 503).</summary>
public sealed record SignInResult(string? Secret, DateTimeOffset ExpiresAt, string? UserName, int Status, string? Problem)
{
    public bool Succeeded => Secret is not null;
}

/// <summary>
/// Web UI sessions: a person signs in with the same account as everywhere (<see cref="PeopleService.LoginAsync"/>: local
/// or directory) and gets a random 256-bit secret for a cookie; only its SHA-256 is stored (<c>builder_sessions</c>).
/// <see cref="CredentialVerifier.VerifySessionAsync"/> turns the secret back into the person's principal with their
/// rights of the moment; signing out ends the record, on every process (the access change is announced).
/// </summary>
public sealed class SessionService(IServiceScopeFactory scopes, PeopleService people, AuditLog audit, AccessChanges changes, IOptions<AccessOptions> options, TimeProvider time)
{
    private const int MaxUserAgent = 300;

    public async Task<SignInResult> SignInAsync(string userName, string password, AuditActor actor, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var personActor = actor with { Principal = "person:" + userName };
        var login = await people.LoginAsync(userName, password, cancellationToken);
        if (!login.Succeeded)
        {
            var unavailable = login.Outcome == DirectoryOutcome.Unavailable;
            await audit.RecordAsync(personActor, AuditActions.PersonLoginFailed, unavailable ? AuditOutcomes.Failed : AuditOutcomes.Refused,
                detail: "web sign-in: " + login.Reason, cancellationToken: cancellationToken);
            return unavailable
                ? new SignInResult(null, now, null, 503, "The directory that checks passwords is unavailable; try again shortly.")
                : new SignInResult(null, now, null, 401, login.Disabled ? "This account is disabled." : "Unknown user name or wrong password.");
        }

        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var session = new PersonSession
        {
            PersonId = login.Person!.Id,
            SecretHash = TokenSecret.Hash(secret),
            CreatedAt = now,
            ExpiresAt = now.AddHours(options.Value.SessionHours),
            Address = actor.Address,
            UserAgent = actor.UserAgent is { Length: > MaxUserAgent } ua ? ua[..MaxUserAgent] : actor.UserAgent,
        };
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        db.Sessions.Add(session);
        audit.Add(db, actor with { Principal = "person:" + login.Person.UserName }, AuditActions.PersonSignedIn, AuditOutcomes.Ok,
            detail: $"web sign-in ({login.Person.Source} account), session until {session.ExpiresAt:yyyy-MM-dd HH:mm} UTC");
        await db.SaveChangesAsync(cancellationToken);
        return new SignInResult(secret, session.ExpiresAt, login.Person.UserName, 200, null);
    }

    /// <summary>Ends the session whose cookie holds <paramref name="secret"/>, on every process; false when there was none.</summary>
    public async Task<bool> SignOutAsync(string secret, AuditActor actor, CancellationToken cancellationToken)
    {
        var hash = TokenSecret.Hash(secret);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var session = await db.Sessions.SingleOrDefaultAsync(s => s.SecretHash == hash && s.EndedAt == null, cancellationToken);
        if (session is null)
        {
            return false;
        }

        session.EndedAt = time.GetUtcNow();
        audit.Add(db, actor, AuditActions.PersonSignedOut, AuditOutcomes.Ok, target: Key(session.Id), detail: "web sign-out");
        await db.SaveChangesAsync(cancellationToken);
        await changes.AnnounceAsync(db, Key(session.Id), cancellationToken);
        return true;
    }

    /// <summary>
    /// Ends every open session of a person in <paramref name="db"/>'s unit of work (saved with the change that ends them:
    /// a password change, a disable or re-enable); returns how many. An ended session never comes back, so a person
    /// enabled again signs in again. Every process drops its cached principal of those sessions through the person's
    /// access change, which the caller announces.
    /// </summary>
    public static async Task<int> EndAllAsync(BuilderDbContext db, long personId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var open = await db.Sessions.Where(s => s.PersonId == personId && s.EndedAt == null && s.ExpiresAt > now).ToListAsync(cancellationToken);
        foreach (var session in open)
        {
            session.EndedAt = now;
        }

        return open.Count;
    }

    /// <summary>How an access change names a session (the cached principal of that session is dropped).</summary>
    public static string Key(long sessionId) => "session:" + sessionId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
