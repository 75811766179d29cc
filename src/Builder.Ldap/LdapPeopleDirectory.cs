using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
using System.Text;
using Builder.Core.Access;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Ldap;

/// <summary>
/// People from an LDAP server or Active Directory. A login searches for the user's entry as the service account, then
/// proves the password with a simple bind as that entry (RFC 4513 §5.1.3) on a connection of its own, so the service
/// account's session never takes on the user's identity. Groups are the entry's memberOf plus the groups under
/// <see cref="LdapOptions.GroupSearchBase"/> that list the user.
/// <para>
/// Each call opens its own connections and closes them: logins are rare next to index reads, and a fresh connection
/// never carries a previous caller's bind.
/// </para>
/// </summary>
internal sealed partial class LdapPeopleDirectory(IOptions<LdapOptions> options, ILogger<LdapPeopleDirectory> logger) : IPeopleDirectory
{
    // RFC 4511 §4.1.9 result codes, and the client-side codes System.DirectoryServices.Protocols reports (it maps
    // libldap's negative codes to these Windows LDAP_* values).
    private const int InvalidCredentials = 49;
    private const int ServerDown = 81;
    private const int ClientTimeout = 85;
    private const int ConnectError = 91;

    // memberOf is operational on OpenLDAP (memberof overlay): the server returns it only when it is asked for by name.
    private static readonly string[] PersonAttributes = ["cn", "displayName", "mail", "uid", "memberOf"];

    // RFC 4511 §4.5.1.8: the attribute list "1.1" asks for no attributes; the group search needs only DNs.
    private static readonly string[] NoAttributes = ["1.1"];

    public Task<DirectoryResult> AuthenticateAsync(string userName, string password, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(userName))
        {
            return Task.FromResult(Refused("login", userName, DirectoryOutcome.UnknownUser, "empty user name"));
        }

        if (string.IsNullOrEmpty(password))
        {
            // RFC 4513 §5.1.2: a simple bind with a name and an empty password is an "unauthenticated bind"; servers
            // that allow it (Active Directory does by default) answer success without checking anything.
            return Task.FromResult(Refused("login", userName, DirectoryOutcome.WrongPassword,
                "empty password (a bind with it would be an unauthenticated bind, RFC 4513 §5.1.2)"));
        }

        return AskAsync(userName, password, cancellationToken);
    }

    public Task<DirectoryResult> LookupAsync(string userName, CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(userName)
            ? Task.FromResult(Refused("lookup", userName, DirectoryOutcome.UnknownUser, "empty user name"))
            : AskAsync(userName, password: null, cancellationToken);

    /// <summary>
    /// Escapes an assertion value for a search filter (RFC 4515 §3): <c>\ * ( )</c> and NUL become <c>\5c \2a \28 \29 \00</c>.
    /// Without it a user name like <c>*</c> or <c>alice)(uid=*</c> would rewrite the filter.
    /// </summary>
    internal static string EscapeFilterValue(string value)
    {
        var escaped = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            escaped.Append(c switch
            {
                '\\' => @"\5c",
                '*' => @"\2a",
                '(' => @"\28",
                ')' => @"\29",
                '\0' => @"\00",
                _ => c.ToString(),
            });
        }

        return escaped.ToString();
    }

    /// <summary>The user filter with <c>{0}</c> replaced by the escaped user name (not string.Format: a filter may contain braces of its own).</summary>
    internal static string UserFilter(string template, string userName) =>
        template.Replace("{0}", EscapeFilterValue(userName), StringComparison.Ordinal);

    /// <summary>Groups that list the user by DN (groupOfNames, groupOfUniqueNames) or by login name (posixGroup, RFC 2307).</summary>
    internal static string GroupFilter(string userDn, string uid)
    {
        var dn = EscapeFilterValue(userDn);
        return $"(|(member={dn})(uniqueMember={dn})(memberUid={EscapeFilterValue(uid)}))";
    }

    private async Task<DirectoryResult> AskAsync(string userName, string? password, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        // libldap's calls block: they run on a pool thread, and the caller stops waiting when cancelled. The blocked
        // call itself ends within TimeoutSeconds (OpenLdapDefaults), so nothing is held for long after.
        var result = await Task.Run(() => Ask(settings, userName, password, cancellationToken), cancellationToken)
            .WaitAsync(cancellationToken);
        switch (result.Outcome)
        {
            case DirectoryOutcome.Found:
                LogFound(logger, password is null ? "lookup" : "login", userName, result.Person!.Dn, result.Person.GroupDns.Count);
                break;
            case DirectoryOutcome.Unavailable:
                LogUnavailable(logger, userName, result.Reason);
                break;
            default:
                LogRefused(logger, password is null ? "lookup" : "login", userName, result.Outcome, result.Reason);
                break;
        }

        return result;
    }

    private DirectoryResult Refused(string operation, string userName, DirectoryOutcome outcome, string reason)
    {
        LogRefused(logger, operation, userName, outcome, reason);
        return DirectoryResult.Fail(outcome, reason);
    }

    /// <summary>The blocking part: connect, bind, search. <paramref name="password"/> null is a lookup (no user bind).</summary>
    private static DirectoryResult Ask(LdapOptions settings, string userName, string? password, CancellationToken cancellationToken)
    {
        if (!LdapEndpoint.TryParse(settings.Url, out var endpoint, out var problem))
        {
            return Unavailable(problem);
        }

        if (string.IsNullOrWhiteSpace(settings.UserSearchBase))
        {
            return Unavailable("Builder:Access:Ldap:UserSearchBase is not set");
        }

        NetworkCredential? serviceCredential = null;
        if (!string.IsNullOrEmpty(settings.BindDn))
        {
            if (string.IsNullOrEmpty(settings.BindPassword))
            {
                // The same unauthenticated bind as an empty user password (RFC 4513 §5.1.2): it would "succeed" with
                // anonymous rights and make every user look unknown.
                return Unavailable($"Builder:Access:Ldap:BindPassword is empty for the service account {settings.BindDn}");
            }

            serviceCredential = new NetworkCredential(settings.BindDn, settings.BindPassword);
        }

        var timeout = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        var serviceName = serviceCredential is null ? "anonymous" : $"the service account {settings.BindDn}";
        try
        {
            using var service = Connect(endpoint, serviceCredential, timeout);
            try
            {
                service.Bind();
            }
            catch (LdapException ex) when (ex.ErrorCode == InvalidCredentials)
            {
                return Unavailable($"LDAP server {endpoint} refused {serviceName}: invalid credentials");
            }
            catch (DirectoryException ex)
            {
                return Unavailable(Describe(endpoint, $"binding as {serviceName}", timeout, ex));
            }

            cancellationToken.ThrowIfCancellationRequested();
            var search = new SearchRequest(settings.UserSearchBase, UserFilter(settings.UserFilter, userName), SearchScope.Subtree, PersonAttributes)
            {
                // Two entries are enough to tell one from ambiguous, without reading a whole directory when a filter
                // is too broad. TimeLimit is the server's limit (RFC 4511 §4.5.1.6); LdapConnection.Timeout ours.
                SizeLimit = 2,
                TimeLimit = timeout,
            };
            SearchResponse found;
            try
            {
                found = (SearchResponse)service.SendRequest(search);
            }
            catch (DirectoryOperationException ex) when (ex.Response?.ResultCode == ResultCode.SizeLimitExceeded)
            {
                return DirectoryResult.Fail(DirectoryOutcome.UnknownUser,
                    $"ambiguous: more than one entry under {settings.UserSearchBase} matches {search.Filter}");
            }
            catch (DirectoryException ex)
            {
                return Unavailable(Describe(endpoint, $"searching {settings.UserSearchBase} as {serviceName}", timeout, ex));
            }

            if (found.Entries.Count == 0)
            {
                return DirectoryResult.Fail(DirectoryOutcome.UnknownUser, $"no entry under {settings.UserSearchBase} matches {search.Filter}");
            }

            if (found.Entries.Count > 1)
            {
                return DirectoryResult.Fail(DirectoryOutcome.UnknownUser,
                    $"ambiguous: {found.Entries.Count} entries under {settings.UserSearchBase} match {search.Filter}");
            }

            var entry = found.Entries[0];
            var dn = entry.DistinguishedName;
            if (password is not null)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var refused = BindAsUser(endpoint, dn, password, timeout);
                if (refused is not null)
                {
                    return refused;
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            var groups = new List<string>();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var group in Values(entry, "memberOf"))
            {
                if (seen.Add(group))
                {
                    groups.Add(group);
                }
            }

            if (!string.IsNullOrWhiteSpace(settings.GroupSearchBase))
            {
                // memberUid holds the login name as stored (RFC 2307: caseExactIA5Match), so the entry's own uid
                // rather than what was typed, which the user filter may have matched case-insensitively.
                var uid = Values(entry, "uid").FirstOrDefault() ?? userName;
                var groupSearch = new SearchRequest(settings.GroupSearchBase, GroupFilter(dn, uid), SearchScope.Subtree, NoAttributes)
                {
                    TimeLimit = timeout,
                };
                try
                {
                    foreach (SearchResultEntry group in ((SearchResponse)service.SendRequest(groupSearch)).Entries)
                    {
                        if (seen.Add(group.DistinguishedName))
                        {
                            groups.Add(group.DistinguishedName);
                        }
                    }
                }
                catch (DirectoryException ex)
                {
                    return Unavailable(Describe(endpoint, $"searching groups under {settings.GroupSearchBase}", timeout, ex));
                }
            }

            var displayName = Values(entry, "displayName").FirstOrDefault() ?? Values(entry, "cn").FirstOrDefault();
            var email = Values(entry, "mail").FirstOrDefault();
            return DirectoryResult.Found(new DirectoryPerson(userName, dn, displayName, email, groups));
        }
        catch (DllNotFoundException ex)
        {
            return Unavailable($"LDAP client library missing: {ex.Message}");
        }
    }

    /// <summary>Null when the password is right; otherwise why not (or why it could not be checked).</summary>
    private static DirectoryResult? BindAsUser(LdapEndpoint endpoint, string dn, string password, TimeSpan timeout)
    {
        using var connection = Connect(endpoint, new NetworkCredential(dn, password), timeout);
        try
        {
            connection.Bind();
            return null;
        }
        catch (LdapException ex) when (ex.ErrorCode == InvalidCredentials)
        {
            // Active Directory also answers 49 for locked, expired and disabled accounts (the detail is in the server
            // message, e.g. "data 775"): all of them are a refused login.
            var detail = string.IsNullOrEmpty(ex.ServerErrorMessage) ? string.Empty : $" ({ex.ServerErrorMessage.Trim()})";
            return DirectoryResult.Fail(DirectoryOutcome.WrongPassword, $"LDAP server {endpoint} refused the password of {dn}: invalid credentials{detail}");
        }
        catch (LdapException ex)
        {
            // Every other LdapException is the client's: unreachable, timed out, TLS, local errors. Nothing is decided.
            return Unavailable(Describe(endpoint, $"binding as {dn}", timeout, ex));
        }
        catch (DirectoryOperationException ex)
        {
            // The server answered the bind with another result code (unwillingToPerform, constraintViolation from a
            // password policy, ...): the login is refused, not undecided.
            return DirectoryResult.Fail(DirectoryOutcome.WrongPassword, $"LDAP server {endpoint} refused the bind as {dn}: {ex.Message}");
        }
    }

    private static LdapConnection Connect(LdapEndpoint endpoint, NetworkCredential? credential, TimeSpan timeout)
    {
        var connection = OpenLdapDefaults.CreateWithTimeout(timeout, () => new LdapConnection(
            new LdapDirectoryIdentifier(endpoint.Server, fullyQualifiedDnsHostName: false, connectionless: false),
            credential,
            credential is null ? AuthType.Anonymous : AuthType.Basic));
        // Binds are explicit, so each failure is attributed to the bind or the search that caused it.
        connection.AutoBind = false;
        connection.Timeout = timeout;
        connection.SessionOptions.ProtocolVersion = 3;
        connection.SessionOptions.SecureSocketLayer = endpoint.Secure;
        // Active Directory answers searches at a domain's root with continuation references to other partitions
        // (RFC 4511 §4.5.3); following them would bind anonymously elsewhere and wait on servers we were not given.
        connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
        return connection;
    }

    private static string Describe(LdapEndpoint endpoint, string what, TimeSpan timeout, DirectoryException ex) => ex switch
    {
        LdapException { ErrorCode: ServerDown or ConnectError } => $"LDAP server {endpoint} unreachable: {ex.Message}",
        LdapException { ErrorCode: ClientTimeout } =>
            $"LDAP server {endpoint} did not answer {what} within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s",
        LdapException ldap => $"{what} on LDAP server {endpoint} failed: {ldap.Message.Trim()} (LDAP error {ldap.ErrorCode})"
            + (string.IsNullOrEmpty(ldap.ServerErrorMessage) ? string.Empty : $": {ldap.ServerErrorMessage.Trim()}"),
        DirectoryOperationException { Response: { } response } =>
            $"{what} on LDAP server {endpoint} failed: {response.ResultCode} {response.ErrorMessage}".TrimEnd(),
        _ => $"{what} on LDAP server {endpoint} failed: {ex.Message}",
    };

    private static DirectoryResult Unavailable(string reason) => DirectoryResult.Fail(DirectoryOutcome.Unavailable, reason);

    private static IEnumerable<string> Values(SearchResultEntry entry, string attribute) =>
        entry.Attributes[attribute] is { } values ? values.GetValues(typeof(string)).Cast<string>() : [];

    [LoggerMessage(Level = LogLevel.Debug, Message = "LDAP {Operation} of {UserName} found {Dn} in {GroupCount} group(s)")]
    private static partial void LogFound(ILogger logger, string operation, string userName, string dn, int groupCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "LDAP {Operation} of {UserName} refused ({Outcome}): {Reason}")]
    private static partial void LogRefused(ILogger logger, string operation, string userName, DirectoryOutcome outcome, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "LDAP directory unavailable for {UserName}: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string userName, string? reason);
}
