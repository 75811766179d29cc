namespace Builder.Core.Access;

/// <summary>What a directory (LDAP / Active Directory) says about a login or a person.</summary>
public enum DirectoryOutcome
{
    /// <summary>The user exists (and, for a login, the password is right); <see cref="DirectoryPerson"/> is set.</summary>
    Found,

    /// <summary>The user exists but the password is wrong (the bind as the user failed).</summary>
    WrongPassword,

    /// <summary>No entry matches the user filter (or more than one does, which is refused as ambiguous).</summary>
    UnknownUser,

    /// <summary>The directory could not be asked (unreachable, service account refused, timeout): nothing is decided.</summary>
    Unavailable,
}

/// <summary>A person as the directory knows them: their entry and the DNs of the groups they are in.</summary>
/// <param name="UserName">The name they log in with (the value matched by the user filter).</param>
/// <param name="Dn">Their entry's distinguished name.</param>
/// <param name="DisplayName">cn or displayName when the entry has one.</param>
/// <param name="Email">mail when the entry has one.</param>
/// <param name="GroupDns">Every group they are in, as DNs, from both group entries that list them and their own memberOf.</param>
public sealed record DirectoryPerson(string UserName, string Dn, string? DisplayName, string? Email, IReadOnlyList<string> GroupDns);

/// <summary>The answer of a directory; <see cref="Person"/> is set only for <see cref="DirectoryOutcome.Found"/>.</summary>
/// <param name="Reason">For anything but Found: why, for the server log (never shown to the client).</param>
public sealed record DirectoryResult(DirectoryOutcome Outcome, DirectoryPerson? Person, string? Reason)
{
    public static DirectoryResult Found(DirectoryPerson person) => new(DirectoryOutcome.Found, person, null);

    public static DirectoryResult Fail(DirectoryOutcome outcome, string reason) => new(outcome, null, reason);
}

/// <summary>
/// A directory of people (LDAP, Active Directory). Builder asks it for logins (bind as the user) and, without a
/// password, to refresh a known person's groups (search as the service account). Mapping groups to Builder's roles is
/// not the directory's business: the access layer does it from configuration.
/// </summary>
public interface IPeopleDirectory
{
    /// <summary>Checks <paramref name="password"/> by binding as the user, then reads their groups.</summary>
    Task<DirectoryResult> AuthenticateAsync(string userName, string password, CancellationToken cancellationToken);

    /// <summary>Reads a person's entry and groups with the service account (no password): a removed or disabled entry is <see cref="DirectoryOutcome.UnknownUser"/>.</summary>
    Task<DirectoryResult> LookupAsync(string userName, CancellationToken cancellationToken);
}
