using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Host;

/// <summary>A missing or bad setting stops the process at start, with a message that names the setting.</summary>
public sealed class StartupValidationTests : IDisposable
{
    private readonly string _dataDir = TestPaths.NewTempDirectory("startup");

    public void Dispose() => TestPaths.DeleteDirectory(_dataDir);

    [Theory]
    [InlineData(null, null, "Builder:AdminToken")]
    [InlineData("short", null, "Builder:AdminToken must be at least 16")]
    [InlineData(BuilderInstance.AdminToken, "sparc", "Builder:Build:Architectures names 'sparc'")]
    public async Task The_web_process_refuses_to_start_and_names_the_setting(string? token, string? architecture, string expected)
    {
        var environment = new Dictionary<string, string> { ["Builder__DataDir"] = _dataDir, ["Builder__AdminToken"] = token ?? "" };
        if (architecture is not null)
        {
            environment["Builder__Build__Architectures__0"] = architecture;
        }

        await using var web = BuilderProcess.Start(TestPaths.WebAssembly, ["--urls", "http://127.0.0.1:0"], environment);
        var exitCode = await web.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(expected, web.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "Host=127.0.0.1;Port=1;Username=x", "ConnectionStrings:Postgres is set but Builder:Database is not 'postgres'")]
    [InlineData("postgres", null, "Builder:Database is 'postgres' but ConnectionStrings:Postgres is not set")]
    [InlineData("mysql", null, "Builder:Database is 'mysql': use 'sqlite' (the embedded default) or 'postgres' (production)")]
    public async Task The_database_is_chosen_by_an_explicit_setting_never_guessed_from_a_connection_string(string? database, string? connectionString, string expected)
    {
        var environment = new Dictionary<string, string> { ["Builder__DataDir"] = _dataDir, ["Builder__AdminToken"] = BuilderInstance.AdminToken };
        if (database is not null)
        {
            environment["Builder__Database"] = database;
        }

        if (connectionString is not null)
        {
            environment["ConnectionStrings__Postgres"] = connectionString;
        }

        await using var web = BuilderProcess.Start(TestPaths.WebAssembly, ["--urls", "http://127.0.0.1:0"], environment);
        await using var worker = BuilderProcess.Start(TestPaths.WorkerAssembly, [], environment);

        Assert.NotEqual(0, await web.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(2, await worker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(expected, web.Output, StringComparison.Ordinal);
        Assert.Contains(expected, worker.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", "15")]
    [InlineData("20", "0")]
    public async Task Lease_settings_that_would_expire_a_live_run_refuse_to_start(string leaseTimeout, string heartbeat)
    {
        var environment = new Dictionary<string, string>
        {
            ["Builder__DataDir"] = _dataDir,
            ["Builder__AdminToken"] = BuilderInstance.AdminToken,
            ["Builder__Jobs__LeaseTimeoutSeconds"] = leaseTimeout,
            ["Builder__Jobs__HeartbeatSeconds"] = heartbeat,
        };

        await using var web = BuilderProcess.Start(TestPaths.WebAssembly, ["--urls", "http://127.0.0.1:0"], environment);

        Assert.NotEqual(0, await web.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Builder:Jobs:", web.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_change_poll_too_frequent_for_the_database_refuses_to_start()
    {
        var environment = new Dictionary<string, string>
        {
            ["Builder__DataDir"] = _dataDir,
            ["Builder__AdminToken"] = BuilderInstance.AdminToken,
            ["Builder__Database"] = "postgres",
            ["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Username=x",
            ["Builder__Changes__PollMilliseconds"] = "10",
        };

        await using var web = BuilderProcess.Start(TestPaths.WebAssembly, ["--urls", "http://127.0.0.1:0"], environment);

        Assert.NotEqual(0, await web.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Builder:Changes:PollMilliseconds must be between 50 and 60000", web.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_worker_refuses_to_start_without_PostgreSQL()
    {
        await using var worker = BuilderProcess.Start(TestPaths.WorkerAssembly, [], new Dictionary<string, string> { ["Builder__DataDir"] = _dataDir });
        var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        Assert.Contains("ConnectionStrings__Postgres", worker.Output, StringComparison.Ordinal);
    }
}
