using Builder.Core.Access;
using Builder.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Access;

/// <summary>The body of <c>POST /api/people</c> and <c>PATCH /api/people/{userName}</c>.</summary>
public sealed record PersonRequest(string? UserName, string? Password, IReadOnlyList<RoleGrant>? Roles, string? DisplayName, string? Email, bool? Disabled);

/// <summary>A person as the API shows them: never a password or its hash.</summary>
public sealed record PersonView(
    long Id,
    string UserName,
    string Source,
    string? DisplayName,
    string? Email,
    IReadOnlyList<RoleGrant> Roles,
    bool Disabled,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    DateTimeOffset? LastLoginAt,
    DateTimeOffset? RolesRefreshedAt)
{
    public static PersonView Of(Person person) => new(person.Id, person.UserName, person.Source, person.DisplayName, person.Email,
        Core.Access.Roles.Deserialize(person.Roles), person.Disabled, person.CreatedAt, person.CreatedBy, person.LastLoginAt, person.RolesRefreshedAt);
}

public sealed record PersonResult(PersonView? Person, int Status, string? Problem)
{
    public static PersonResult Fail(int status, string problem) => new(null, status, problem);
}

/// <summary>How a password login ended: the person and their rights, or why not (for the server log and the audit log).</summary>
public sealed record LoginResult(Person? Person, AccessRights? Rights, DirectoryOutcome Outcome, string? Reason, bool Disabled = false)
{
    public bool Succeeded => Person is not null && Rights is not null;
}

/// <summary>
/// People: local accounts (created by an admin, passwords hashed with ASP.NET Core Identity's PBKDF2) or people of an
/// LDAP / Active Directory server (<c>Builder:Access:People</c> = <c>ldap</c>), whose roles come from their groups and
/// are read again at every login and at least every <c>Builder:Access:Ldap:CacheSeconds</c>.
/// </summary>
public sealed partial class PeopleService(
    IServiceScopeFactory scopes,
    IOptions<AccessOptions> options,
    AuditLog audit,
    AccessChanges changes,
    TimeProvider time,
    ILogger<PeopleService> logger,
    IPeopleDirectory? directory = null)
{
    public const string LocalSource = "local";
    public const string LdapSource = AccessOptions.LdapPeople;
    private const int MinPasswordLength = 10;
    private const int MaxUserName = 256;

    private static readonly PasswordHasher<Person> Hasher = new();

    // Verifying against this when the user does not exist makes "no such user" take as long as "wrong password".
    private static readonly string DummyHash = Hasher.HashPassword(new Person { UserName = "-", Source = LocalSource }, Guid.NewGuid().ToString());

    private bool UsesDirectory => options.Value.People == LdapSource;

    public async Task<LoginResult> LoginAsync(string userName, string password, CancellationToken cancellationToken)
    {
        return UsesDirectory
            ? await LoginWithDirectoryAsync(userName, password, cancellationToken)
            : await LoginLocalAsync(userName, password, cancellationToken);
    }

    /// <summary>
    /// The current rights of a token's owner: null when the owner may do nothing any more (disabled, removed from the
    /// directory). Directory people's roles are read again when older than the cache time.
    /// </summary>
    public async Task<(AccessRights? Rights, string? Reason)> OwnerRightsAsync(long personId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var person = await db.People.SingleOrDefaultAsync(p => p.Id == personId, cancellationToken);
        if (person is null)
        {
            return (null, "the token's owner no longer exists");
        }

        if (person.Disabled)
        {
            return (null, $"the token's owner '{person.UserName}' is disabled");
        }

        if (person.Source == LdapSource && directory is not null
            && (person.RolesRefreshedAt is null || time.GetUtcNow() - person.RolesRefreshedAt >= TimeSpan.FromSeconds(options.Value.Ldap.CacheSeconds)))
        {
            var found = await directory.LookupAsync(person.UserName, cancellationToken);
            switch (found.Outcome)
            {
                case DirectoryOutcome.Found:
                    ApplyDirectory(person, found.Person!);
                    await db.SaveChangesAsync(cancellationToken);
                    break;
                case DirectoryOutcome.UnknownUser:
                    person.Roles = "[]";
                    person.RolesRefreshedAt = time.GetUtcNow();
                    await db.SaveChangesAsync(cancellationToken);
                    return (null, $"the token's owner '{person.UserName}' is no longer in the directory");
                default:
                    // The directory is away: keep the rights it gave last time rather than lock everyone out.
                    LogDirectoryUnavailable(logger, person.UserName, found.Reason ?? "unavailable");
                    break;
            }
        }

        return (Roles.RightsOf(Roles.Deserialize(person.Roles)), null);
    }

    public async Task<PersonResult> CreateAsync(PersonRequest request, AuditActor actor, CancellationToken cancellationToken)
    {
        if (UsesDirectory)
        {
            return PersonResult.Fail(409, "people come from the directory (Builder:Access:People is ldap): they appear here at their first login, with the roles of their groups");
        }

        var userName = request.UserName?.Trim();
        if (string.IsNullOrEmpty(userName) || userName.Length > MaxUserName || userName.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c == ':'))
        {
            return PersonResult.Fail(400, $"'userName' must be 1-{MaxUserName} characters without spaces or ':' (HTTP Basic separates it from the password with ':')");
        }

        if (userName.StartsWith("__", StringComparison.Ordinal))
        {
            return PersonResult.Fail(400, "'userName' may not start with '__' (reserved: __token__, __build__)");
        }

        if (PasswordProblem(request.Password) is { } passwordProblem)
        {
            return PersonResult.Fail(400, passwordProblem);
        }

        if (!Roles.TryNormalize(request.Roles, out var roles, out var roleProblem))
        {
            return PersonResult.Fail(400, "'roles': " + roleProblem);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        if (await db.People.AnyAsync(p => p.UserName == userName, cancellationToken))
        {
            return PersonResult.Fail(409, $"a person named '{userName}' already exists");
        }

        var person = new Person
        {
            UserName = userName,
            Source = LocalSource,
            DisplayName = request.DisplayName?.Trim(),
            Email = request.Email?.Trim(),
            Roles = Roles.Serialize(roles),
            Disabled = request.Disabled ?? false,
            CreatedAt = time.GetUtcNow(),
            CreatedBy = actor.Principal,
        };
        person.PasswordHash = Hasher.HashPassword(person, request.Password!);
        db.People.Add(person);
        audit.Add(db, actor, AuditActions.PersonCreated, AuditOutcomes.Ok, target: "person:" + userName, detail: $"local account {userName} with roles {Describe(roles)}");
        await db.SaveChangesAsync(cancellationToken);
        return new PersonResult(PersonView.Of(person), 201, null);
    }

    public async Task<PersonResult> UpdateAsync(string userName, PersonRequest request, AuditActor actor, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var person = await db.People.SingleOrDefaultAsync(p => p.UserName == userName, cancellationToken);
        if (person is null)
        {
            return PersonResult.Fail(404, $"no person named '{userName}'");
        }

        var changesMade = new List<string>();
        var endsSessions = false;
        if (request.UserName is not null && request.UserName != person.UserName)
        {
            return PersonResult.Fail(400, "'userName' cannot be changed");
        }

        if (person.Source == LdapSource && (request.Password is not null || request.Roles is not null || request.DisplayName is not null || request.Email is not null))
        {
            return PersonResult.Fail(409, $"'{userName}' comes from the directory: their password, roles and names are managed there (only 'disabled' can be set here)");
        }

        if (request.Password is not null)
        {
            if (PasswordProblem(request.Password) is { } passwordProblem)
            {
                return PersonResult.Fail(400, passwordProblem);
            }

            person.PasswordHash = Hasher.HashPassword(person, request.Password);
            changesMade.Add("password");
            endsSessions = true;
        }

        if (request.Roles is not null)
        {
            if (!Roles.TryNormalize(request.Roles, out var roles, out var roleProblem))
            {
                return PersonResult.Fail(400, "'roles': " + roleProblem);
            }

            person.Roles = Roles.Serialize(roles);
            changesMade.Add("roles " + Describe(roles));
        }

        if (request.DisplayName is not null)
        {
            person.DisplayName = request.DisplayName.Trim();
            changesMade.Add("display name");
        }

        if (request.Email is not null)
        {
            person.Email = request.Email.Trim();
            changesMade.Add("email");
        }

        if (request.Disabled is { } disabled && disabled != person.Disabled)
        {
            person.Disabled = disabled;
            changesMade.Add(disabled ? "disabled" : "enabled");
            endsSessions = true;
        }

        if (endsSessions)
        {
            // Whoever signed in with the old password, or before a disable, signs in again. A re-enable ends sessions too:
            // those a disable left open before disables ended them.
            var ended = await SessionService.EndAllAsync(db, person.Id, time.GetUtcNow(), cancellationToken);
            if (ended > 0)
            {
                changesMade.Add(ended == 1 ? "1 web session ended" : $"{ended} web sessions ended");
            }
        }

        if (changesMade.Count > 0)
        {
            audit.Add(db, actor, AuditActions.PersonChanged, AuditOutcomes.Ok, target: "person:" + userName, detail: string.Join(", ", changesMade));
            await db.SaveChangesAsync(cancellationToken);
            // Cached logins and the tokens acting for this person are verified again on every process.
            await changes.AnnounceAsync(db, AccessChangeKeys.Person(person.Id), cancellationToken);
        }

        return new PersonResult(PersonView.Of(person), 200, null);
    }

    public async Task<List<PersonView>> ListAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        return [.. (await db.People.AsNoTracking().OrderBy(p => p.UserName).ToListAsync(cancellationToken)).Select(PersonView.Of)];
    }

    public async Task<PersonView?> GetAsync(string userName, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var person = await db.People.AsNoTracking().SingleOrDefaultAsync(p => p.UserName == userName, cancellationToken);
        return person is null ? null : PersonView.Of(person);
    }

    private async Task<LoginResult> LoginLocalAsync(string userName, string password, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var person = await db.People.SingleOrDefaultAsync(p => p.UserName == userName && p.Source == LocalSource, cancellationToken);
        if (person?.PasswordHash is null)
        {
            Hasher.VerifyHashedPassword(new Person { UserName = userName, Source = LocalSource }, DummyHash, password);
            return new LoginResult(null, null, DirectoryOutcome.UnknownUser, $"no local account '{userName}'");
        }

        var verified = Hasher.VerifyHashedPassword(person, person.PasswordHash, password);
        if (verified == PasswordVerificationResult.Failed)
        {
            return new LoginResult(null, null, DirectoryOutcome.WrongPassword, $"wrong password for '{userName}'");
        }

        if (person.Disabled)
        {
            return new LoginResult(null, null, DirectoryOutcome.Found, $"'{userName}' is disabled", Disabled: true);
        }

        if (verified == PasswordVerificationResult.SuccessRehashNeeded)
        {
            person.PasswordHash = Hasher.HashPassword(person, password);
        }

        person.LastLoginAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return new LoginResult(person, Roles.RightsOf(Roles.Deserialize(person.Roles)), DirectoryOutcome.Found, null);
    }

    private async Task<LoginResult> LoginWithDirectoryAsync(string userName, string password, CancellationToken cancellationToken)
    {
        if (directory is null)
        {
            return new LoginResult(null, null, DirectoryOutcome.Unavailable, "Builder:Access:People is ldap but no directory is configured");
        }

        var found = await directory.AuthenticateAsync(userName, password, cancellationToken);
        if (found.Outcome != DirectoryOutcome.Found)
        {
            return new LoginResult(null, null, found.Outcome, found.Reason);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var entry = found.Person!;
        // Directories match user names case-insensitively (uid, sAMAccountName): "Alice" and "alice" are one person here too.
        var key = entry.UserName.ToLowerInvariant();
        var person = await db.People.SingleOrDefaultAsync(p => p.UserName == key, cancellationToken);
        if (person is null)
        {
            person = new Person { UserName = key, Source = LdapSource, CreatedAt = time.GetUtcNow(), CreatedBy = "directory" };
            db.People.Add(person);
        }
        else if (person.Source != LdapSource)
        {
            return new LoginResult(null, null, DirectoryOutcome.UnknownUser, $"'{userName}' is a local account, but people come from the directory");
        }

        ApplyDirectory(person, entry);
        person.LastLoginAt = time.GetUtcNow();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (person.Id == 0)
        {
            // Two first logins of the same person at once: the other one recorded them; log in with that row.
            db.ChangeTracker.Clear();
            person = await db.People.SingleAsync(p => p.UserName == key, cancellationToken);
        }

        if (person.Disabled)
        {
            return new LoginResult(null, null, DirectoryOutcome.Found, $"'{userName}' is disabled in Builder", Disabled: true);
        }

        return new LoginResult(person, Roles.RightsOf(Roles.Deserialize(person.Roles)), DirectoryOutcome.Found, null);
    }

    /// <summary>Directory groups → Builder roles, through <c>Builder:Access:Ldap:Groups</c>.</summary>
    private void ApplyDirectory(Person person, DirectoryPerson entry)
    {
        var roles = new List<RoleGrant>();
        foreach (var mapping in options.Value.Ldap.Groups)
        {
            if (entry.GroupDns.Any(dn => SameDn(dn, mapping.Dn)))
            {
                roles.Add(new RoleGrant(mapping.Role.Trim().ToLowerInvariant(), mapping.Projects.Count == 0 ? null : mapping.Projects));
            }
        }

        Roles.TryNormalize(roles, out var normalized, out _);
        person.Roles = Roles.Serialize(normalized);
        person.DisplayName = entry.DisplayName;
        person.Email = entry.Email;
        person.RolesRefreshedAt = time.GetUtcNow();
    }

    /// <summary>DNs compare case-insensitively and without the spaces people put after commas (RFC 4514 allows both spellings).</summary>
    internal static bool SameDn(string a, string b) =>
        string.Equals(string.Join(',', a.Split(',').Select(p => p.Trim())), string.Join(',', b.Split(',').Select(p => p.Trim())), StringComparison.OrdinalIgnoreCase);

    private static string? PasswordProblem(string? password) =>
        password is null || password.Length < MinPasswordLength ? $"'password' must be at least {MinPasswordLength} characters long"
        : TokenSecret.LooksLikeToken(password) ? $"'password' may not start with '{TokenSecret.Prefix}' (that is how tokens start)"
        : null;

    private static string Describe(List<RoleGrant> roles) =>
        roles.Count == 0 ? "(none)" : string.Join(", ", roles.Select(r => r.Projects is null ? r.Role : $"{r.Role} of {string.Join(' ', r.Projects)}"));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh {UserName}'s groups from the directory ({Reason}); keeping the roles it gave last time")]
    private static partial void LogDirectoryUnavailable(ILogger logger, string userName, string reason);
}
