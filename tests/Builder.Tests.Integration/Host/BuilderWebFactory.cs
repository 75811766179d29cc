using System.Collections.Concurrent;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Builder.Tests.Integration.Host;

/// <summary>Records enqueued builds instead of running them: these tests are about the HTTP edge, not the build.</summary>
public sealed class RecordingDispatcher : IBuildDispatcher
{
    public ConcurrentQueue<long> Enqueued { get; } = new();

    public ConcurrentQueue<string> Cancelled { get; } = new();

    public void Enqueue(long buildId) => Enqueued.Enqueue(buildId);

    public ConcurrentQueue<(long PartId, string Architecture)> EnqueuedParts { get; } = new();

    public string EnqueuePart(long partId, string architecture)
    {
        EnqueuedParts.Enqueue((partId, architecture));
        return $"part-{partId}";
    }

    public ConcurrentQueue<long> EnqueuedPublications { get; } = new();

    public void EnqueuePublish(long buildId) => EnqueuedPublications.Enqueue(buildId);

    public void Cancel(string jobId) => Cancelled.Enqueue(jobId);
}

/// <summary>
/// The real web app in the test host with its own data directory: embedded mode, or production mode (the web role:
/// no job server) on the given PostgreSQL database.
/// </summary>
public sealed class BuilderWebFactory(string? dataDir = null, string? postgres = null) : WebApplicationFactory<Program>
{
    // A data directory handed in belongs to the caller (e.g. to start the app again on the same data); ours is deleted.
    private readonly bool _ownsDataDir = dataDir is null;
    private readonly string _dataDir = dataDir ?? TestPaths.NewTempDirectory("host");

    public RecordingDispatcher Dispatcher { get; } = new();

    public string DataDir => _dataDir;

    /// <summary>What the app logged (see <see cref="RecordedLogs"/>).</summary>
    public RecordedLogs Logs { get; } = new();

    /// <summary>More test services, applied after the app's own (and after the recording dispatcher).</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    /// <summary>A client that sends the admin token with every request (Builder is private by default).</summary>
    public HttpClient CreateAdminClient(WebApplicationFactoryClientOptions? options = null)
    {
        var client = options is null ? CreateClient() : CreateClient(options);
        client.DefaultRequestHeaders.Authorization = BuilderInstance.AdminAuthorization;
        return client;
    }

    /// <summary>More settings (Builder:Access:..., ...), applied after the factory's own.</summary>
    public Dictionary<string, string?> Settings { get; init; } = [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Builder:AdminToken", BuilderInstance.AdminToken);
        builder.UseSetting("Builder:DataDir", _dataDir);
        if (postgres is not null)
        {
            builder.UseSetting("Builder:Database", "postgres");
            builder.UseSetting("ConnectionStrings:Postgres", postgres);
        }

        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.ConfigureTestServices(services =>
        {
            services.Replace(ServiceDescriptor.Singleton<IBuildDispatcher>(Dispatcher));
            // Tests reach only this machine: the names their repositories use (git.example.invalid, github.com, ...)
            // are never sent to a name server.
            services.Replace(ServiceDescriptor.Singleton<IHostNameResolver, LocalHostNames>());
            TestServices?.Invoke(services);
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (_ownsDataDir)
            {
                TestPaths.DeleteDirectory(_dataDir);
            }
        }
    }
}

/// <summary>The test hosts' resolver: <c>localhost</c> is the loopback address; no other name resolves, and no name server is asked.</summary>
internal sealed class LocalHostNames : IHostNameResolver
{
    public Task<System.Net.IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        host.TrimEnd('.').Equals("localhost", StringComparison.OrdinalIgnoreCase)
            ? Task.FromResult(new[] { System.Net.IPAddress.Loopback, System.Net.IPAddress.IPv6Loopback })
            : Task.FromException<System.Net.IPAddress[]>(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound));
}
