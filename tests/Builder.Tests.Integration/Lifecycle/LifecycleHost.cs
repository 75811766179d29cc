using System.Net.Http.Json;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Data;
using Builder.Index;
using Builder.Pipeline;
using Builder.Tests.Integration.Host;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>
/// The web app in the test host on a fresh database (PostgreSQL or the embedded SQLite), with the recording dispatcher,
/// and the test as the worker: it runs the real <see cref="BuildJob"/>, <see cref="BuildPartJob"/> and
/// <see cref="PublishReleaseJob"/> with a source fetcher and wheel builders of its own (no Docker, no git), when and
/// as often as the test says, so races and double deliveries happen exactly where a test puts them.
/// </summary>
internal sealed class LifecycleHost : IAsyncDisposable
{
    private readonly PostgresDatabase? _database;

    private LifecycleHost(BuilderWebFactory factory, PostgresDatabase? database)
    {
        Factory = factory;
        _database = database;
        Http = factory.CreateAdminClient();
    }

    public BuilderWebFactory Factory { get; }

    public HttpClient Http { get; }

    public RecordingDispatcher Dispatcher => Factory.Dispatcher;

    public static async Task<LifecycleHost> StartAsync(bool postgres, Dictionary<string, string?>? settings = null)
    {
        var database = postgres ? await PostgresDatabase.CreateAsync() : null;
        var factory = new BuilderWebFactory(postgres: database?.ConnectionString) { Settings = settings ?? [] };
        _ = factory.Services; // starts the host: its migrations make the tables
        return new LifecycleHost(factory, database);
    }

    public async Task<T> WithAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    public Task WithAsync(Func<IServiceProvider, Task> action) => WithAsync(async sp =>
    {
        await action(sp);
        return true;
    });

    public async Task<long> RepositoryAsync(string name)
    {
        return await WithAsync(async sp =>
        {
            var db = sp.GetRequiredService<BuilderDbContext>();
            var repository = new SourceRepository { Provider = "github", Name = name, CloneUrl = "https://git.example.invalid/" + name + ".git", CreatedAt = DateTimeOffset.UtcNow };
            db.Repositories.Add(repository);
            await db.SaveChangesAsync();
            return repository.Id;
        });
    }

    /// <summary>A tag push recorded and queued through the lifecycle, as the webhook does (at <paramref name="commit"/>; default 40 'c's).</summary>
    public Task<long> QueueAsync(long repositoryId, string tag, string? commit = null) => WithAsync(async sp =>
        (await sp.GetRequiredService<ReleaseLifecycle>().QueueAsync(new Build { RepositoryId = repositoryId, Tag = tag, CommitSha = commit ?? new string('c', 40) }, CancellationToken.None)).Id);

    /// <summary>
    /// Runs the plan job once (it clones nothing: the fake fetcher leaves an empty tree, so the default matrix: one x86_64
    /// part; with <paramref name="pyproject"/>, a tree of that pyproject.toml alone).
    /// </summary>
    public Task PlanAsync(long buildId, string? pyproject = null) =>
        WithAsync(sp => ActivatorUtilities.CreateInstance<BuildJob>(sp, ActivatorUtilities.CreateInstance<BuildSource>(sp, new EmptySourceFetcher(pyproject))).RunAsync(buildId, CancellationToken.None));

    public Task RunPartAsync(long partId, IWheelBuilder wheels) =>
        WithAsync(sp => ActivatorUtilities.CreateInstance<BuildPartJob>(sp, ActivatorUtilities.CreateInstance<BuildSource>(sp, new EmptySourceFetcher()), wheels).RunAsync(partId, CancellationToken.None));

    public Task PublishAsync(long buildId) => WithAsync(sp => ActivatorUtilities.CreateInstance<PublishReleaseJob>(sp).RunAsync(buildId, null, CancellationToken.None));

    public Task<Build> BuildAsync(long buildId) => WithAsync(sp => sp.GetRequiredService<BuilderDbContext>().Builds.AsNoTracking().Include(b => b.Parts).SingleAsync(b => b.Id == buildId));

    public Task<List<BuildEvent>> EventsAsync(long buildId) => WithAsync(sp => sp.GetRequiredService<BuilderDbContext>().BuildEvents.AsNoTracking().Where(e => e.BuildId == buildId).OrderBy(e => e.Id).ToListAsync());

    public Task<List<PackageFile>> FilesAsync(string project, string version) => WithAsync(sp =>
        sp.GetRequiredService<BuilderDbContext>().Files.AsNoTracking().Where(f => f.Project == project && f.Version == version).ToListAsync());

    /// <summary>A published file's bytes in the artifact store (null: none).</summary>
    public Task<ArtifactContent?> StoredAsync(string project, string filename) => WithAsync(sp => sp.GetRequiredService<PackageArtifacts>().OpenFileAsync(project, filename, CancellationToken.None));

    /// <summary>The versions the index lists for a project (PEP 691 JSON; an unknown project: none).</summary>
    public async Task<List<string>> IndexedVersionsAsync(string project)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/simple/{project}/");
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        using var response = await Http.SendAsync(request);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!).ToList();
    }

    /// <summary>Plans a build and returns its one part (the default matrix of an empty tree).</summary>
    public async Task<BuildPart> PlannedPartAsync(long buildId)
    {
        await PlanAsync(buildId);
        var build = await BuildAsync(buildId);
        if (build.Parts.Count != 1)
        {
            var events = string.Join("; ", (await EventsAsync(buildId)).Select(e => $"{e.Kind}: {e.Detail}"));
            var log = await WithAsync(sp => sp.GetRequiredService<BuilderDbContext>().BuildLogChunks.AsNoTracking().Where(c => c.BuildId == buildId).OrderBy(c => c.Id).Select(c => c.Text).ToListAsync());
            Assert.Fail($"build {buildId} planned {build.Parts.Count} parts, not 1: state {build.State}, error '{build.Error}', events: {events}; log: {string.Concat(log)}");
        }

        return build.Parts.Single();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Factory.Dispose();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    private sealed class EmptySourceFetcher(string? pyproject = null) : ISourceFetcher
    {
        public Task<SourceCheckout> FetchAsync(SourceRequest request, string directory, IBuildLog log, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(directory);
            if (pyproject is not null)
            {
                File.WriteAllText(Path.Combine(directory, "pyproject.toml"), pyproject);
            }

            log.WriteLine($"[git] checked out {request.Tag} at {request.DeliveredSha}");
            return Task.FromResult(new SourceCheckout(request.DeliveredSha));
        }

        // No bundle: every part fetches (here: pretends to) as the plan did.
        public Task BundleAsync(string checkout, string tag, string bundlePath, CancellationToken cancellationToken) =>
            throw new SourceBundleException("the test's fetcher makes no bundle");

        public Task<SourceCheckout> FetchBundleAsync(string bundlePath, string tag, string commitSha, string directory, IBuildLog log, CancellationToken cancellationToken) =>
            throw new NotSupportedException("no bundle was made");
    }
}

/// <summary>
/// Builds one real wheel (random payload: every run other bytes) into the request's output directory. With a
/// <see cref="Gate"/> it waits for the test first, deaf to cancellation, as a hung or partitioned worker would.
/// </summary>
internal sealed class WheelMaker(string project, string version) : IWheelBuilder
{
    private int _calls;

    public int Calls => _calls;

    public TaskCompletionSource? Gate { get; init; }

    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string? LastSha256 { get; private set; }

    public async Task<WheelBuildResult> BuildAsync(WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        Entered.TrySetResult();
        if (Gate is not null)
        {
            await Gate.Task;
        }

        Directory.CreateDirectory(request.OutputDirectory);
        var wheel = Distributions.Wheel(request.OutputDirectory, project, version, payloadBytes: 64);
        LastSha256 = Distributions.Sha256(wheel);
        log.WriteLine($"[{request.Architecture} py3-none-any] built {Path.GetFileName(wheel)}");
        return new WheelBuildResult(true, null, [new TargetResult("py3-none-any", true, TimeSpan.Zero, [Path.GetFileName(wheel)], null)], [wheel]);
    }
}
