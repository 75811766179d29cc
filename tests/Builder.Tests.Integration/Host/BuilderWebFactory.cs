using System.Collections.Concurrent;
using Builder.Core.Builds;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Builder.Tests.Integration.Host;

/// <summary>Records enqueued builds instead of running them: these tests are about the HTTP edge, not the build.</summary>
public sealed class RecordingDispatcher : IBuildDispatcher
{
    public ConcurrentQueue<long> Enqueued { get; } = new();

    public ConcurrentQueue<string> Cancelled { get; } = new();

    public void Enqueue(long buildId) => Enqueued.Enqueue(buildId);

    public string EnqueuePart(long partId, string architecture) => throw new NotSupportedException("the web edge enqueues builds, never parts");

    public void Cancel(string jobId) => Cancelled.Enqueue(jobId);
}

/// <summary>The real web app in the test host, embedded mode, with its own data directory.</summary>
public sealed class BuilderWebFactory(string? dataDir = null) : WebApplicationFactory<Program>
{
    // A data directory handed in belongs to the caller (e.g. to start the app again on the same data); ours is deleted.
    private readonly bool _ownsDataDir = dataDir is null;
    private readonly string _dataDir = dataDir ?? TestPaths.NewTempDirectory("host");

    public RecordingDispatcher Dispatcher { get; } = new();

    public string DataDir => _dataDir;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Builder:AdminToken", BuilderInstance.AdminToken);
        builder.UseSetting("Builder:DataDir", _dataDir);
        builder.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton<IBuildDispatcher>(Dispatcher)));
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
