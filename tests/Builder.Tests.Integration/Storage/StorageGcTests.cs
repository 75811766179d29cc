using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Builder.Access;
using Builder.Core.Builds;
using Builder.Index.Collection;
using Builder.Tests.Integration.Access;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Builder.Tests.Integration.Storage;

/// <summary>
/// Garbage collection of the artifact store (POST /api/storage/gc and its schedule) on the file system and on a real S3
/// API server (moto): staging of a build that no longer runs and objects no row names go (the latter after the grace),
/// everything the index names and everything younger than the grace stays, a dry run only lists, and the upstream cache
/// is trimmed to its limit least recently read first.
/// </summary>
public sealed class StorageGcTests(SharedS3Server shared) : IClassFixture<SharedS3Server>
{
    private const string FileSystem = "filesystem";
    private const string S3 = "s3";

    private async Task<AccessHost> StartAsync(string provider, Dictionary<string, string?> settings, string? postgres = null)
    {
        settings.TryAdd("Builder:Storage:GcHours", "0");
        if (provider == S3)
        {
            var bucket = "gc-" + Guid.NewGuid().ToString("N")[..10];
            await shared.Server.CreateBucketAsync(bucket);
            settings["Builder:Storage:Provider"] = "s3";
            settings["Builder:Storage:S3:Bucket"] = bucket;
            settings["Builder:Storage:S3:Prefix"] = "team/";
            settings["Builder:Storage:S3:ServiceUrl"] = shared.Server.Url;
            settings["Builder:Storage:S3:ForcePathStyle"] = "true";
            settings["Builder:Storage:S3:AccessKey"] = S3Server.AccessKey;
            settings["Builder:Storage:S3:SecretKey"] = S3Server.SecretKey;
        }

        return new AccessHost(settings: settings, postgres: postgres);
    }

    private static IArtifactStore Store(AccessHost host) => host.Factory.Services.GetRequiredService<IArtifactStore>();

    private static async Task<Dictionary<string, long>> ListedAsync(AccessHost host, string prefix = "")
    {
        var listed = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var item in Store(host).ListAsync(prefix, CancellationToken.None))
        {
            listed.Add(item.Key, item.Size);
        }

        return listed;
    }

    private static async Task<long> PutAsync(AccessHost host, string key, int length)
    {
        var bytes = RandomNumberGenerator.GetBytes(length);
        await using var stream = new MemoryStream(bytes);
        Assert.Equal(StoreOutcome.Created, await Store(host).PutAsync(key, stream, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), CancellationToken.None));
        return bytes.Length;
    }

    private static async Task<JsonElement> CollectAsync(AccessHost host, bool dryRun)
    {
        var answer = await host.SendAsync(HttpMethod.Post, "/api/storage/gc" + (dryRun ? "?dryRun=true" : string.Empty), AccessHost.Admin);
        Assert.True(answer.Status == HttpStatusCode.OK, answer.ToString());
        Assert.Equal(dryRun, answer.Json.GetProperty("dryRun").GetBoolean());
        return answer.Json;
    }

    private static Dictionary<string, (string Kind, long Bytes, string Reason)> Removed(JsonElement report) =>
        report.GetProperty("removed").EnumerateArray().ToDictionary(
            r => r.GetProperty("key").GetString()!,
            r => (r.GetProperty("kind").GetString()!, r.GetProperty("bytes").GetInt64(), r.GetProperty("reason").GetString()!));

    private static async Task<long> AddBuildAsync(AccessHost host, long repository, string tag, BuildState state) => await host.WithDbAsync(async db =>
    {
        var build = new Build { RepositoryId = repository, Tag = tag, CommitSha = new string('a', 40), State = state, Project = "acme-gc", Version = tag[1..] };
        db.Builds.Add(build);
        await db.SaveChangesAsync();
        return build.Id;
    });

    [Theory]
    [InlineData(FileSystem)]
    [InlineData(S3)]
    public async Task Staging_of_a_dead_run_and_an_orphan_go_a_dry_run_only_lists_and_what_the_index_names_or_the_grace_covers_stays(string provider)
    {
        using var host = await StartAsync(provider, new() { ["Builder:Storage:GcGraceHours"] = "1" });
        var wheel = await host.PublishAsync("acme-gc", "1.0");
        var repository = await host.RegisterRepositoryAsync("acme/gc", "a-webhook-secret-of-ours");
        var failed = await AddBuildAsync(host, repository, "v2.0", BuildState.Failed);
        var running = await AddBuildAsync(host, repository, "v3.0", BuildState.Running);
        var deadStaging = $"_staging-{failed}/{new string('1', 64)}-acme_gc-2.0-py3-none-any.whl";
        var liveStaging = $"_staging-{running}/{new string('2', 64)}-acme_gc-3.0-py3-none-any.whl";
        const string orphan = "acme-gc/acme_gc-9.0-py3-none-any.whl";
        var deadBytes = await PutAsync(host, deadStaging, 3000);
        await PutAsync(host, liveStaging, 2000);
        var orphanBytes = await PutAsync(host, orphan, 1500);
        var before = await ListedAsync(host);
        Assert.Equal(5, before.Count); // the wheel, its sidecar, two staged files, the orphan

        // GET /api/usage counts builds' staging (and the empty upstream cache) as the store lists them.
        var usage = (await host.GetAsync("/api/usage", AccessHost.Admin)).Json;
        Assert.Equal(2, usage.GetProperty("staging").GetProperty("files").GetInt64());
        Assert.Equal(deadBytes + 2000, usage.GetProperty("staging").GetProperty("bytes").GetInt64());
        Assert.Equal(0, usage.GetProperty("upstreamCache").GetProperty("files").GetInt64());

        // Within the grace, a dry run names only the dead run's staging; the orphan is counted as within the grace.
        var young = await CollectAsync(host, dryRun: true);
        var listed = Removed(young);
        Assert.Equal([deadStaging], listed.Keys);
        Assert.Equal((StorageCollector.Staging, deadBytes), (listed[deadStaging].Kind, listed[deadStaging].Bytes));
        Assert.Contains($"build {failed} is failed", listed[deadStaging].Reason, StringComparison.Ordinal);
        Assert.Equal(1, young.GetProperty("withinGrace").GetProperty("files").GetInt64());
        Assert.Equal(before, await ListedAsync(host));

        host.Clock.Advance(TimeSpan.FromHours(2));
        var dry = await CollectAsync(host, dryRun: true);
        listed = Removed(dry);
        Assert.Equal([deadStaging, orphan], listed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(StorageCollector.Orphan, listed[orphan].Kind);
        Assert.Contains("no published file names it", listed[orphan].Reason, StringComparison.Ordinal);
        Assert.Equal(deadBytes + orphanBytes, dry.GetProperty("removedBytes").GetInt64());
        Assert.Equal(before, await ListedAsync(host));
        Assert.DoesNotContain(await host.AuditAsync(), a => a.Action == AuditActions.StorageCollected);

        var run = await CollectAsync(host, dryRun: false);
        Assert.Equal(listed, Removed(run));
        Assert.Equal(deadBytes + orphanBytes, run.GetProperty("removedBytes").GetInt64());
        Assert.Equal(2, run.GetProperty("removedFiles").GetInt64());
        var after = await ListedAsync(host);
        Assert.Equal([liveStaging, $"acme-gc/{wheel}", $"acme-gc/{wheel}.metadata"], after.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(after.Count, run.GetProperty("kept").GetProperty("files").GetInt64());
        Assert.Equal(after.Values.Sum(), run.GetProperty("kept").GetProperty("bytes").GetInt64());
        var audit = Assert.Single(await host.AuditAsync(), a => a.Action == AuditActions.StorageCollected);
        Assert.Contains($"removed 2 objects ({deadBytes + orphanBytes} bytes)", audit.Detail, StringComparison.Ordinal);

        // The index still serves what it names, and a second collection finds nothing more.
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync(PublicRoutes.File("acme-gc", wheel), AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync(PublicRoutes.File("acme-gc", wheel + ".metadata"), AccessHost.Admin)).Status);
        Assert.Empty(Removed(await CollectAsync(host, dryRun: false)));
    }

    [Theory]
    [InlineData(FileSystem)]
    [InlineData(S3)]
    public async Task The_upstream_cache_is_trimmed_to_its_limit_least_recently_read_first_and_a_trimmed_file_is_fetched_again(string provider)
    {
        await using var upstream = await LocalUpstream.StartNewAsync();
        var directory = TestPaths.NewTempDirectory("gc-upstream");
        try
        {
            var files = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, payload) in new[] { ("pub-a", 2000), ("pub-b", 3000), ("pub-c", 4000) })
            {
                var path = Distributions.Wheel(directory, name, "1.0", payloadBytes: payload);
                upstream.Add(name, path, UpstreamPackages.LongAgo);
                files[name] = path;
            }

            upstream.Render();
            var sizes = files.ToDictionary(f => f.Key, f => new FileInfo(f.Value).Length);
            var limit = sizes["pub-a"] + sizes["pub-c"];
            using var host = await StartAsync(provider, new()
            {
                ["Builder:Upstream:Url"] = upstream.SimpleUrl,
                ["Builder:Upstream:CacheBytes"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });

            async Task ReadAsync(string name)
            {
                var answer = await host.GetAsync(PublicRoutes.File(name, Path.GetFileName(files[name])), AccessHost.Admin);
                Assert.True(answer.Status == HttpStatusCode.OK, $"{name}: {answer}");
                host.Clock.Advance(TimeSpan.FromMinutes(2));
            }

            await ReadAsync("pub-a");
            await ReadAsync("pub-b");
            await ReadAsync("pub-c");
            await ReadAsync("pub-a");
            var cached = await ListedAsync(host, "_upstream-");
            Assert.Equal(3, cached.Count);
            var usage = (await host.GetAsync("/api/usage", AccessHost.Admin)).Json.GetProperty("upstreamCache");
            Assert.Equal((3L, cached.Values.Sum(), limit), (usage.GetProperty("files").GetInt64(), usage.GetProperty("bytes").GetInt64(), usage.GetProperty("limitBytes").GetInt64()));

            var dry = await CollectAsync(host, dryRun: true);
            var run = await CollectAsync(host, dryRun: false);

            var removed = Assert.Single(Removed(run));
            Assert.Equal(Removed(dry), Removed(run));
            Assert.StartsWith("_upstream-pub-b/", removed.Key, StringComparison.Ordinal);
            Assert.Equal((StorageCollector.Upstream, sizes["pub-b"]), (removed.Value.Kind, removed.Value.Bytes));
            Assert.Contains("Builder:Upstream:CacheBytes", removed.Value.Reason, StringComparison.Ordinal);
            Assert.Equal(limit, run.GetProperty("upstreamCache").GetProperty("bytes").GetInt64());
            Assert.Equal(["_upstream-pub-a", "_upstream-pub-c"], (await ListedAsync(host, "_upstream-")).Keys.Select(k => k[..k.IndexOf('/', StringComparison.Ordinal)]).Order(StringComparer.Ordinal));

            // Asked for again, the trimmed file is fetched from upstream anew, with its bytes.
            using (var request = new HttpRequestMessage(HttpMethod.Get, PublicRoutes.File("pub-b", Path.GetFileName(files["pub-b"]))))
            {
                request.Headers.Authorization = AccessHost.Admin;
                using var again = await host.Http.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, again.StatusCode);
                Assert.Equal(Distributions.Sha256(files["pub-b"]), Convert.ToHexStringLower(SHA256.HashData(await again.Content.ReadAsByteArrayAsync())));
            }

            Assert.True((await ListedAsync(host, "_upstream-")).ContainsKey(removed.Key), "the trimmed file was not kept again");
        }
        finally
        {
            TestPaths.DeleteDirectory(directory);
        }
    }

    [Fact]
    public async Task One_collection_at_a_time_on_PostgreSQL_and_the_schedule_runs_one_by_itself()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        using var host = await StartAsync(FileSystem, new() { ["Builder:Storage:GcHours"] = "0.0005", ["Builder:Storage:GcGraceHours"] = "0" }, database.ConnectionString);
        const string orphan = "acme-gc/acme_gc-9.0-py3-none-any.whl";
        await using (var holder = new NpgsqlConnection(database.ConnectionString))
        {
            await holder.OpenAsync();
            await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({StorageGcLock.AdvisoryKey})", holder))
            {
                await take.ExecuteNonQueryAsync();
            }

            await PutAsync(host, orphan, 1000);
            var refused = await host.SendAsync(HttpMethod.Post, "/api/storage/gc", AccessHost.Admin);
            Assert.True(refused.Status == HttpStatusCode.Conflict, refused.ToString());
            Assert.Contains("a garbage collection is running already", refused.Detail, StringComparison.Ordinal);
            Assert.True((await ListedAsync(host)).ContainsKey(orphan));
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({StorageGcLock.AdvisoryKey})", holder);
            await release.ExecuteNonQueryAsync();
        }

        // The lock is free: the schedule collects on its own within a few seconds.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!(await host.AuditAsync()).Any(a => a.Action == AuditActions.StorageCollected))
        {
            Assert.True(DateTime.UtcNow < deadline, "no scheduled collection within 60 s");
            await Task.Delay(100);
        }

        var audit = Assert.Single(await host.AuditAsync(), a => a.Action == AuditActions.StorageCollected);
        Assert.Equal(StorageCollector.ScheduleActor.Principal, audit.Principal);
        Assert.Contains("removed 1 objects (1000 bytes)", audit.Detail, StringComparison.Ordinal);
        Assert.False((await ListedAsync(host)).ContainsKey(orphan));
    }
}
