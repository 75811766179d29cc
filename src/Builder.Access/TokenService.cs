using System.Net;
using Builder.Core.Access;
using Builder.Core.Packaging;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Access;

/// <summary>What a client asks for when it creates a token (the body of <c>POST /api/tokens</c>, or the command line's options).</summary>
public sealed record TokenRequest(
    string? Name,
    IReadOnlyList<string>? Scopes,
    IReadOnlyList<string>? Projects = null,
    string? Versions = null,
    DateTimeOffset? ExpiresAt = null,
    IReadOnlyList<string>? IpRanges = null,
    string? Description = null,
    string? Owner = null);

/// <summary>A token as every listing shows it: never the secret.</summary>
public sealed record TokenView(
    long Id,
    string Name,
    string? Description,
    string Hint,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<string>? Projects,
    string? Versions,
    IReadOnlyList<string>? IpRanges,
    DateTimeOffset? ExpiresAt,
    string? Owner,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt,
    string? RevokedBy,
    DateTimeOffset? FirstUsedAt,
    DateTimeOffset? LastUsedAt,
    string? LastUsedFrom,
    string State,
    string? Publisher = null)
{
    /// <summary>Needs <see cref="ApiToken.Owner"/> and <see cref="ApiToken.TrustedPublisher"/> loaded.</summary>
    public static TokenView Of(ApiToken token, DateTimeOffset now) => new(
        token.Id,
        token.Name,
        token.Description,
        token.Hint + "…",
        Split(token.Scopes)!,
        Split(token.Projects),
        token.Versions,
        Split(token.IpRanges),
        token.ExpiresAt,
        token.Owner?.UserName,
        token.CreatedBy,
        token.CreatedAt,
        token.RevokedAt,
        token.RevokedBy,
        token.FirstUsedAt,
        token.LastUsedAt,
        token.LastUsedFrom,
        token.RevokedAt is not null ? "revoked" : token.ExpiresAt <= now ? "expired" : "active",
        token.TrustedPublisher?.Name);

    private static string[]? Split(string? stored) => stored is null ? null : stored.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>The outcome of a token operation: the token, or a status and a message that says what to fix.</summary>
public sealed record TokenResult(TokenView? Token, string? Secret, int Status, string? Problem)
{
    public static TokenResult Fail(int status, string problem) => new(null, null, status, problem);
}

/// <summary>
/// Creates, lists and revokes API tokens; the one place that turns a stored token into rights (<see cref="RightsOf"/>).
/// Used by <c>/api/tokens</c> and by the <c>token</c> command.
/// </summary>
public sealed class TokenService(BuilderDbContext db, InstanceTag tag, AuditLog audit, AccessChanges changes, TimeProvider time)
{
    private const int MaxName = 200;
    private const int MaxDescription = 1000;

    /// <summary>
    /// Creates a token for <paramref name="creator"/>. Admins may create any token, for any owner; a person creates tokens
    /// that act for themselves and never allow more than they may do (checked again at every use); a token owned by a
    /// person creates tokens owned by that same person.
    /// </summary>
    public async Task<TokenResult> CreateAsync(TokenRequest request, Principal creator, AuditActor actor, CancellationToken cancellationToken)
    {
        if (Validate(request, out var scopes, out var projects, out var versions, out var ranges) is { } problem)
        {
            return TokenResult.Fail(400, problem);
        }

        var now = time.GetUtcNow();
        if (request.ExpiresAt is { } expires && expires <= now)
        {
            return TokenResult.Fail(400, $"'expiresAt' ({expires:O}) is in the past");
        }

        Person? owner = null;
        if (!creator.Rights.IsAdmin)
        {
            if (creator.Kind != PrincipalKind.Person)
            {
                return TokenResult.Fail(403, "only admins and people signed in with their password create tokens; this token may not");
            }

            if (request.Owner is not null && !string.Equals(request.Owner, creator.PersonName, StringComparison.Ordinal))
            {
                return TokenResult.Fail(403, "'owner': only admins create tokens for someone else");
            }

            if (creator.Rights.Grants.Count == 0)
            {
                return TokenResult.Fail(403, "you have no role (reader, publisher or admin), so a token of yours could do nothing; ask an admin for one");
            }

            if (scopes.Contains(AccessScope.Admin))
            {
                return TokenResult.Fail(403, "scope 'admin': you are not an admin");
            }

            if (scopes.Contains(AccessScope.Upload) && !creator.Rights.MayUploadSomewhere)
            {
                return TokenResult.Fail(403, "scope 'upload': you may not upload to any project");
            }

            owner = await db.People.SingleAsync(p => p.Id == creator.PersonId, cancellationToken);
        }
        else if (request.Owner is { } ownerName)
        {
            owner = await db.People.SingleOrDefaultAsync(p => p.UserName == ownerName, cancellationToken);
            if (owner is null)
            {
                return TokenResult.Fail(400, $"'owner': no person named '{ownerName}' (people appear after their first login, or are created with POST /api/people)");
            }
        }
        else if (creator.PersonId is { } creatorOwner)
        {
            // An admin person's own tokens act for them too, and so does a token made by one of their tokens: when they
            // stop being an admin (or are disabled), every token they made, directly or through a token, stops with them.
            // Only the bootstrap admin token and the command line make tokens that act for no one.
            owner = await db.People.SingleAsync(p => p.Id == creatorOwner, cancellationToken);
        }

        var secret = TokenSecret.Create(await tag.GetAsync(cancellationToken));
        var token = new ApiToken
        {
            Name = request.Name!.Trim(),
            Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim(),
            SecretHash = TokenSecret.Hash(secret),
            Hint = TokenSecret.Hint(secret),
            Scopes = string.Join(' ', scopes.Select(AccessScopes.Name)),
            Projects = projects.ToStored(),
            Versions = versions?.ToString(),
            IpRanges = ranges.Count == 0 ? null : string.Join(' ', ranges),
            ExpiresAt = request.ExpiresAt,
            OwnerId = owner?.Id,
            Owner = owner,
            CreatedBy = actor.Principal,
            CreatedAt = now,
        };
        // The token and its audit record commit together; the record names the token's id, known after the insert.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Tokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        audit.Add(db, actor, AuditActions.TokenCreated, AuditOutcomes.Ok, target: Target(token),
            detail: $"token '{token.Name}' ({token.Scopes}; projects {projects}{(versions is null ? string.Empty : "; versions " + versions)}{(token.ExpiresAt is null ? string.Empty : $"; expires {token.ExpiresAt:O}")}{(owner is null ? string.Empty : "; for " + owner.UserName)})");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new TokenResult(TokenView.Of(token, now), secret, 201, null);
    }

    /// <summary>Admins see every token; a person sees their own.</summary>
    public async Task<List<TokenView>> ListAsync(Principal viewer, CancellationToken cancellationToken)
    {
        var query = db.Tokens.AsNoTracking().Include(t => t.Owner).Include(t => t.TrustedPublisher).AsQueryable();
        if (!viewer.Rights.IsAdmin)
        {
            query = query.Where(t => t.OwnerId == viewer.PersonId);
        }

        var now = time.GetUtcNow();
        return [.. (await query.OrderBy(t => t.Id).ToListAsync(cancellationToken)).Select(t => TokenView.Of(t, now))];
    }

    public async Task<TokenView?> GetAsync(long id, Principal viewer, CancellationToken cancellationToken)
    {
        var token = await db.Tokens.AsNoTracking().Include(t => t.Owner).Include(t => t.TrustedPublisher).SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        return token is null || !MayManage(viewer, token) ? null : TokenView.Of(token, time.GetUtcNow());
    }

    /// <summary>Revokes a token; every process refuses it from its next request on (the change is announced before this returns).</summary>
    public async Task<TokenView?> RevokeAsync(long id, Principal viewer, AuditActor actor, CancellationToken cancellationToken)
    {
        var token = await db.Tokens.Include(t => t.Owner).Include(t => t.TrustedPublisher).SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (token is null || !MayManage(viewer, token))
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (token.RevokedAt is null)
        {
            token.RevokedAt = now;
            token.RevokedBy = actor.Principal;
            audit.Add(db, actor, AuditActions.TokenRevoked, AuditOutcomes.Ok, target: Target(token), detail: $"token '{token.Name}' revoked");
            await db.SaveChangesAsync(cancellationToken);
        }

        await changes.AnnounceAsync(db, AccessChangeKeys.Token(token.Id), cancellationToken);
        return TokenView.Of(token, now);
    }

    /// <summary>
    /// Adds (not saved: the caller commits it with its own records) the short-lived token a trusted publisher's CI job
    /// gets for its ID token: the publisher's scopes, projects and versions, acting for no person, valid until
    /// <paramref name="expiresAt"/>.
    /// </summary>
    internal async Task<(ApiToken Token, string Secret)> AddMintedAsync(TrustedPublisher publisher, string subject, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var secret = TokenSecret.Create(await tag.GetAsync(cancellationToken));
        var token = new ApiToken
        {
            Name = publisher.Name,
            Description = $"minted for {Oidc.IdTokens.Shown(subject)}",
            SecretHash = TokenSecret.Hash(secret),
            Hint = TokenSecret.Hint(secret),
            Scopes = publisher.Scopes,
            Projects = publisher.Projects,
            Versions = publisher.Versions,
            ExpiresAt = expiresAt,
            TrustedPublisherId = publisher.Id,
            TrustedPublisher = publisher,
            CreatedBy = TrustedPublisherPrincipal(publisher),
            CreatedAt = time.GetUtcNow(),
        };
        db.Tokens.Add(token);
        return (token, secret);
    }

    /// <summary>How the audit log and a minted token's <see cref="ApiToken.CreatedBy"/> name a trusted publisher.</summary>
    public static string TrustedPublisherPrincipal(TrustedPublisher publisher) => "trusted-publisher:" + publisher.Name;

    /// <summary>What a stored token allows by itself (its owner's rights bound it separately).</summary>
    public static AccessRights RightsOf(ApiToken token, AccessRights? ownerRights)
    {
        var projects = ProjectGlobs.FromStored(token.Projects);
        VersionSpecifier? versions = null;
        if (token.Versions is { } stored && !VersionSpecifier.TryParse(stored, out versions, out var error))
        {
            throw new FormatException($"token {token.Id} has an unreadable versions limit: {error}");
        }

        var grants = new List<Grant>();
        foreach (var name in token.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (AccessScopes.TryParse(name, out var scope))
            {
                grants.Add(scope == AccessScope.Admin ? new Grant(scope, ProjectGlobs.All) : new Grant(scope, projects, scope == AccessScope.Read ? versions : null));
            }
        }

        return new AccessRights(grants, ownerRights);
    }

    public static IPNetwork[]? RangesOf(ApiToken token) =>
        token.IpRanges is null ? null : [.. token.IpRanges.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(IPNetwork.Parse)];

    private static bool MayManage(Principal viewer, ApiToken token) => viewer.Rights.IsAdmin || (viewer.PersonId is { } id && token.OwnerId == id);

    private static string Target(ApiToken token) => AccessChangeKeys.Token(token.Id);

    /// <summary>Why a token (or a trusted publisher's tokens) cannot be made as asked, or null; the parsed parts.</summary>
    internal static string? Validate(TokenRequest request, out List<AccessScope> scopes, out ProjectGlobs projects, out VersionSpecifier? versions, out List<string> ranges)
    {
        scopes = [];
        projects = ProjectGlobs.All;
        versions = null;
        ranges = [];
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > MaxName || request.Name.Any(char.IsControl))
        {
            return $"'name' must name the token (1-{MaxName} characters, e.g. 'ci-reader')";
        }

        if (request.Description is { Length: > MaxDescription })
        {
            return $"'description' is longer than {MaxDescription} characters";
        }

        if (request.Scopes is not { Count: > 0 })
        {
            return "'scopes' must list at least one of: read, upload, admin";
        }

        foreach (var name in request.Scopes)
        {
            if (!AccessScopes.TryParse(name, out var scope))
            {
                return $"unknown scope '{name}'; scopes are read, upload and admin";
            }

            if (!scopes.Contains(scope))
            {
                scopes.Add(scope);
            }
        }

        scopes.Sort();
        if (!ProjectGlobs.TryParse(request.Projects, out projects, out var globError))
        {
            return "'projects': " + globError;
        }

        if (scopes.Contains(AccessScope.Admin) && !projects.IsAll)
        {
            return "an admin token is not limited to projects: leave out 'projects', or give scopes read/upload";
        }

        if (request.Versions is { } text)
        {
            if (scopes is not [AccessScope.Read])
            {
                return "'versions' limits read tokens only (scopes: [\"read\"])";
            }

            if (!VersionSpecifier.TryParse(text, out versions, out var versionError))
            {
                return "'versions': " + versionError;
            }
        }

        foreach (var range in request.IpRanges ?? [])
        {
            var candidate = range?.Trim() ?? string.Empty;
            if (IPAddress.TryParse(candidate, out var single))
            {
                candidate = $"{single}/{(single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)}";
            }

            if (!IPNetwork.TryParse(candidate, out var network))
            {
                return $"'ipRanges': '{range}' is not an address or CIDR range (e.g. 203.0.113.0/24 or 2001:db8::/32)";
            }

            ranges.Add(network.ToString());
        }

        return null;
    }
}

/// <summary>The keys of <see cref="ChangeTopics.Access"/> changes.</summary>
public static class AccessChangeKeys
{
    public static string Token(long id) => "token:" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Person(long id) => "person:" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
