using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;
using static Builder.Tests.Integration.Access.AccessClientHelpers;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// People from a real slapd (<see cref="LdapServer"/>: alice in readers, bob in publishers, carol in admins, dave in no
/// group) using a real Builder process with their directory passwords, through pip, twine and the API; groups mapped to
/// roles in configuration exactly as an operator writes it (environment variables).
/// </summary>
public sealed class LdapPeopleClientTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    // Long enough that the steps between the directory's answer and the check of the cached rights (a token, four requests,
    // ldapmodify) fit in it on a busy machine: 3 s did not once (3.8 s, with other test classes running beside it).
    private const int CacheSeconds = 10;

    private readonly string _root = TestPaths.NewTempDirectory("ldap-people");
    private LdapServer _ldap = null!;
    private BuilderProcess _web = null!;
    private HttpClient _http = null!;

    private string Home => Dir(_root, "home");

    private string Port => new Uri(_web.BaseUrl!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public async Task InitializeAsync()
    {
        _ldap = await LdapServer.StartAsync();
        var environment = Embedded(Path.Combine(_root, "data"));
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["Builder__Access__People"] = "ldap",
            ["Builder__Access__Ldap__Url"] = _ldap.Url,
            ["Builder__Access__Ldap__BindDn"] = LdapServer.ServiceDn,
            ["Builder__Access__Ldap__BindPassword"] = LdapServer.ServicePassword,
            ["Builder__Access__Ldap__UserSearchBase"] = LdapServer.PeopleDn,
            ["Builder__Access__Ldap__GroupSearchBase"] = LdapServer.GroupsDn,
            ["Builder__Access__Ldap__Groups__0__Dn"] = LdapServer.ReadersDn,
            ["Builder__Access__Ldap__Groups__0__Role"] = "reader",
            ["Builder__Access__Ldap__Groups__0__Projects__0"] = "acme-*",
            ["Builder__Access__Ldap__Groups__1__Dn"] = LdapServer.PublishersDn,
            ["Builder__Access__Ldap__Groups__1__Role"] = "publisher",
            ["Builder__Access__Ldap__Groups__1__Projects__0"] = "acme-*",
            ["Builder__Access__Ldap__Groups__2__Dn"] = LdapServer.AdminsDn,
            ["Builder__Access__Ldap__Groups__2__Role"] = "admin",
            ["Builder__Access__Ldap__CacheSeconds"] = CacheSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            environment[key] = value;
        }

        _web = await BuilderProcess.StartWebAsync(environment);
        _http = new HttpClient { BaseAddress = new Uri(_web.BaseUrl!), Timeout = TimeSpan.FromSeconds(60) };
        var dist = Dir(_root, "dist");
        await PublishAsync(_http, Distributions.Wheel(dist, "acme-sdk", "1.0.0"), "acme-sdk", "1.0.0");
        await PublishAsync(_http, Distributions.Wheel(dist, "other-lib", "1.0.0"), "other-lib", "1.0.0");
    }

    public void Dispose()
    {
        _http?.Dispose();
    }

    public async Task DisposeAsync()
    {
        await _web.DisposeAsync();
        await _ldap.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    [Fact]
    public async Task Directory_people_install_upload_and_audit_by_their_groups_and_nobody_else_gets_in()
    {
        var alice = Basic("alice", _ldap.PasswordOf("alice"));
        var dave = Basic("dave", _ldap.PasswordOf("dave"));
        var venv = await VenvAsync("3.13", "24.2", _root);

        // alice (readers → reader of acme-*): pip with her directory password in the index URL.
        var installed = (await PipInstallAsync(venv, Home, IndexUrl("alice", _ldap.PasswordOf("alice")), "acme-sdk")).EnsureSuccess("pip install as alice");
        Assert.Contains("Successfully installed acme-sdk-1.0.0", installed.Output, StringComparison.Ordinal);
        Assert.Equal(["acme-sdk"], Links((await GetAsync(_http, "/simple/", alice)).Body));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_http, "/simple/other-lib/", alice)).Status);

        // dave (no group): signed in, but nothing exists for him.
        var daveRoot = await GetAsync(_http, "/simple/", dave);
        Assert.Equal(HttpStatusCode.OK, daveRoot.Status);
        Assert.Empty(Links(daveRoot.Body));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_http, "/simple/acme-sdk/", dave)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_http, "/pypi/acme-sdk/json", dave)).Status);
        var daveRun = await PipInstallAsync(venv, Home, IndexUrl("dave", _ldap.PasswordOf("dave")), "--force-reinstall", "acme-sdk");
        Assert.True(daveRun.ExitCode != 0, daveRun.Output);
        Assert.Contains("Could not find a version that satisfies the requirement acme-sdk (from versions: none)", daveRun.Output, StringComparison.Ordinal);
        Assert.Contains("No matching distribution found for acme-sdk", daveRun.Output, StringComparison.Ordinal);

        // A wrong password, and a user the directory does not know: the same 401, which says nothing about which it was.
        var refusals = new[]
        {
            await GetAsync(_http, "/simple/acme-sdk/", Basic("alice", "not-alices-password")),
            await GetAsync(_http, "/simple/acme-sdk/", Basic("mallory", "whatever-password")),
        };
        Assert.All(refusals, r => Assert.Equal(HttpStatusCode.Unauthorized, r.Status));
        Assert.All(refusals, r => Assert.Equal("unknown user name or wrong password", r.Reason));
        var wrongRun = await PipInstallAsync(venv, Home, IndexUrl("alice", "not-alices-password"), "-vv", "--force-reinstall", "acme-sdk");
        Assert.True(wrongRun.ExitCode != 0, wrongRun.Output);
        Assert.Contains($"401 Client Error: unknown user name or wrong password for url: http://127.0.0.1:{Port}/simple/acme-sdk/", wrongRun.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("not-alices-password", wrongRun.Output, StringComparison.Ordinal);

        // bob (publishers → publisher of acme-*): twine with his directory password uploads to acme-*, not elsewhere.
        var dist = Dir(_root, "bob");
        var bobs = await TwineAsync(_web.BaseUrl!, Home, "bob", _ldap.PasswordOf("bob"), Distributions.Wheel(dist, "acme-bob", "0.1.0"));
        bobs.EnsureSuccess("twine upload as bob");
        var bobsElsewhere = await TwineAsync(_web.BaseUrl!, Home, "bob", _ldap.PasswordOf("bob"), Distributions.Wheel(dist, "other-bob", "0.1.0"));
        Assert.True(bobsElsewhere.ExitCode != 0, bobsElsewhere.Output);
        Assert.Contains("403 Forbidden", bobsElsewhere.Output, StringComparison.Ordinal);
        Assert.Contains("'bob' may not upload to project 'other-bob'", bobsElsewhere.Output, StringComparison.Ordinal);
        Assert.Equal(["acme_bob-0.1.0-py3-none-any.whl"], Links((await GetAsync(_http, "/simple/acme-bob/", alice)).Body));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_http, "/simple/other-bob/", BuilderInstance.AdminAuthorization)).Status);

        // carol (admins): the audit log, with every login above; nobody else may read it.
        var carol = Basic("carol", _ldap.PasswordOf("carol"));
        var logins = await AuditPrincipalsAsync(carol, "person:login");
        Assert.Equal(["person:alice", "person:bob", "person:carol", "person:dave"], logins.Distinct().Order(StringComparer.Ordinal));
        var failed = await AuditPrincipalsAsync(carol, "person:login_failed");
        Assert.Equal(["person:alice", "person:mallory"], failed.Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(_http, "/api/audit", alice)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(_http, "/api/audit", dave)).Status);
        var uploads = await AuditPrincipalsAsync(carol, "file:uploaded");
        Assert.Single(uploads, p => p == "person:bob");
    }

    [Fact]
    public async Task Removed_from_readers_alice_and_her_own_token_stop_reading_after_the_cache_time()
    {
        var alice = Basic("alice", _ldap.PasswordOf("alice"));
        // Her first request to this process: the directory is asked now, and the answer is reused for CacheSeconds.
        var sinceBind = Stopwatch.StartNew();
        var token = await CreateTokenAsync(_http, new { name = "alice-laptop", scopes = new[] { "read" } }, alice);
        var answeredBy = sinceBind.Elapsed;
        var ownToken = TokenBasic(token.Secret);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_http, "/simple/acme-sdk/", alice)).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_http, "/simple/acme-sdk/", ownToken)).Status);
        // Her token asked for every project, and gets no more than she has.
        Assert.Equal(["acme-sdk"], Links((await GetAsync(_http, "/simple/", ownToken)).Body));

        await _ldap.RemoveFromGroupAsync(LdapServer.UserDn("alice"), LdapServer.ReadersDn);

        // Within the cache time the directory is not asked again: what it said last still holds.
        var stillPassword = await GetAsync(_http, "/simple/acme-sdk/", alice);
        var stillToken = await GetAsync(_http, "/simple/acme-sdk/", ownToken);
        var checkedAfter = sinceBind.Elapsed;
        Assert.True(checkedAfter < TimeSpan.FromSeconds(CacheSeconds), $"the machine took {checkedAfter} to get here: longer than the cache time, so this run proves nothing about it");
        Assert.Equal(HttpStatusCode.OK, stillPassword.Status);
        Assert.Equal(HttpStatusCode.OK, stillToken.Status);

        // Access lasts no longer than the cache time: every request that began after the directory's answer (at the latest
        // when the token was made) plus the cache time is refused. A request begun before may answer late on a busy
        // machine, so what is bounded is when the last granted request began, not when the first refusal arrived.
        var (passwordGrantedUntil, passwordRefused) = await LastGrantedAsync(alice);
        var (tokenGrantedUntil, tokenRefused) = await LastGrantedAsync(ownToken);
        output.WriteLine($"alice's last read with her password began {passwordGrantedUntil.TotalSeconds:0.0} s, with her token {tokenGrantedUntil.TotalSeconds:0.0} s after the directory was first asked; her token was made {answeredBy.TotalSeconds:0.0} s after (cache {CacheSeconds} s); removal checked {checkedAfter.TotalSeconds:0.00} s after");

        Assert.True(passwordRefused, "alice still reads with her password 60 s after her removal");
        Assert.True(tokenRefused, "alice's token still reads 60 s after her removal");
        var bound = answeredBy + TimeSpan.FromSeconds(CacheSeconds + 1);
        Assert.True(passwordGrantedUntil < bound, $"a read with her password that began {passwordGrantedUntil} after the first directory question was granted (cache {CacheSeconds} s, answered by {answeredBy})");
        Assert.True(tokenGrantedUntil < bound, $"a read with her token that began {tokenGrantedUntil} after the first directory question was granted (cache {CacheSeconds} s, answered by {answeredBy})");

        async Task<(TimeSpan LastGrantedStart, bool Refused)> LastGrantedAsync(System.Net.Http.Headers.AuthenticationHeaderValue credentials)
        {
            var lastGranted = TimeSpan.Zero;
            while (sinceBind.Elapsed < TimeSpan.FromSeconds(60))
            {
                var began = sinceBind.Elapsed;
                var answer = await GetAsync(_http, "/simple/acme-sdk/", credentials);
                if (answer.Status == HttpStatusCode.NotFound)
                {
                    return (lastGranted, true);
                }

                Assert.Equal(HttpStatusCode.OK, answer.Status);
                lastGranted = began;
                await Task.Delay(100);
            }

            return (lastGranted, false);
        }

        // Still signed in (her password is right), and her token still valid: both simply see nothing now.
        Assert.Empty(Links((await GetAsync(_http, "/simple/", alice)).Body));
        Assert.Empty(Links((await GetAsync(_http, "/simple/", ownToken)).Body));
        var logins = await AuditPrincipalsAsync(BuilderInstance.AdminAuthorization, "person:login");
        Assert.True(logins.Count(p => p == "person:alice") >= 2, "alice's rights were read from the directory again: " + string.Join(", ", logins));
    }

    private string IndexUrl(string user, string password) =>
        $"http://{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password)}@127.0.0.1:{Port}/simple/";

    private async Task<List<string>> AuditPrincipalsAsync(System.Net.Http.Headers.AuthenticationHeaderValue credentials, string action)
    {
        var audit = await GetAsync(_http, $"/api/audit?action={action}&limit=1000", credentials);
        Assert.True(audit.Status == HttpStatusCode.OK, $"GET /api/audit: {(int)audit.Status} {audit.Body}");
        var events = JsonDocument.Parse(audit.Body).RootElement.GetProperty("events").EnumerateArray().ToList();
        Assert.All(events, e => Assert.Equal(action, e.GetProperty("action").GetString()));
        return [.. events.Select(e => e.GetProperty("principal").GetString()!)];
    }
}
