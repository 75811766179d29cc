using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Builder.Core.Access;
using Builder.Ldap;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// LdapPeopleDirectory against a real slapd (no mocks): one for the class's tests that only read the directory, and one
/// of its own for each test that changes its entries or stops it.
/// </summary>
public sealed class LdapPeopleDirectoryTests(SharedLdapServer shared) : IClassFixture<SharedLdapServer>
{
    private readonly LdapServer _server = shared.Server;

    [Fact]
    public async Task A_reader_logs_in_and_gets_their_entry_and_groups_from_memberOf_group_entries_and_memberUid()
    {
        var result = await Directory().AuthenticateAsync("alice", _server.PasswordOf("alice"), CancellationToken.None);

        Assert.True(result.Outcome == DirectoryOutcome.Found, $"{result.Outcome}: {result.Reason}");
        var person = result.Person!;
        Assert.Equal("alice", person.UserName);
        Assert.Equal(LdapServer.UserDn("alice"), person.Dn);
        Assert.Equal("Alice Reader", person.DisplayName);
        Assert.Equal("alice@builder.test", person.Email);
        // readers lists her by member (and the memberof overlay names it in her memberOf: counted once); developers is a
        // posixGroup that lists her by memberUid.
        Assert.Equal(new[] { LdapServer.DevelopersDn, LdapServer.ReadersDn }, person.GroupDns.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Without_a_group_search_base_the_groups_are_the_entrys_memberOf()
    {
        var result = await Directory(o => o.GroupSearchBase = null).AuthenticateAsync("bob", _server.PasswordOf("bob"), CancellationToken.None);

        Assert.Equal(DirectoryOutcome.Found, result.Outcome);
        Assert.Equal(new[] { LdapServer.PublishersDn }, result.Person!.GroupDns);
    }

    [Fact]
    public async Task A_wrong_password_is_WrongPassword_and_the_reason_does_not_contain_it()
    {
        var result = await Directory().AuthenticateAsync("carol", "not-carols-password", CancellationToken.None);

        Assert.Equal(DirectoryOutcome.WrongPassword, result.Outcome);
        Assert.Null(result.Person);
        Assert.Contains("invalid credentials", result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("not-carols-password", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_user_is_UnknownUser()
    {
        var result = await Directory().AuthenticateAsync("mallory", "whatever-password", CancellationToken.None);

        Assert.Equal(DirectoryOutcome.UnknownUser, result.Outcome);
        Assert.Contains("no entry", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_password_is_refused_although_this_server_accepts_unauthenticated_binds()
    {
        // The guard matters: this slapd (like Active Directory) lets a bind with alice's DN and no password succeed.
        Assert.True(await _server.AcceptsUnauthenticatedBindAsync(LdapServer.UserDn("alice")));

        var result = await Directory().AuthenticateAsync("alice", string.Empty, CancellationToken.None);

        Assert.Equal(DirectoryOutcome.WrongPassword, result.Outcome);
    }

    [Fact]
    public async Task An_empty_user_name_is_UnknownUser()
    {
        var result = await Directory().AuthenticateAsync(string.Empty, "some-password", CancellationToken.None);

        Assert.Equal(DirectoryOutcome.UnknownUser, result.Outcome);
    }

    [Theory]
    [InlineData("al*")] // unescaped, (uid=al*) finds exactly alice, and her password would log in as "al*"
    [InlineData("*")]
    [InlineData("alice)(uid=*")]
    [InlineData("*)(|(uid=*")]
    [InlineData("alice\\")]
    [InlineData("alice\0")]
    public async Task A_user_name_with_filter_syntax_matches_nobody(string userName)
    {
        var result = await Directory().AuthenticateAsync(userName, _server.PasswordOf("alice"), CancellationToken.None);

        Assert.Equal(DirectoryOutcome.UnknownUser, result.Outcome);
        Assert.Contains("no entry", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_entries_with_the_same_uid_are_refused_as_ambiguous()
    {
        var result = await Directory().AuthenticateAsync("twin", _server.PasswordOf("twin"), CancellationToken.None);

        Assert.Equal(DirectoryOutcome.UnknownUser, result.Outcome);
        Assert.Contains("ambiguous", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_filter_that_matches_many_entries_is_refused_as_ambiguous()
    {
        // More entries than the search's size limit: the server stops with sizeLimitExceeded (RFC 4511 §4.1.9).
        var result = await Directory(o => o.UserFilter = "(|(uid={0})(objectClass=inetOrgPerson))")
            .AuthenticateAsync("alice", _server.PasswordOf("alice"), CancellationToken.None);

        Assert.Equal(DirectoryOutcome.UnknownUser, result.Outcome);
        Assert.Contains("ambiguous", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_non_ASCII_password_and_name_go_through_as_UTF8()
    {
        var result = await Directory().AuthenticateAsync("erin", _server.PasswordOf("erin"), CancellationToken.None);

        Assert.Equal(DirectoryOutcome.Found, result.Outcome);
        Assert.Equal("Érin Ümlaut", result.Person!.DisplayName);
    }

    [Fact]
    public async Task A_DN_with_filter_metacharacters_is_escaped_in_the_group_search()
    {
        // frank's DN has "(", ")" and "*"; auditors is a groupOfUniqueNames, which the memberof overlay does not
        // track, so only the group search can find it.
        var result = await Directory().AuthenticateAsync("frank", _server.PasswordOf("frank"), CancellationToken.None);

        Assert.Equal(DirectoryOutcome.Found, result.Outcome);
        Assert.Equal(LdapServer.FrankDn, result.Person!.Dn);
        Assert.Equal(new[] { LdapServer.AuditorsDn }, result.Person.GroupDns);
    }

    [Fact]
    public async Task A_user_in_no_group_is_found_with_no_groups()
    {
        var result = await Directory().AuthenticateAsync("dave", _server.PasswordOf("dave"), CancellationToken.None);

        Assert.Equal(DirectoryOutcome.Found, result.Outcome);
        Assert.Empty(result.Person!.GroupDns);
        Assert.Null(result.Person.Email);
        Assert.Equal("Dave Nobody", result.Person.DisplayName);
    }

    [Fact]
    public async Task Lookup_finds_a_person_and_their_groups_without_a_password()
    {
        var result = await Directory().LookupAsync("carol", CancellationToken.None);

        Assert.Equal(DirectoryOutcome.Found, result.Outcome);
        Assert.Equal(LdapServer.UserDn("carol"), result.Person!.Dn);
        Assert.Equal(new[] { LdapServer.AdminsDn }, result.Person.GroupDns);
    }

    [Fact]
    public async Task Lookup_of_an_unknown_user_is_UnknownUser()
    {
        var result = await Directory().LookupAsync("mallory", CancellationToken.None);

        Assert.Equal(DirectoryOutcome.UnknownUser, result.Outcome);
    }

    [Fact]
    public async Task Group_changes_on_the_server_show_in_the_next_lookup()
    {
        await using var own = await LdapServer.StartAsync();
        var directory = Directory(own);
        var alice = LdapServer.UserDn("alice");

        await own.RemoveFromGroupAsync(alice, LdapServer.ReadersDn);
        var removed = await directory.LookupAsync("alice", CancellationToken.None);
        await own.AddToGroupAsync(alice, LdapServer.PublishersDn);
        var added = await directory.LookupAsync("alice", CancellationToken.None);
        // memberOf alone (no group search) must follow too: the overlay updates it when the group changes.
        var memberOfOnly = await Directory(own, o => o.GroupSearchBase = null).LookupAsync("alice", CancellationToken.None);

        Assert.Equal(new[] { LdapServer.DevelopersDn }, removed.Person!.GroupDns);
        Assert.Equal(new[] { LdapServer.DevelopersDn, LdapServer.PublishersDn }, added.Person!.GroupDns.Order(StringComparer.Ordinal));
        Assert.Equal(new[] { LdapServer.PublishersDn }, memberOfOnly.Person!.GroupDns);
    }

    [Fact]
    public async Task A_changed_password_counts_at_the_next_login()
    {
        await using var own = await LdapServer.StartAsync();
        var directory = Directory(own);
        var old = own.PasswordOf("bob");

        await own.SetPasswordAsync("bob", "bob-new-Xy6-pass");

        Assert.Equal(DirectoryOutcome.WrongPassword, (await directory.AuthenticateAsync("bob", old, CancellationToken.None)).Outcome);
        Assert.Equal(DirectoryOutcome.Found, (await directory.AuthenticateAsync("bob", "bob-new-Xy6-pass", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task A_stopped_server_is_Unavailable_at_once_and_the_reason_names_it_without_passwords()
    {
        await using var own = await LdapServer.StartAsync();
        await own.StopAsync();
        var watch = Stopwatch.StartNew();

        var login = await Directory(own, o => o.TimeoutSeconds = 2).AuthenticateAsync("alice", own.PasswordOf("alice"), CancellationToken.None);
        var lookup = await Directory(own, o => o.TimeoutSeconds = 2).LookupAsync("alice", CancellationToken.None);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        foreach (var result in new[] { login, lookup })
        {
            Assert.Equal(DirectoryOutcome.Unavailable, result.Outcome);
            Assert.Contains($"LDAP server {own.Url} unreachable", result.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain(LdapServer.ServicePassword, result.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain(own.PasswordOf("alice"), result.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_server_that_never_answers_is_Unavailable_after_TimeoutSeconds()
    {
        // Accepts TCP connections (the kernel completes them from the backlog) and never says a word: a hung server.
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            var url = $"ldap://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
            var watch = Stopwatch.StartNew();

            // Without libldap's own timeouts the bind waits forever: the test's bound turns that into a failure.
            var result = await Directory(o => { o.Url = url; o.TimeoutSeconds = 1; })
                .AuthenticateAsync("alice", _server.PasswordOf("alice"), CancellationToken.None)
                .WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(DirectoryOutcome.Unavailable, result.Outcome);
            Assert.Contains($"LDAP server {url} did not answer", result.Reason, StringComparison.Ordinal);
            Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(4));
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public async Task A_signal_to_the_thread_waiting_for_the_server_does_not_make_it_unreachable()
    {
        // libldap waits for the answer in poll(2), which any signal handled by the process interrupts (a child process
        // exiting sends SIGCHLD, to any of its threads). Without LDAP_OPT_RESTART it reported that as LDAP_SERVER_DOWN:
        // a login failed as "unreachable" beside tests that ran processes. Here the signal goes to that very thread.
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            var url = $"ldap://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
            var accepting = silent.AcceptTcpClientAsync();
            var watch = Stopwatch.StartNew();
            var login = Directory(o => { o.Url = url; o.TimeoutSeconds = 3; })
                .AuthenticateAsync("alice", _server.PasswordOf("alice"), CancellationToken.None);

            using var accepted = await accepting.WaitAsync(TimeSpan.FromSeconds(10));
            var clientPort = ((IPEndPoint)accepted.Client.RemoteEndPoint!).Port;
            var waiter = await WaitingThread.InPollOnAsync(clientPort, TimeSpan.FromSeconds(2.5));
            for (var i = 0; i < 5; i++)
            {
                waiter.Signal(WaitingThread.SigChld);
                await Task.Delay(50);
            }

            var result = await login.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(DirectoryOutcome.Unavailable, result.Outcome);
            Assert.Contains($"LDAP server {url} did not answer", result.Reason, StringComparison.Ordinal);
            Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(2.9), TimeSpan.FromSeconds(8));
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public async Task A_wrong_service_password_is_Unavailable_not_a_refused_login()
    {
        var result = await Directory(o => o.BindPassword = "wrong-Sv9-secret").AuthenticateAsync("alice", _server.PasswordOf("alice"), CancellationToken.None);

        Assert.Equal(DirectoryOutcome.Unavailable, result.Outcome);
        Assert.Contains(LdapServer.ServiceDn, result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-Sv9-secret", result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.PasswordOf("alice"), result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_account_without_a_password_is_Unavailable_rather_than_an_unauthenticated_bind()
    {
        var result = await Directory(o => o.BindPassword = string.Empty).LookupAsync("alice", CancellationToken.None);

        Assert.Equal(DirectoryOutcome.Unavailable, result.Outcome);
        Assert.Contains("BindPassword", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_search_base_that_does_not_exist_is_Unavailable()
    {
        var result = await Directory(o => o.UserSearchBase = "ou=nowhere," + LdapServer.BaseDn).LookupAsync("alice", CancellationToken.None);

        Assert.Equal(DirectoryOutcome.Unavailable, result.Outcome);
        Assert.Contains("ou=nowhere", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_call_throws()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Directory().AuthenticateAsync("alice", _server.PasswordOf("alice"), cancelled.Token));
    }

    private LdapPeopleDirectory Directory(Action<LdapOptions>? change = null) => Directory(_server, change);

    private static LdapPeopleDirectory Directory(LdapServer server, Action<LdapOptions>? change = null)
    {
        var options = new LdapOptions
        {
            Url = server.Url,
            BindDn = LdapServer.ServiceDn,
            BindPassword = LdapServer.ServicePassword,
            UserSearchBase = LdapServer.PeopleDn,
            UserFilter = "(uid={0})",
            GroupSearchBase = LdapServer.GroupsDn,
            TimeoutSeconds = 5,
        };
        change?.Invoke(options);
        return new LdapPeopleDirectory(Options.Create(options), NullLogger<LdapPeopleDirectory>.Instance);
    }
}
