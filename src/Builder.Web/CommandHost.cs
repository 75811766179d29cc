namespace Builder.Web;

/// <summary>The host of the server's commands (<c>import</c>, <c>token</c>): the server's configuration and services, no HTTP server.</summary>
internal static class CommandHost
{
    /// <summary>
    /// A host builder with the configuration sources the web host reads: appsettings.json and
    /// appsettings.{environment}.json, environment variables, and <paramref name="settings"/> (<c>--Builder:DataDir=...</c>).
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = settings,
            // WebApplication.CreateBuilder honours ASPNETCORE_ENVIRONMENT too; read the same appsettings.{environment}.json.
            EnvironmentName = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT"),
        });
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        // Standard output is the command's answer (import's report, the token secret): the log goes to standard error.
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        return builder;
    }
}
