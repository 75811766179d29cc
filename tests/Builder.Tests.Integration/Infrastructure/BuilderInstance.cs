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
        // Each instance's containers are its own (one owner per data directory, so a restart sweeps its predecessor's),
        // so no other Builder on this Docker engine sweeps them away mid-build.
        ["Builder__Build__WorkerName"] = "test-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(dataDir)))[..12],
    };

    public static Dictionary<string, string> Production(string dataDir, string connectionString) => new(Embedded(dataDir))
    {
        ["Builder__Database"] = "postgres",
        ["ConnectionStrings__Postgres"] = connectionString,
    };

    public static BuilderClient Client(BuilderProcess web) => new(AdminHttp(web.BaseUrl!), AdminToken);

    /// <summary>An HTTP client that sends the admin token with every request (Builder is private by default).</summary>
    public static HttpClient AdminHttp(string baseUrl, HttpMessageHandler? handler = null)
    {
        var http = handler is null ? new HttpClient() : new HttpClient(handler);
        http.BaseAddress = new Uri(baseUrl);
        http.Timeout = TimeSpan.FromSeconds(60);
        http.DefaultRequestHeaders.Authorization = AdminAuthorization;
        return http;
    }

    public static System.Net.Http.Headers.AuthenticationHeaderValue AdminAuthorization => new("Bearer", AdminToken);

    /// <summary>An index URL with the admin token as HTTP Basic password (user __token__), as pip and uv take credentials.</summary>
    public static string WithCredentials(string url, string secret = AdminToken) =>
        new UriBuilder(url) { UserName = "__token__", Password = Uri.EscapeDataString(secret) }.Uri.AbsoluteUri;
}
