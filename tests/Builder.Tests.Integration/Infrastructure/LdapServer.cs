using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// A real OpenLDAP server (slapd, mdb backend, memberof overlay) on 127.0.0.1, with its own data in a temp dir:
/// users alice (readers), bob (publishers), carol (admins), dave (no group), erin (readers; a non-ASCII password and name),
/// frank (a DN with filter metacharacters, in a groupOfUniqueNames), two entries with uid=twin, a posixGroup listing
/// alice by memberUid, and a service account that may read everything. slapd and ldap-utils come from
/// scripts/ensure-deps.sh; when they are missing the test fails (it never skips).
/// </summary>
public sealed class LdapServer : IAsyncDisposable
{
    public const string BaseDn = "dc=builder,dc=test";
    public const string PeopleDn = "ou=people," + BaseDn;
    public const string GroupsDn = "ou=groups," + BaseDn;
    public const string ServiceDn = "cn=builder-svc,ou=services," + BaseDn;
    public const string ServicePassword = "svc-Kp4-secret";
    public const string ReadersDn = "cn=readers," + GroupsDn;
    public const string PublishersDn = "cn=publishers," + GroupsDn;
    public const string AdminsDn = "cn=admins," + GroupsDn;
    public const string DevelopersDn = "cn=developers," + GroupsDn;
    public const string AuditorsDn = "cn=auditors," + GroupsDn;

    /// <summary>frank's DN: parentheses and a star are plain characters in a DN (RFC 4514) but filter syntax (RFC 4515).</summary>
    public const string FrankDn = "cn=Frank (Ops) *," + PeopleDn;

    private const string Slapd = "/usr/sbin/slapd";
    private const string Slapadd = "/usr/sbin/slapadd";
    private const string AdminDn = "cn=admin," + BaseDn;
    private const string AdminPassword = "admin-Zq8-secret";

    private static readonly string[] Tools = [Slapd, Slapadd, "/usr/bin/ldapsearch", "/usr/bin/ldapmodify", "/usr/bin/ldappasswd", "/usr/bin/ldapwhoami"];

    private readonly Dictionary<string, string> _passwords;
    private readonly Process _slapd;
    private readonly StringBuilder _log;

    private LdapServer(string directory, int port, Process slapd, StringBuilder log, Dictionary<string, string> passwords)
    {
        DataDirectory = directory;
        Url = $"ldap://127.0.0.1:{port}";
        _slapd = slapd;
        _log = log;
        _passwords = passwords;
    }

    /// <summary>slapd.conf, the database and the LDIF files; deleted on disposal.</summary>
    public string DataDirectory { get; }

    public string Url { get; }

    public static string UserDn(string user) => $"uid={user},{PeopleDn}";

    public string PasswordOf(string user) => _passwords[user];

    public static async Task<LdapServer> StartAsync()
    {
        var missing = Tools.Where(tool => !File.Exists(tool)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"{string.Join(", ", missing)} not found: the LDAP tests need slapd and ldap-utils, which scripts/ensure-deps.sh installs (apt-get install slapd ldap-utils).");
        }

        var directory = TestPaths.NewTempDirectory("ldap");
        try
        {
            var passwords = new Dictionary<string, string>
            {
                ["alice"] = "alice-Rd7-pass",
                ["bob"] = "bob-Pb3-pass",
                ["carol"] = "carol-Ad9-pass",
                ["dave"] = "dave-No1-pass",
                ["erin"] = "pässwört-ß-€",
                ["frank"] = "frank-Op5-pass",
                ["twin"] = "twin-Tw2-pass",
            };
            Directory.CreateDirectory(Path.Combine(directory, "db"));
            var config = Path.Combine(directory, "slapd.conf");
            await File.WriteAllTextAsync(config, Config(directory));
            var entries = Path.Combine(directory, "entries.ldif");
            await File.WriteAllTextAsync(entries, Entries(passwords));
            (await Shell.RunAsync(Slapadd, ["-q", "-f", config, "-l", entries])).EnsureSuccess("slapadd");

            // A port taken between choosing and binding makes slapd exit at once: then try another.
            for (var attempt = 1; ; attempt++)
            {
                var port = LoopbackPorts.Free();
                var log = new StringBuilder();
                var slapd = StartSlapd(config, port, log);
                var server = new LdapServer(directory, port, slapd, log, passwords);
                if (await server.WaitUntilAnsweringAsync())
                {
                    try
                    {
                        // Groups are added through the server, not slapadd: the memberof overlay fills in the
                        // members' memberOf only for changes it sees (slapadd writes the database directly).
                        await server.ModifyAsync(Groups(), add: true);
                        return server;
                    }
                    catch
                    {
                        await server.DisposeAsync();
                        throw;
                    }
                }

                var output = server.Output;
                await server.StopAsync();
                slapd.Dispose();
                if (attempt == 3)
                {
                    throw new InvalidOperationException($"slapd did not answer on {server.Url}:\n{output}");
                }
            }
        }
        catch
        {
            TestPaths.DeleteDirectory(directory);
            throw;
        }
    }

    /// <summary>Adds a member to a groupOfNames (which must keep at least one: readers has two, alice and erin).</summary>
    public Task AddToGroupAsync(string userDn, string groupDn) =>
        ModifyAsync($"dn: {groupDn}\nchangetype: modify\nadd: member\nmember: {userDn}\n", add: false);

    public Task RemoveFromGroupAsync(string userDn, string groupDn) =>
        ModifyAsync($"dn: {groupDn}\nchangetype: modify\ndelete: member\nmember: {userDn}\n", add: false);

    /// <summary>Sets a user's password the way an admin would (Password Modify extended operation, RFC 3062; slapd stores it hashed).</summary>
    public async Task SetPasswordAsync(string user, string password)
    {
        (await Shell.RunAsync("ldappasswd", ["-x", "-H", Url, "-D", AdminDn, "-w", AdminPassword, "-s", password, UserDn(user)]))
            .EnsureSuccess($"ldappasswd {user}");
        _passwords[user] = password;
    }

    /// <summary>Whether slapd accepts a simple bind as <paramref name="dn"/> with an empty password (an unauthenticated bind).</summary>
    public async Task<bool> AcceptsUnauthenticatedBindAsync(string dn) =>
        (await Shell.RunAsync("ldapwhoami", ["-x", "-H", Url, "-D", dn, "-w", string.Empty])).ExitCode == 0;

    /// <summary>Stops slapd (the data stays until disposal): afterwards nothing listens on <see cref="Url"/>.</summary>
    public async Task StopAsync()
    {
        if (!_slapd.HasExited)
        {
            _slapd.Kill(entireProcessTree: true);
        }

        await _slapd.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _slapd.Dispose();
        TestPaths.DeleteDirectory(DataDirectory);
    }

    private string Output
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    private static Process StartSlapd(string config, int port, StringBuilder log)
    {
        // -d 0: stay in the foreground (so this process owns it and Kill stops it) without debug output; slapd still
        // writes fatal errors to stderr. Running as root needs no -u: the files are ours.
        var info = new ProcessStartInfo(Slapd)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-d", "0", "-h", $"ldap://127.0.0.1:{port}/", "-f", config })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start slapd");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task<bool> WaitUntilAnsweringAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (_slapd.HasExited)
            {
                return false;
            }

            var probe = await Shell.RunAsync("ldapsearch", ["-x", "-H", Url, "-b", string.Empty, "-s", "base", "-LLL", "namingContexts"]);
            if (probe.ExitCode == 0)
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }

    private async Task ModifyAsync(string ldif, bool add)
    {
        var file = Path.Combine(DataDirectory, $"change-{Guid.NewGuid():N}.ldif");
        await File.WriteAllTextAsync(file, ldif);
        string[] arguments = ["-x", "-H", Url, "-D", AdminDn, "-w", AdminPassword, "-f", file, .. add ? new[] { "-a" } : []];
        (await Shell.RunAsync("ldapmodify", arguments)).EnsureSuccess("ldapmodify");
        File.Delete(file);
    }

    private static string Config(string directory) => $"""
        include /etc/ldap/schema/core.schema
        include /etc/ldap/schema/cosine.schema
        include /etc/ldap/schema/inetorgperson.schema
        include /etc/ldap/schema/nis.schema
        pidfile {directory}/slapd.pid
        argsfile {directory}/slapd.args
        modulepath /usr/lib/ldap
        moduleload back_mdb
        moduleload memberof
        # Like Active Directory by default: a bind with a DN and an empty password succeeds as anonymous (an
        # "unauthenticated bind", RFC 4513 §5.1.2). The directory under test must refuse such logins itself.
        allow bind_anon_dn

        database mdb
        suffix "{BaseDn}"
        rootdn "{AdminDn}"
        rootpw {AdminPassword}
        directory {directory}/db
        maxsize 16777216
        overlay memberof

        access to attrs=userPassword
          by self write
          by anonymous auth
          by * none
        access to *
          by dn.exact="{ServiceDn}" read
          by self read
          by * none
        """;

    private static string Entries(Dictionary<string, string> passwords)
    {
        var ldif = new StringBuilder();
        void Entry(string dn, params (string Name, string Value)[] attributes)
        {
            ldif.Append(Line("dn", dn));
            foreach (var (name, value) in attributes)
            {
                ldif.Append(Line(name, value));
            }

            ldif.Append('\n');
        }

        void Person(string dn, string uid, string cn, string? mail = null) =>
            Entry(dn, [("objectClass", "inetOrgPerson"), ("uid", uid), ("cn", cn), ("sn", cn.Split(' ')[^1]),
                .. mail is null ? Array.Empty<(string, string)>() : [("mail", mail)],
                ("userPassword", Ssha(passwords[uid]))]);

        Entry(BaseDn, ("objectClass", "dcObject"), ("objectClass", "organization"), ("dc", "builder"), ("o", "Builder tests"));
        Entry(PeopleDn, ("objectClass", "organizationalUnit"), ("ou", "people"));
        Entry("ou=contractors," + PeopleDn, ("objectClass", "organizationalUnit"), ("ou", "contractors"));
        Entry("ou=services," + BaseDn, ("objectClass", "organizationalUnit"), ("ou", "services"));
        Entry(GroupsDn, ("objectClass", "organizationalUnit"), ("ou", "groups"));
        Entry(ServiceDn, ("objectClass", "organizationalRole"), ("objectClass", "simpleSecurityObject"), ("cn", "builder-svc"),
            ("userPassword", Ssha(ServicePassword)));
        Person(UserDn("alice"), "alice", "Alice Reader", "alice@builder.test");
        Person(UserDn("bob"), "bob", "Bob Publisher", "bob@builder.test");
        Person(UserDn("carol"), "carol", "Carol Admin", "carol@builder.test");
        Person(UserDn("dave"), "dave", "Dave Nobody");
        Person(UserDn("erin"), "erin", "Érin Ümlaut", "erin@builder.test");
        Person(FrankDn, "frank", "Frank (Ops) *", "frank@builder.test");
        Person(UserDn("twin"), "twin", "Twin One");
        Person("uid=twin,ou=contractors," + PeopleDn, "twin", "Twin Two");
        return ldif.ToString();
    }

    private static string Groups() => $"""
        dn: {ReadersDn}
        objectClass: groupOfNames
        cn: readers
        member: {UserDn("alice")}
        member: {UserDn("erin")}

        dn: {PublishersDn}
        objectClass: groupOfNames
        cn: publishers
        member: {UserDn("bob")}

        dn: {AdminsDn}
        objectClass: groupOfNames
        cn: admins
        member: {UserDn("carol")}

        dn: {DevelopersDn}
        objectClass: posixGroup
        cn: developers
        gidNumber: 5000
        memberUid: alice

        dn: {AuditorsDn}
        objectClass: groupOfUniqueNames
        cn: auditors
        uniqueMember: {FrankDn}

        """;

    /// <summary>An LDIF line (RFC 2849): base64 (<c>name:: …</c>) when the value is not a SAFE-STRING.</summary>
    private static string Line(string name, string value)
    {
        var safe = value.Length == 0 || (value[0] is not (' ' or ':' or '<') && value.All(c => c is >= ' ' and <= '~'));
        return safe ? $"{name}: {value}\n" : $"{name}:: {Convert.ToBase64String(Encoding.UTF8.GetBytes(value))}\n";
    }

    /// <summary>{SSHA}: base64(SHA-1(password + salt) + salt), as slappasswd writes it.</summary>
    private static string Ssha(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(8);
#pragma warning disable CA5350 // SHA-1 is what the {SSHA} scheme is; this is test data for slapd.
        var hash = SHA1.HashData([.. Encoding.UTF8.GetBytes(password), .. salt]);
#pragma warning restore CA5350
        return "{SSHA}" + Convert.ToBase64String([.. hash, .. salt]);
    }
}

/// <summary>
/// One slapd for a test class whose tests only read the directory (<c>IClassFixture&lt;SharedLdapServer&gt;</c>): a test
/// that changes entries or stops the server starts its own with <see cref="LdapServer.StartAsync"/>.
/// </summary>
public sealed class SharedLdapServer : IAsyncLifetime
{
    private LdapServer? _server;

    public LdapServer Server => _server ?? throw new InvalidOperationException("the shared LDAP server has not started");

    public async Task InitializeAsync() => _server = await LdapServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
