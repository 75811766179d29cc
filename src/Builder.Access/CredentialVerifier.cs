using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Builder.Core.Access;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Access;

/// <summary>The outcome of checking a request's credentials.</summary>
/// <param name="Status">200 when <see cref="Principal"/> is set; else 401 (bad credentials), 403 (not from this address) or 503 (the directory is away).</param>
/// <param name="Reason">For the client: why, without saying anything about projects.</param>
public sealed record Authentication(Principal? Principal, int Status, string? Reason)
{
    public static Authentication Unauthorized(string reason) => new(null, 401, reason);
}

/// <summary>
/// Turns an <c>Authorization</c> header into a principal: the configured admin token (or metrics token), an API token (<c>bld_...</c>) as
/// bearer or as HTTP Basic password with any user name, a person's password (HTTP Basic with their user name), or a
/// build relay's credentials. Successful checks are remembered per process, keyed by a keyed hash of the header (so the
/// cache holds no password), until the token's or login's cache time; failures never are. Revocations and changes of
/// people are announced (<see cref="ChangeTopics.Access"/>) and drop the cached entries on every process.
/// </summary>
public sealed partial class CredentialVerifier : IDisposable
{
    /// <summary>The user name pip, twine and poetry send with a token ("__token__" as on PyPI); any other works too.</summary>
    public const string TokenUserName = "__token__";

    private const int MaxHeaderLength = 4096;
    private const int MaxEntries = 50_000;

    // A verified token is looked up again after this long even without a change notification: a safety net.
    private static readonly TimeSpan TokenRecheck = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan LocalLoginRecheck = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan BuildRecheck = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<UInt128, Entry> _cache = new();
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);
    private readonly IServiceScopeFactory _scopes;
    private readonly InstanceTag _tag;
    private readonly PeopleService _people;
    private readonly BuildCredentials _builds;
    private readonly TokenUsage _usage;
    private readonly AuditLog _audit;
    private readonly ChangeFeed _feed;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly byte[] _adminTokenHash;
    private readonly MetricsOptions _metrics;
    private readonly TimeSpan _directoryRecheck;

    public CredentialVerifier(
        IServiceScopeFactory scopes,
        InstanceTag tag,
        PeopleService people,
        BuildCredentials builds,
        TokenUsage usage,
        AuditLog audit,
        ChangeFeed feed,
        IOptions<AdminOptions> admin,
        IOptions<AccessOptions> access,
        IOptions<MetricsOptions> metrics,
        TimeProvider time,
        ILogger<CredentialVerifier> logger)
    {
        _scopes = scopes;
        _tag = tag;
        _people = people;
        _builds = builds;
        _usage = usage;
        _audit = audit;
        _feed = feed;
        _time = time;
        _logger = logger;
        _adminTokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(admin.Value.AdminToken));
        _metrics = metrics.Value;
        _directoryRecheck = TimeSpan.FromSeconds(access.Value.Ldap.CacheSeconds);
        _feed.Changed += OnChanged;
    }

    /// <summary>Checks an Authorization header from <paramref name="address"/>; audits failures and first uses.</summary>
    public async ValueTask<Authentication> VerifyAsync(string header, IPAddress? address, string? userAgent, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var key = CacheKey(header);
        if (_cache.TryGetValue(key, out var cached))
        {
            if (now.UtcTicks < cached.RecheckTicks)
            {
                return await AdmitAsync(cached, address, userAgent, now, cancellationToken);
            }

            _cache.TryRemove(key, out _);
        }

        var actor = new AuditActor("anonymous", address?.ToString(), userAgent);
        if (header.Length > MaxHeaderLength)
        {
            return await RefuseAsync(actor, AuditActions.TokenRefused, $"the Authorization header is longer than {MaxHeaderLength} characters", cancellationToken);
        }

        if (!TryParse(header, out var userName, out var secret, out var parseProblem))
        {
            return await RefuseAsync(actor, AuditActions.TokenRefused, parseProblem!, cancellationToken);
        }

        Entry? entry;
        Authentication? failure;
        if (CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), _adminTokenHash))
        {
            (entry, failure) = (new Entry(Principal.AdminToken, DateTimeOffset.MaxValue.UtcTicks), null);
        }
        else if (_metrics.IsToken(secret))
        {
            (entry, failure) = (new Entry(Principal.MetricsToken, DateTimeOffset.MaxValue.UtcTicks), null);
        }
        else if (userName == IBuildCredentialIssuer.UserName)
        {
            (entry, failure) = await VerifyBuildAsync(secret, actor, now, cancellationToken);
        }
        else if (TokenSecret.LooksLikeToken(secret)
            && (userName is null or "" or TokenUserName || TokenSecret.Check(secret, await _tag.GetAsync(cancellationToken)) != TokenCheck.Malformed))
        {
            // A named user whose password merely starts like a token (a directory password) is a person, below.
            (entry, failure) = await VerifyTokenAsync(secret, actor, address, now, cancellationToken);
        }
        else if (userName is null || userName == TokenUserName || userName.Length == 0)
        {
            return await RefuseAsync(actor, AuditActions.TokenRefused, $"unknown token: Builder tokens start with '{TokenSecret.Prefix}' (or give your user name and password)", cancellationToken);
        }
        else
        {
            (entry, failure) = await VerifyPersonAsync(userName, secret, actor, now, cancellationToken);
        }

        if (entry is null)
        {
            return failure!;
        }

        if (_cache.Count >= MaxEntries)
        {
            _cache.Clear();
        }

        _cache[key] = entry;
        return await AdmitAsync(entry, address, userAgent, now, cancellationToken);
    }

    /// <summary>
    /// A web UI session cookie's secret (<see cref="SessionService"/>): the signed-in person with their rights of the
    /// moment, or null when the session is unknown, ended or expired, or the person may no longer sign in (the UI then
    /// treats the browser as signed out). Cached like a person's password check, and dropped when the session ends.
    /// </summary>
    public async ValueTask<Principal?> VerifySessionAsync(string secret, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var key = CacheKey("Session " + secret);
        if (_cache.TryGetValue(key, out var cached))
        {
            if (now.UtcTicks < cached.RecheckTicks && !(cached.TokenExpiresAt <= now))
            {
                return cached.Principal;
            }

            _cache.TryRemove(key, out _);
        }

        if (secret.Length is 0 or > 100)
        {
            return null;
        }

        var hash = TokenSecret.Hash(secret);
        PersonSession? session;
        await using (var scope = _scopes.CreateAsyncScope())
        {
            session = await scope.ServiceProvider.GetRequiredService<BuilderDbContext>().Sessions.AsNoTracking().Include(s => s.Person)
                .SingleOrDefaultAsync(s => s.SecretHash == hash, cancellationToken);
        }

        if (session is null || session.EndedAt is not null || session.ExpiresAt <= now)
        {
            return null;
        }

        var (rights, _) = await _people.OwnerRightsAsync(session.PersonId, cancellationToken);
        if (rights is null)
        {
            return null;
        }

        var principal = new Principal("person:" + session.Person!.UserName, PrincipalKind.Person, rights)
        {
            PersonId = session.PersonId,
            PersonName = session.Person.UserName,
            SessionId = session.Id,
        };
        var recheck = now + (session.Person.Source == PeopleService.LdapSource ? _directoryRecheck : LocalLoginRecheck);
        if (_cache.Count >= MaxEntries)
        {
            _cache.Clear();
        }

        _cache[key] = new Entry(principal, recheck.UtcTicks) { TokenExpiresAt = session.ExpiresAt };
        return principal;
    }

    /// <summary><see cref="Admit"/>, with refusals (expired since, not from this address) in the audit log.</summary>
    private async ValueTask<Authentication> AdmitAsync(Entry entry, IPAddress? address, string? userAgent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = Admit(entry, address, now);
        if (result.Principal is null)
        {
            await _audit.RecordAsync(new AuditActor(entry.Principal.Id, address?.ToString(), userAgent), AuditActions.TokenRefused, AuditOutcomes.Refused,
                detail: result.Reason, cancellationToken: cancellationToken);
        }

        return result;
    }

    /// <summary>
    /// Whether exactly these credentials were verified here before (and not revoked since). A blocked address still
    /// gets them checked: a CI job behind a shared address keeps working while something else there fails, and a
    /// guesser learns nothing, since a guess was never verified.
    /// </summary>
    public bool WasVerified(string header) => _cache.ContainsKey(CacheKey(header));

    public void Dispose() => _feed.Changed -= OnChanged;

    /// <summary>"Basic base64(user:secret)" or "Bearer secret".</summary>
    public static bool TryParse(string header, out string? userName, out string secret, out string? problem)
    {
        userName = null;
        secret = string.Empty;
        problem = null;
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        var scheme = space < 0 ? header : header[..space];
        var value = space < 0 ? string.Empty : header[(space + 1)..].Trim();
        if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            if (value.Length == 0)
            {
                problem = "the Bearer credentials are empty";
                return false;
            }

            secret = value;
            return true;
        }

        if (!scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            problem = "unsupported Authorization scheme: use Basic (any user name, e.g. __token__, and the token as password; or your user name and password) or Bearer";
            return false;
        }

        var bytes = new byte[(value.Length * 3 / 4) + 3];
        if (value.Length == 0 || !Convert.TryFromBase64String(value, bytes, out var length))
        {
            problem = "the Basic credentials are not base64";
            return false;
        }

        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            problem = "the Basic credentials are not UTF-8";
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            problem = "the Basic credentials have no ':' between user name and password";
            return false;
        }

        userName = decoded[..colon];
        secret = decoded[(colon + 1)..];
        if (secret.Length == 0)
        {
            problem = "the password is empty";
            return false;
        }

        return true;
    }

    private Authentication Admit(Entry entry, IPAddress? address, DateTimeOffset now)
    {
        if (entry.TokenExpiresAt is { } expires && expires <= now)
        {
            return Authentication.Unauthorized($"token expired on {expires:yyyy-MM-dd HH:mm} UTC");
        }

        if (entry.Ranges is { } ranges && (address is null || !ranges.Any(r => r.Contains(Unmapped(address)))))
        {
            return new Authentication(null, 403, $"this token may not be used from {address}");
        }

        if (entry.Principal.TokenId is { } tokenId && now.UtcTicks - Interlocked.Read(ref entry.LastTouchedTicks) > TimeSpan.TicksPerSecond)
        {
            Interlocked.Exchange(ref entry.LastTouchedTicks, now.UtcTicks);
            _usage.Touch(tokenId, now, address?.ToString());
        }

        return entry.Admitted;
    }

    private async Task<(Entry?, Authentication?)> VerifyTokenAsync(string secret, AuditActor actor, IPAddress? address, DateTimeOffset now, CancellationToken cancellationToken)
    {
        switch (TokenSecret.Check(secret, await _tag.GetAsync(cancellationToken)))
        {
            case TokenCheck.Malformed:
                return (null, await RefuseAsync(actor, AuditActions.TokenRefused, "unknown token: not a Builder token (wrong length or characters)", cancellationToken));
            case TokenCheck.BadChecksum:
                return (null, await RefuseAsync(actor, AuditActions.TokenRefused, "unknown token: its checksum does not match (mistyped or cut off?)", cancellationToken));
            case TokenCheck.OtherInstance:
                return (null, await RefuseAsync(actor, AuditActions.TokenRefused, "unknown token: it belongs to another Builder installation", cancellationToken));
        }

        var hash = TokenSecret.Hash(secret);
        ApiToken? token;
        await using (var scope = _scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            token = await db.Tokens.AsNoTracking().SingleOrDefaultAsync(t => t.SecretHash == hash, cancellationToken);
            if (token is not null && token.FirstUsedAt is null && token.RevokedAt is null && !(token.ExpiresAt <= now))
            {
                // Once per token across every process: only the update that finds it unused records the first use.
                var first = await db.Tokens.Where(t => t.Id == token.Id && t.FirstUsedAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.FirstUsedAt, now).SetProperty(t => t.LastUsedAt, now).SetProperty(t => t.LastUsedFrom, actor.Address), cancellationToken);
                if (first == 1)
                {
                    _audit.Add(db, actor with { Principal = AccessChangeKeys.Token(token.Id) }, AuditActions.TokenFirstUsed, AuditOutcomes.Ok, target: AccessChangeKeys.Token(token.Id), detail: $"token '{token.Name}' used for the first time");
                    await db.SaveChangesAsync(cancellationToken);
                }
            }
        }

        if (token is null)
        {
            return (null, await RefuseAsync(actor, AuditActions.TokenRefused, "unknown token (never created here, or deleted)", cancellationToken));
        }

        var tokenActor = actor with { Principal = AccessChangeKeys.Token(token.Id) };
        if (token.RevokedAt is { } revoked)
        {
            return (null, await RefuseAsync(tokenActor, AuditActions.TokenRefused, $"token revoked on {revoked:yyyy-MM-dd HH:mm} UTC", cancellationToken));
        }

        if (token.ExpiresAt is { } expires && expires <= now)
        {
            return (null, await RefuseAsync(tokenActor, AuditActions.TokenRefused, $"token expired on {expires:yyyy-MM-dd HH:mm} UTC", cancellationToken));
        }

        AccessRights? ownerRights = null;
        var recheck = now + TokenRecheck;
        string? ownerName = null;
        if (token.OwnerId is { } ownerId)
        {
            (ownerRights, var reason) = await _people.OwnerRightsAsync(ownerId, cancellationToken);
            if (ownerRights is null)
            {
                return (null, await RefuseAsync(tokenActor, AuditActions.TokenRefused, reason!, cancellationToken));
            }

            await using var scope = _scopes.CreateAsyncScope();
            ownerName = await scope.ServiceProvider.GetRequiredService<BuilderDbContext>().People.Where(p => p.Id == ownerId).Select(p => p.UserName).SingleAsync(cancellationToken);
            if (_directoryRecheck < TokenRecheck)
            {
                recheck = now + _directoryRecheck;
            }
        }

        var principal = new Principal(AccessChangeKeys.Token(token.Id), PrincipalKind.Token, TokenService.RightsOf(token, ownerRights))
        {
            TokenId = token.Id,
            PersonId = token.OwnerId,
            PersonName = ownerName,
        };
        var entry = new Entry(principal, recheck.UtcTicks)
        {
            TokenExpiresAt = token.ExpiresAt,
            Ranges = TokenService.RangesOf(token),
            // 0: the request that (re)verified it is recorded as a use too (the first use was written above).
            LastTouchedTicks = 0,
        };
        return (entry, null);
    }

    private async Task<(Entry?, Authentication?)> VerifyPersonAsync(string userName, string password, AuditActor actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var personActor = actor with { Principal = "person:" + userName };
        var login = await _people.LoginAsync(userName, password, cancellationToken);
        if (!login.Succeeded)
        {
            LogLoginFailed(_logger, userName, login.Outcome, login.Reason);
            if (login.Outcome == DirectoryOutcome.Unavailable)
            {
                await _audit.RecordAsync(personActor, AuditActions.PersonLoginFailed, AuditOutcomes.Failed, detail: login.Reason, cancellationToken: cancellationToken);
                return (null, new Authentication(null, 503, "the directory that checks passwords is unavailable; try again shortly"));
            }

            // One answer for unknown user and wrong password, so the answer does not reveal which names exist.
            await _audit.RecordAsync(personActor, AuditActions.PersonLoginFailed, AuditOutcomes.Refused, detail: login.Reason, cancellationToken: cancellationToken);
            return (null, Authentication.Unauthorized(login.Disabled ? "this account is disabled" : "unknown user name or wrong password"));
        }

        await _audit.RecordAsync(personActor, AuditActions.PersonLogin, AuditOutcomes.Ok, detail: $"{login.Person!.Source} login", cancellationToken: cancellationToken);
        var principal = new Principal("person:" + login.Person.UserName, PrincipalKind.Person, login.Rights!)
        {
            PersonId = login.Person.Id,
            PersonName = login.Person.UserName,
        };
        var recheck = login.Person.Source == PeopleService.LdapSource ? _directoryRecheck : LocalLoginRecheck;
        return (new Entry(principal, (now + recheck).UtcTicks), null);
    }

    private async Task<(Entry?, Authentication?)> VerifyBuildAsync(string secret, AuditActor actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!_builds.TryRead(secret, out var buildId, out var expires))
        {
            return (null, await RefuseAsync(actor, AuditActions.TokenRefused, "invalid or expired build credentials", cancellationToken));
        }

        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var build = await db.Builds.AsNoTracking().Include(b => b.Repository).SingleOrDefaultAsync(b => b.Id == buildId, cancellationToken);
        if (build is null || build.IsFinished)
        {
            return (null, await RefuseAsync(actor with { Principal = "build:" + buildId }, AuditActions.TokenRefused, "the build these credentials were issued for is finished", cancellationToken));
        }

        var rights = new AccessRights([new Grant(AccessScope.Read, ProjectGlobs.FromStored(build.Repository!.RelayProjects))]);
        var principal = new Principal("build:" + buildId, PrincipalKind.Build, rights);
        var recheck = Math.Min((now + BuildRecheck).UtcTicks, expires.UtcTicks);
        return (new Entry(principal, recheck), null);
    }

    private async Task<Authentication> RefuseAsync(AuditActor actor, string action, string reason, CancellationToken cancellationToken)
    {
        LogRefused(_logger, actor.Principal, actor.Address, reason);
        await _audit.RecordAsync(actor, action, AuditOutcomes.Refused, detail: reason, cancellationToken: cancellationToken);
        return Authentication.Unauthorized(reason);
    }

    private void OnChanged(string topic, string key)
    {
        if (topic == ChangeFeed.Everything || (topic == ChangeTopics.Access && key == ChangeFeed.Everything))
        {
            _cache.Clear();
            return;
        }

        if (topic != ChangeTopics.Access)
        {
            return;
        }

        foreach (var (cacheKey, entry) in _cache)
        {
            var principal = entry.Principal;
            if ((principal.TokenId is { } tokenId && key == AccessChangeKeys.Token(tokenId))
                || (principal.PersonId is { } personId && key == AccessChangeKeys.Person(personId))
                || (principal.SessionId is { } sessionId && key == SessionService.Key(sessionId)))
            {
                _cache.TryRemove(cacheKey, out _);
            }
        }
    }

    /// <summary>A keyed 128-bit hash of the header (SipHash under a key of this process): the cache holds no credential.</summary>
    private UInt128 CacheKey(string header) =>
        SipHash.Hash128(_cacheKey, System.Runtime.InteropServices.MemoryMarshal.AsBytes(header.AsSpan()));

    // Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; ranges are written as plain IPv4.
    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private sealed class Entry(Principal principal, long recheckTicks)
    {
        public long LastTouchedTicks;

        public Principal Principal { get; } = principal;

        /// <summary>The answer for every request this entry admits (one instance: the hot path allocates nothing).</summary>
        public Authentication Admitted { get; } = new(principal, 200, null);

        public long RecheckTicks { get; } = recheckTicks;

        public DateTimeOffset? TokenExpiresAt { get; init; }

        public IPNetwork[]? Ranges { get; init; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Credentials of {Principal} from {Address} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string principal, string? address, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Login of {UserName} refused ({Outcome}): {Reason}")]
    private static partial void LogLoginFailed(ILogger logger, string userName, DirectoryOutcome outcome, string? reason);
}
