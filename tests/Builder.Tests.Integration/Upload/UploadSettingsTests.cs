using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Upload;

/// <summary>A bad Builder:Upload setting stops the web process at start, with a message naming it.</summary>
public sealed class UploadSettingsTests : IDisposable
{
    private readonly string _dataDir = TestPaths.NewTempDirectory("upload-settings");

    public void Dispose() => TestPaths.DeleteDirectory(_dataDir);

    [Theory]
    [InlineData("0", "Builder:Upload:MaxFileBytes must be a positive number of bytes")]
    [InlineData("1GB", "Failed to convert configuration value '1GB' at 'Builder:Upload:MaxFileBytes'")]
    public async Task The_web_process_refuses_to_start_and_names_the_setting(string value, string expected)
    {
        var environment = BuilderInstance.Embedded(_dataDir);
        environment["Builder__Upload__MaxFileBytes"] = value;

        await using var web = BuilderProcess.Start(TestPaths.WebAssembly, ["--urls", "http://127.0.0.1:0"], environment);
        var exitCode = await web.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(expected, web.Output, StringComparison.Ordinal);
    }
}
