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

    [Fact]
    public async Task The_worker_refuses_to_start_without_PostgreSQL()
    {
        await using var worker = BuilderProcess.Start(TestPaths.WorkerAssembly, [], new Dictionary<string, string> { ["Builder__DataDir"] = _dataDir });
        var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        Assert.Contains("ConnectionStrings__Postgres", worker.Output, StringComparison.Ordinal);
    }
}
