using System.Globalization;
using System.Text.Json;
using Builder.Core.Access;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Builder.Access.Oidc;

/// <summary>What an admin asks for in <c>POST /api/trusted-publishers</c>.</summary>
public sealed record TrustedPublisherRequest(
    string? Name,
    string? Issuer,
    Dictionary<string, string>? Claims,
    IReadOnlyList<string>? Scopes,
    IReadOnlyList<string>? Projects = null,
    string? Versions = null,
    string? Description = null);

/// <summary>A trusted publisher as the API shows it.</summary>
public sealed record TrustedPublisherView(
    long Id,
    string Name,
    string? Description,
    string Issuer,
    IReadOnlyDictionary<string, string> Claims,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<string>? Projects,
    string? Versions,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DeletedAt = null,
    string? DeletedBy = null,
    int? RevokedTokens = null)
{
    public static TrustedPublisherView Of(TrustedPublisher publisher, int? revokedTokens = null) => new(
        publisher.Id,
        publisher.Name,
        publisher.Description,
        publisher.Issuer,
        TrustedPublishers.ClaimsOf(publisher),
        publisher.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        publisher.Projects?.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        publisher.Versions,
        publisher.CreatedBy,
        publisher.CreatedAt,
        publisher.DeletedAt,
        publisher.DeletedBy,
        revokedTokens);
}

/// <summary>The body of <c>POST /api/oidc/mint-token</c>: the CI job's ID token, and which publisher when several match.</summary>
public sealed record MintRequest(string? Token, string? Publisher = null);

/// <summary>A minted token (the secret, shown once) or why none was.</summary>
public sealed record MintResult(string? Secret, TokenView? Token, int Status, string? Problem)
{
    public static MintResult Fail(int status, string problem) => new(null, null, status, problem);
}

/// <summary>
/// Trusted publishing and reading: the one owner of trusted publishers (which CI jobs, identified by their platform's
/// OpenID Connect ID token, may get a Builder token, and with which rights) and of the exchange itself
/// (<see cref="MintAsync"/>): the ID token is checked (<see cref="IdTokens"/>), matched against the publishers of its
/// issuer, accepted once (its <c>jti</c>, in the database, so every replica refuses a replay), and turned into an
/// ordinary short-lived token (<see cref="TokenService"/>). Every mint and every refusal is audited.
/// </summary>
public sealed class TrustedPublishers(
    BuilderDbContext db, IdTokens idTokens, TokenService tokens, AuditLog audit, AccessChanges changes, IOptions<OidcOptions> options, TimeProvider time)
{
    /// <summary>The claims a publisher may constrain: GitHub Actions' and GitLab CI's that say which repository, workflow, ref and environment a job runs for.</summary>
    public static readonly IReadOnlySet<string> KnownClaims = new HashSet<string>(StringComparer.Ordinal)
    {
        // GitHub Actions
        "repository", "repository_owner", "repository_id", "repository_owner_id", "workflow_ref", "job_workflow_ref", "workflow",
        "event_name", "repository_visibility",
        // GitLab CI
        "project_path", "namespace_path", "project_id", "namespace_id", "ref_protected", "ci_config_ref_uri", "pipeline_source",
        "project_visibility",
        // both
        "sub", "ref", "ref_type", "environment", "runner_environment",
    };

    /// <summary>Claims that name a repository (GitHub) or project (GitLab): every publisher constrains one of them.</summary>
    public static readonly IReadOnlyList<string> RepositoryClaims = ["repository", "project_path"];

    /// <summary>Claims whose values the forges treat case-insensitively (owner and repository names): compared so here too.</summary>
    private static readonly HashSet<string> CaseInsensitiveClaims = new(StringComparer.Ordinal) { "repository", "repository_owner", "project_path", "namespace_path" };

    /// <summary>The claims a "no publisher matches" refusal names from the token, so the job's owner sees what was compared.</summary>
    private static readonly string[] DescribedClaims = ["repository", "project_path", "ref", "environment", "workflow_ref"];

    private const int MaxName = 200;
    private const int MaxDescription = 1000;
    private const int MaxClaimValue = 500;

    public async Task<(TrustedPublisherView? Publisher, int Status, string? Problem)> CreateAsync(TrustedPublisherRequest request, AuditActor actor, CancellationToken cancellationToken)
    {
        if (Validate(request, out var scopes, out var projects, out var versions) is { } problem)
        {
            return (null, 400, problem);
        }

        var name = request.Name!.Trim();
        if (await db.TrustedPublishers.AnyAsync(p => p.Name == name && p.DeletedAt == null, cancellationToken))
        {
            return (null, 409, $"a trusted publisher named '{name}' exists; delete it first or choose another name");
        }

        var publisher = new TrustedPublisher
        {
            Name = name,
            Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim(),
            Issuer = request.Issuer!,
            Claims = JsonSerializer.Serialize(new SortedDictionary<string, string>(request.Claims!, StringComparer.Ordinal)),
            Scopes = scopes,
            Projects = projects,
            Versions = versions,
            CreatedBy = actor.Principal,
            CreatedAt = time.GetUtcNow(),
        };
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.TrustedPublishers.Add(publisher);
        await db.SaveChangesAsync(cancellationToken);
        audit.Add(db, actor, AuditActions.TrustedPublisherCreated, AuditOutcomes.Ok, target: Target(publisher),
            detail: $"trusted publisher '{publisher.Name}': jobs of {publisher.Issuer} with {Describe(ClaimsOf(publisher))} get {publisher.Scopes} tokens for projects {publisher.Projects ?? "*"}{(publisher.Versions is null ? string.Empty : "; versions " + publisher.Versions)}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (TrustedPublisherView.Of(publisher), 201, null);
    }

    public async Task<List<TrustedPublisherView>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await db.TrustedPublishers.AsNoTracking().Where(p => p.DeletedAt == null).OrderBy(p => p.Id).ToListAsync(cancellationToken)).Select(p => TrustedPublisherView.Of(p))];

    /// <summary>Deletes a publisher and revokes every token it minted; every process refuses them from its next request on.</summary>
    public async Task<TrustedPublisherView?> DeleteAsync(long id, AuditActor actor, CancellationToken cancellationToken)
    {
        var publisher = await db.TrustedPublishers.SingleOrDefaultAsync(p => p.Id == id && p.DeletedAt == null, cancellationToken);
        if (publisher is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        publisher.DeletedAt = now;
        publisher.DeletedBy = actor.Principal;
        var minted = await db.Tokens.Where(t => t.TrustedPublisherId == id && t.RevokedAt == null).ToListAsync(cancellationToken);
        foreach (var token in minted)
        {
            token.RevokedAt = now;
            token.RevokedBy = actor.Principal;
        }

        audit.Add(db, actor, AuditActions.TrustedPublisherDeleted, AuditOutcomes.Ok, target: Target(publisher),
            detail: $"trusted publisher '{publisher.Name}' deleted; {minted.Count} token(s) it minted revoked{(minted.Count == 0 ? string.Empty : ": " + string.Join(", ", minted.Select(t => AccessChangeKeys.Token(t.Id))))}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        foreach (var token in minted)
        {
            await changes.AnnounceAsync(db, AccessChangeKeys.Token(token.Id), cancellationToken);
        }

        return TrustedPublisherView.Of(publisher, minted.Count);
    }

    /// <summary>Exchanges a CI job's ID token for a Builder token (see the class summary); refusals are audited with their reason.</summary>
    public async Task<MintResult> MintAsync(MintRequest request, AuditActor actor, CancellationToken cancellationToken)
    {
        var check = await idTokens.VerifyAsync(request.Token!, cancellationToken);
        if (check.Token is not { } idToken)
        {
            return await RefuseAsync(actor, check.Status, check.Problem!, cancellationToken);
        }

        var candidates = await db.TrustedPublishers.AsNoTracking()
            .Where(p => p.Issuer == idToken.Issuer && p.DeletedAt == null).OrderBy(p => p.Id).ToListAsync(cancellationToken);
        var matching = candidates.Where(p => Matches(p, idToken.Claims)).ToList();
        if (request.Publisher is { } wanted)
        {
            matching = [.. matching.Where(p => p.Name == wanted)];
            if (matching.Count == 0)
            {
                return await RefuseAsync(actor, 401, $"no trusted publisher matches: no trusted publisher named '{IdTokens.Shown(wanted)}' allows the jobs of {idToken.Issuer} with {DescribeToken(idToken)}", cancellationToken);
            }
        }

        if (matching.Count == 0)
        {
            return await RefuseAsync(actor, 401, $"no trusted publisher matches: no trusted publisher allows the jobs of {idToken.Issuer} with {DescribeToken(idToken)}", cancellationToken);
        }

        if (matching.Count > 1)
        {
            return await RefuseAsync(actor, 409, $"several trusted publishers match ({string.Join(", ", matching.Select(p => $"'{p.Name}'"))}): name the one to use with \"publisher\" in the request", cancellationToken);
        }

        var publisher = matching[0];
        var now = time.GetUtcNow();
        var expiresAt = now.AddMinutes(options.Value.TokenMinutes);
        await db.OidcTokenUses.Where(u => u.ExpiresAt < now - IdTokens.MaxSkew).ExecuteDeleteAsync(cancellationToken);
        if (await db.OidcTokenUses.AnyAsync(u => u.Issuer == idToken.Issuer && u.Jti == idToken.Jti, cancellationToken))
        {
            return await RefuseAsync(actor, 401, AlreadyUsed(idToken), cancellationToken);
        }

        db.OidcTokenUses.Add(new OidcTokenUse { Issuer = idToken.Issuer, Jti = idToken.Jti, ExpiresAt = idToken.ExpiresAt + IdTokens.MaxSkew, UsedAt = now });
        var tracked = await db.TrustedPublishers.SingleAsync(p => p.Id == publisher.Id, cancellationToken);
        var (token, secret) = await tokens.AddMintedAsync(tracked, idToken.Subject, expiresAt, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another process (or request) exchanged the same ID token between the check above and this insert.
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            return await RefuseAsync(actor, 401, AlreadyUsed(idToken), cancellationToken);
        }

        var matched = ClaimsOf(publisher).Keys.ToDictionary(k => k, k => idToken.Claims[k], StringComparer.Ordinal);
        audit.Add(db, actor with { Principal = TokenService.TrustedPublisherPrincipal(publisher) }, AuditActions.OidcMinted, AuditOutcomes.Ok,
            target: AccessChangeKeys.Token(token.Id),
            detail: $"issuer {idToken.Issuer}, subject {IdTokens.Shown(idToken.Subject)}, publisher '{publisher.Name}', matched {Describe(matched)}: token {token.Id} ({token.Scopes}; projects {token.Projects ?? "*"}{(token.Versions is null ? string.Empty : "; versions " + token.Versions)}) until {expiresAt:O}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new MintResult(secret, TokenView.Of(token, now), 200, null);
    }

    /// <summary>A publisher's claim constraints (claim → glob).</summary>
    public static IReadOnlyDictionary<string, string> ClaimsOf(TrustedPublisher publisher) =>
        JsonSerializer.Deserialize<SortedDictionary<string, string>>(publisher.Claims) ?? [];

    /// <summary>Whether every claim the publisher constrains is in the token and matches its glob.</summary>
    public static bool Matches(TrustedPublisher publisher, IReadOnlyDictionary<string, string> claims)
    {
        foreach (var (claim, pattern) in ClaimsOf(publisher))
        {
            if (!claims.TryGetValue(claim, out var value))
            {
                return false;
            }

            var matched = CaseInsensitiveClaims.Contains(claim)
                ? Glob.Matches(pattern.ToLowerInvariant(), value.ToLowerInvariant())
                : Glob.Matches(pattern, value);
            if (!matched)
            {
                return false;
            }
        }

        return true;
    }

    private static string AlreadyUsed(VerifiedIdToken idToken) =>
        $"already used: this ID token (jti '{IdTokens.Shown(idToken.Jti)}') was exchanged before; each is accepted once, so request a new one";

    private async Task<MintResult> RefuseAsync(AuditActor actor, int status, string problem, CancellationToken cancellationToken)
    {
        await audit.RecordAsync(actor, AuditActions.OidcRefused, status == 503 ? AuditOutcomes.Failed : AuditOutcomes.Refused, detail: problem, cancellationToken: cancellationToken);
        return MintResult.Fail(status, problem);
    }

    private string? Validate(TrustedPublisherRequest request, out string scopes, out string? projects, out string? versions)
    {
        scopes = string.Empty;
        projects = null;
        versions = null;
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > MaxName || request.Name.Any(char.IsControl))
        {
            return $"'name' must name the trusted publisher (1-{MaxName} characters, e.g. 'billing-release')";
        }

        if (request.Description is { Length: > MaxDescription })
        {
            return $"'description' is longer than {MaxDescription} characters";
        }

        var settings = options.Value;
        if (string.IsNullOrEmpty(request.Issuer) || !settings.Trusts(request.Issuer))
        {
            return settings.Issuers.Count == 0
                ? "'issuer': no issuer is trusted on this server; set Builder__Oidc__Issuers__0 (e.g. https://token.actions.githubusercontent.com) first"
                : $"'issuer' must be one of the trusted issuers (Builder__Oidc__Issuers): {string.Join(", ", settings.Issuers)}";
        }

        if (request.Claims is not { Count: > 0 } claims)
        {
            return "'claims' must name the claims a job's ID token must match, at least its repository: {\"repository\": \"acme/billing\"} (GitHub) or {\"project_path\": \"acme/app\"} (GitLab)";
        }

        foreach (var (claim, pattern) in claims)
        {
            if (!KnownClaims.Contains(claim))
            {
                return $"'claims': '{IdTokens.Shown(claim)}' is not a claim a trusted publisher can match; use {string.Join(", ", KnownClaims.Order(StringComparer.Ordinal))}";
            }

            if (string.IsNullOrEmpty(pattern) || pattern.Length > MaxClaimValue || pattern.Any(char.IsControl))
            {
                return $"'claims': '{claim}' must be a value or glob of 1-{MaxClaimValue} characters";
            }
        }

        var repository = RepositoryClaims.FirstOrDefault(claims.ContainsKey);
        if (repository is null)
        {
            return "'claims' must constrain the repository: \"repository\" (GitHub, owner/name) or \"project_path\" (GitLab, group/project); without it any repository of the issuer could get tokens";
        }

        var slash = claims[repository].IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || Glob.HasWildcard(claims[repository][..slash]))
        {
            return $"'claims': '{repository}' must name its owner (or group) without wildcards, e.g. \"acme/billing\" or \"acme/*\"";
        }

        var asToken = new TokenRequest(request.Name, request.Scopes, request.Projects, request.Versions);
        if (TokenService.Validate(asToken, out var parsedScopes, out var parsedProjects, out var parsedVersions, out _) is { } tokenProblem)
        {
            return tokenProblem;
        }

        if (parsedScopes.Contains(AccessScope.Admin))
        {
            return "scope 'admin': a CI job's token reads or uploads; give scopes read and/or upload";
        }

        scopes = string.Join(' ', parsedScopes.Select(AccessScopes.Name));
        projects = parsedProjects.ToStored();
        versions = parsedVersions?.ToString();
        return null;
    }

    private static string DescribeToken(VerifiedIdToken idToken)
    {
        var described = DescribedClaims.Where(idToken.Claims.ContainsKey).ToDictionary(c => c, c => idToken.Claims[c], StringComparer.Ordinal);
        return described.Count == 0 ? $"subject '{IdTokens.Shown(idToken.Subject)}'" : Describe(described);
    }

    private static string Describe(IReadOnlyDictionary<string, string> claims) =>
        string.Join(", ", claims.Select(c => $"{c.Key} '{IdTokens.Shown(c.Value)}'"));

    private static string Target(TrustedPublisher publisher) => "trusted-publisher:" + publisher.Id.ToString(CultureInfo.InvariantCulture);
}
