namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// The real Builder web process in its embedded default (SQLite and files in a temp data directory, the admin token of
/// <see cref="BuilderInstance"/>), started once per test class (<c>IClassFixture&lt;EmbeddedBuilder&gt;</c>, or a subclass
/// that adds settings in <see cref="Configure"/>), so the tests of a class that need the same server share one process
/// instead of starting one each.
/// </summary>
public class EmbeddedBuilder : IAsyncLifetime
{
    public string Root { get; } = TestPaths.NewTempDirectory("embedded-builder");

    public string DataDir => Path.Combine(Root, "data");

    public BuilderProcess Web { get; private set; } = null!;

    /// <summary>The web process's address (<c>http://127.0.0.1:PORT</c>).</summary>
    public string BaseUrl => Web.BaseUrl!;

    /// <summary>An admin client of the process.</summary>
    public BuilderClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var settings = BuilderInstance.Embedded(DataDir);
        Configure(settings);
        Web = await BuilderProcess.StartWebAsync(settings);
        Client = BuilderInstance.Client(Web);
    }

    public async Task DisposeAsync()
    {
        Client?.Http.Dispose();
        if (Web is not null)
        {
            await Web.DisposeAsync();
        }

        TestPaths.DeleteDirectory(Root);
    }

    /// <summary>More settings (environment variables) for the process.</summary>
    protected virtual void Configure(Dictionary<string, string> settings)
    {
    }
}
