namespace Builder.Tests.Integration.Infrastructure;

/// <summary>Settings shared by the end-to-end tests, and ways to start Builder in either mode with them.</summary>
internal static class BuilderInstance
{
    public const string AdminToken = "test-admin-token-0123456789";

    /// <summary>Two of the machine's Pythons that the local build image also has: wheels built for them are pip-installed.</summary>
    public static readonly string[] InstallPythons = ["3.9", "3.12"];

    public static Dictionary<string, string> Embedded(string dataDir) => new()
    {
        ["Builder__AdminToken"] = AdminToken,
        ["Builder__DataDir"] = dataDir,
        ["Builder__Build__WorkDir"] = Path.Combine(dataDir, "work"),
    };

    public static Dictionary<string, string> Production(string dataDir, string connectionString) => new(Embedded(dataDir))
    {
        ["ConnectionStrings__Postgres"] = connectionString,
    };

    public static BuilderClient Client(BuilderProcess web) =>
        new(new HttpClient { BaseAddress = new Uri(web.BaseUrl!), Timeout = TimeSpan.FromSeconds(60) }, AdminToken);
}
