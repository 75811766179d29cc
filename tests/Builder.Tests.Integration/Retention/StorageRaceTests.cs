using System.Net;
using Builder.Tests.Integration.Infrastructure;
using static Builder.Tests.Integration.Access.AccessClientHelpers;

namespace Builder.Tests.Integration.Retention;

/// <summary>
/// Production shape: two web processes on one PostgreSQL database and one S3 bucket (moto). One publishes release after
/// release while the other runs a deleting retention policy and garbage collection (no grace) over and over. Afterwards
/// nothing published is lost (every release the policy kept is served by both processes with its bytes) and nothing
/// deleted is served (404 saying so, on both) or left in the bucket.
/// </summary>
public sealed class StorageRaceTests(SharedS3Server shared) : IClassFixture<SharedS3Server>, IAsyncLifetime
{
    private const string Project = "acme-race";
    private const int Releases = 12;
    private const int KeepLatest = 3;

    private readonly string _root = TestPaths.NewTempDirectory("storage-race");
    private readonly string _bucket = "race-" + Guid.NewGuid().ToString("N")[..10];
    private PostgresDatabase _database = null!;
    private BuilderProcess _a = null!;
    private BuilderProcess _b = null!;

    public async Task InitializeAsync()
    {
        await shared.Server.CreateBucketAsync(_bucket);
        _database = await PostgresDatabase.CreateAsync();
        _a = await BuilderProcess.StartWebAsync(Production("a"));
        _b = await BuilderProcess.StartWebAsync(Production("b"));
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _database.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    [Fact]
    public async Task Retention_and_garbage_collection_beside_publications_lose_nothing_published_and_serve_nothing_deleted()
    {
        using var httpA = BuilderInstance.AdminHttp(_a.BaseUrl!);
        using var httpB = BuilderInstance.AdminHttp(_b.BaseUrl!);
        var a = new RetentionApi(httpA);
        var b = new RetentionApi(httpB);
        var dist = Dir(_root, "dist");
        var wheels = new Dictionary<string, string>(StringComparer.Ordinal);
        var policy = await b.CreateAsync(new { projects = new[] { Project }, keepLatest = KeepLatest, action = "delete" });

        // A publishes; B runs the policy and collects garbage until A is done, each as fast as it can.
        using var done = new CancellationTokenSource();
        var publishing = Task.Run(async () =>
        {
            try
            {
                for (var i = 1; i <= Releases; i++)
                {
                    var version = $"1.{i}.0";
                    var wheel = Distributions.Wheel(dist, Project, version, payloadBytes: 2000 + i);
                    wheels[version] = wheel;
                    await PublishAsync(httpA, wheel, Project, version);
                }
            }
            finally
            {
                await done.CancelAsync();
            }
        });
        var rounds = 0;
        while (!done.IsCancellationRequested)
        {
            await b.RunAsync(policy);
            var (status, report) = await b.SendAsync(HttpMethod.Post, "/api/storage/gc");
            Assert.True(status == HttpStatusCode.OK, $"gc: {(int)status} {report}");
            rounds++;
        }

        await publishing;
        Assert.True(rounds >= 2, $"only {rounds} rounds of retention and collection ran beside the publications");

        // Two more runs settle it (yank, then delete: GraceDays 0), and a last collection.
        await b.RunAsync(policy);
        await b.RunAsync(policy);
        var (gcStatus, _) = await b.SendAsync(HttpMethod.Post, "/api/storage/gc");
        Assert.Equal(HttpStatusCode.OK, gcStatus);

        var kept = wheels.Keys.OrderBy(v => int.Parse(v.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)).TakeLast(KeepLatest).ToHashSet(StringComparer.Ordinal);
        var bucket = await shared.Server.ListAsync(_bucket);
        foreach (var (version, wheel) in wheels)
        {
            var filename = Path.GetFileName(wheel);
            foreach (var http in new[] { httpA, httpB })
            {
                using var response = await http.GetAsync($"/files/{Project}/{filename}");
                var body = await response.Content.ReadAsByteArrayAsync();
                if (kept.Contains(version))
                {
                    Assert.True(response.StatusCode == HttpStatusCode.OK, $"{filename} (kept) from {http.BaseAddress}: {(int)response.StatusCode}");
                    Assert.Equal(Distributions.Sha256(wheel), Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body)));
                }
                else
                {
                    Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{filename} (deleted) from {http.BaseAddress}: {(int)response.StatusCode}");
                    Assert.Contains("deleted", System.Text.Encoding.UTF8.GetString(body), StringComparison.Ordinal);
                }
            }

            Assert.Equal(kept.Contains(version), bucket.Keys.Any(k => k.EndsWith("/" + filename, StringComparison.Ordinal)));
        }

        // Both processes' pages list exactly the kept releases; the bucket holds their files and sidecars and nothing else.
        Assert.Equal(kept.Order(StringComparer.Ordinal), (await a.IndexAsync(Project)).Versions.Order(StringComparer.Ordinal));
        Assert.Equal(kept.Order(StringComparer.Ordinal), (await b.IndexAsync(Project)).Versions.Order(StringComparer.Ordinal));
        Assert.Equal(KeepLatest * 2, bucket.Count);
        var deletions = await b.AuditAsync("release:deleted");
        Assert.Equal(Releases - KeepLatest, deletions.Count);
        Assert.All(deletions, e => Assert.Equal($"retention-policy:{policy}", e.GetProperty("principal").GetString()));
    }

    private Dictionary<string, string> Production(string name) =>
        new(BuilderInstance.Production(Path.Combine(_root, name), _database.ConnectionString))
        {
            ["Builder__Storage__Provider"] = "s3",
            ["Builder__Storage__S3__Bucket"] = _bucket,
            ["Builder__Storage__S3__ServiceUrl"] = shared.Server.Url,
            ["Builder__Storage__S3__ForcePathStyle"] = "true",
            ["Builder__Storage__S3__AccessKey"] = S3Server.AccessKey,
            ["Builder__Storage__S3__SecretKey"] = S3Server.SecretKey,
            ["Builder__Storage__GcGraceHours"] = "0",
            ["Builder__Storage__GcHours"] = "0",
            ["Builder__Retention__GraceDays"] = "0",
            ["Builder__Retention__Hours"] = "24",
        };
}
