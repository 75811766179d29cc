using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>
/// A PostgreSQL server of the test's own (initdb in a temp directory, a free loopback port), for tests that restart it:
/// the shared server the other tests use is never touched. Run as the postgres user, as scripts/ensure-deps.sh does.
/// </summary>
public sealed class PrivatePostgresServer : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";

    private readonly string _root;
    private readonly int _port;

    private PrivatePostgresServer(string root, int port)
    {
        _root = root;
        _port = port;
    }

    private string DataDirectory => Path.Combine(_root, "data");

    /// <summary>The superuser's connection string (trust authentication on loopback).</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Pooling=true";

    public static async Task<PrivatePostgresServer> StartAsync()
    {
        var root = TestPaths.NewTempDirectory("pg");
        var server = new PrivatePostgresServer(root, LoopbackPorts.Free());
        Directory.CreateDirectory(server.DataDirectory);
        (await Shell.RunAsync("chown", ["-R", "postgres:postgres", root])).EnsureSuccess("chown");
        (await server.AsPostgresAsync($"{Bin}/initdb", "-D", server.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8")).EnsureSuccess("initdb");
        (await server.PgCtlAsync("start")).EnsureSuccess("pg_ctl start");
        return server;
    }

    /// <summary><c>pg_ctl restart -m fast</c>: every connection is dropped, the server is back when this returns.</summary>
    public async Task RestartAsync() => (await PgCtlAsync("restart", "-m", "fast")).EnsureSuccess("pg_ctl restart");

    public async ValueTask DisposeAsync()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        await AsPostgresAsync($"{Bin}/pg_ctl", "-D", DataDirectory, "-m", "immediate", "-w", "stop");
        TestPaths.DeleteDirectory(_root);
    }

    private Task<ShellResult> PgCtlAsync(string action, params string[] arguments) =>
        AsPostgresAsync([$"{Bin}/pg_ctl", "-D", DataDirectory, "-o", $"-p {_port} -k {_root} -c listen_addresses=127.0.0.1", "-l", Path.Combine(_root, "postgres.log"), "-w", .. arguments, action]);

    private Task<ShellResult> AsPostgresAsync(params string[] command) =>
        Shell.RunAsync("runuser", ["-u", "postgres", "--", .. command], _root, timeout: TimeSpan.FromMinutes(2));

}
