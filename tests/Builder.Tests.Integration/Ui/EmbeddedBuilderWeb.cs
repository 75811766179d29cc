using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// The real Builder web process in its embedded default (SQLite and files in a temp data directory, the admin token of
/// <see cref="BuilderInstance"/>), started once per test class (<c>IClassFixture&lt;EmbeddedBuilderWeb&gt;</c>) for the
/// browser to open.
/// </summary>
public sealed class EmbeddedBuilderWeb : IAsyncLifetime
{
    public string Root { get; } = TestPaths.NewTempDirectory("ui");

    public BuilderProcess Web { get; private set; } = null!;

    /// <summary>The web process's address (<c>http://127.0.0.1:PORT</c>).</summary>
    public string BaseUrl => Web.BaseUrl!;

    /// <summary>An admin client of the same process, to make the data the pages show.</summary>
    public BuilderClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Web = await BuilderProcess.StartWebAsync(BuilderInstance.Embedded(Path.Combine(Root, "data")));
        Client = BuilderInstance.Client(Web);
    }

    public async Task DisposeAsync()
    {
        Client.Http.Dispose();
        await Web.DisposeAsync();
        TestPaths.DeleteDirectory(Root);
    }
}
