using System.Net.Http.Json;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Data;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>
/// A release is published by promotion: the real part and publish jobs (<see cref="LifecycleHost"/>) on PostgreSQL, with
/// the artifacts in a real S3 API server (moto) behind a proxy that counts what Builder sends it, or on the file system.
/// The bytes travel to the store once, when the part stages them; publishing checks each staged object (a HEAD on S3)
/// and has the store copy it; an object altered after staging stops the publication, and nothing of it is served.
/// </summary>
public sealed class PublicationByPromotionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Bucket = "promotion";
    private const string Prefix = "team/";
    private const int MiB = 1024 * 1024;

    private S3Server _s3 = null!;
    private FreezableTcpProxy _proxy = null!;

    public async Task InitializeAsync()
    {
        _s3 = await S3Server.StartAsync();
        await _s3.CreateBucketAsync(Bucket);
        _proxy = FreezableTcpProxy.Start("127.0.0.1", new Uri(_s3.Url).Port);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _s3.DisposeAsync();
    }

    /// <summary>The host on PostgreSQL with the bucket behind the proxy (the settings as configuration keys: "__" is ":").</summary>
    private Task<LifecycleHost> S3HostAsync() => LifecycleHost.StartAsync(postgres: true, new Dictionary<string, string?>(
        _s3.Settings(Bucket, Prefix).Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), (string?)s.Value)))
    {
        ["Builder:Storage:S3:ServiceUrl"] = $"http://127.0.0.1:{_proxy.Port}",
    });

    [Fact]
    public async Task Three_wheels_of_200_MiB_on_S3_are_published_without_a_GET_of_a_staging_object_or_a_second_upload()
    {
        await using var host = await S3HostAsync();
        var wheels = new TaggedWheels("acme-big", "1.0.0", ["cp39-cp39-linux_x86_64", "cp311-cp311-linux_x86_64", "cp312-cp312-linux_x86_64"], 200 * MiB);
        var id = await host.QueueAsync(await host.RepositoryAsync("acme/big"), "v1.0.0");
        var part = await host.PlannedPartAsync(id);

        var beforePart = _proxy.BytesFromClients;
        await host.RunPartAsync(part.Id, wheels);
        var staged = _proxy.BytesFromClients - beforePart;
        var logAtPublish = _s3.Log.Length;
        var beforePublish = _proxy.BytesFromClients;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await host.PublishAsync(id);
        var publishTime = clock.Elapsed;
        var sent = _proxy.BytesFromClients - beforePublish;
        var publishLog = _s3.Log[logAtPublish..];
        output.WriteLine($"staging sent {staged / (double)MiB:F1} MiB; publishing sent {sent} bytes in {publishTime.TotalSeconds:F1} s");

        var build = await host.BuildAsync(id);
        Assert.True(build.State == BuildState.Succeeded, $"build {build.State}: {build.Error}");
        // The part sent the three wheels once (600 MiB and some headers); publishing sent requests only: no byte of a file.
        Assert.InRange(staged, 3L * 200 * MiB, 3L * 200 * MiB + 4 * MiB);
        Assert.InRange(sent, 1, 256 * 1024);
        var stagingRequests = publishLog.Split('\n').Where(l => l.Contains($"/{Bucket}/{Prefix}_staging-{id}/", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(stagingRequests, l => l.Contains("\"GET ", StringComparison.Ordinal));
        // Each staged wheel and sidecar was checked with a HEAD, then copied by the server (a PUT with a copy source).
        Assert.Equal(6, stagingRequests.Count(l => l.Contains("\"HEAD ", StringComparison.Ordinal)));

        // The published objects hash to what the index says, and nothing staged is left.
        var index = await IndexFilesAsync(host, "acme-big");
        Assert.Equal(wheels.Made.Select(w => w.Filename).Order(StringComparer.Ordinal), index.Keys.Order(StringComparer.Ordinal));
        foreach (var (filename, sha256) in index)
        {
            Assert.Equal(wheels.Made.Single(w => w.Filename == filename).Sha256, sha256);
            Assert.Equal(sha256, await _s3.Sha256Async(Bucket, $"{Prefix}acme-big/{filename}"));
        }

        Assert.Empty((await _s3.ListAsync(Bucket, Prefix + "_staging")).Keys);
        Assert.Equal(0, await host.WithAsync(sp => sp.GetRequiredService<BuilderDbContext>().StagedFiles.CountAsync(f => f.BuildId == id)));
    }

    [Fact]
    public async Task A_staged_object_altered_in_S3_stops_the_publication_naming_the_file_and_both_digests_and_nothing_is_served()
    {
        await using var host = await S3HostAsync();
        var wheels = new TaggedWheels("acme-tampered", "1.0.0", ["cp311-cp311-linux_x86_64", "cp312-cp312-linux_x86_64"], MiB);
        var id = await host.QueueAsync(await host.RepositoryAsync("acme/tampered"), "v1.0.0");
        var part = await host.PlannedPartAsync(id);
        await host.RunPartAsync(part.Id, wheels);

        // One byte of the second wheel's staged object changes in the store.
        var (victim, recorded) = wheels.Made[1];
        var key = $"{Prefix}_staging-{id}/{recorded}-{victim}";
        var bytes = await _s3.ReadAsync(Bucket, key);
        bytes[bytes.Length / 2] ^= 0x01;
        await _s3.WriteAsync(Bucket, key, bytes);
        var altered = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

        await host.PublishAsync(id);

        var build = await host.BuildAsync(id);
        Assert.Equal(BuildState.Failed, build.State);
        Assert.Contains(victim, build.Error, StringComparison.Ordinal);
        Assert.Contains(altered, build.Error, StringComparison.Ordinal);
        Assert.Contains(recorded, build.Error, StringComparison.Ordinal);
        Assert.Empty(await host.FilesAsync("acme-tampered", "1.0.0"));
        Assert.Empty(await host.IndexedVersionsAsync("acme-tampered"));
        // Not even the first wheel, promoted before the altered one was found, stays under its published name.
        Assert.Empty((await _s3.ListAsync(Bucket, Prefix + "acme-tampered/")).Keys);
    }

    [Fact]
    public async Task A_staged_file_altered_on_the_file_system_stops_the_publication_the_same_way()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: false);
        var wheels = new TaggedWheels("acme-tampered-fs", "1.0.0", ["py3-none-any"], MiB);
        var id = await host.QueueAsync(await host.RepositoryAsync("acme/tampered-fs"), "v1.0.0");
        var part = await host.PlannedPartAsync(id);
        await host.RunPartAsync(part.Id, wheels);

        var (wheel, recorded) = wheels.Made[0];
        var path = Path.Combine(host.Factory.DataDir, "files", $"_staging-{id}", $"{recorded}-{wheel}");
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2;
            var b = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(b ^ 0x01));
        }

        var altered = Distributions.Sha256(path);

        await host.PublishAsync(id);

        var build = await host.BuildAsync(id);
        Assert.Equal(BuildState.Failed, build.State);
        Assert.Contains($"staged file {wheel} of part {part.Id} holds bytes with sha256 {altered}, not the {recorded} its part recorded", build.Error, StringComparison.Ordinal);
        Assert.Empty(await host.IndexedVersionsAsync("acme-tampered-fs"));
        Assert.False(File.Exists(Path.Combine(host.Factory.DataDir, "files", "acme-tampered-fs", wheel)));
    }

    /// <summary>The files the index lists for a project (PEP 691 JSON): filename → sha256.</summary>
    private static async Task<Dictionary<string, string>> IndexFilesAsync(LifecycleHost host, string project)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/simple/{project}/");
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        using var response = await host.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("filename").GetString()!, f => f.GetProperty("hashes").GetProperty("sha256").GetString()!);
    }

    /// <summary>A part's wheel builder that makes one real wheel per tag, each with a random payload of the given size.</summary>
    private sealed class TaggedWheels(string project, string version, IReadOnlyList<string> tags, int payloadBytes) : IWheelBuilder
    {
        /// <summary>The wheels made: file name and sha256 (the files go with the part's work directory).</summary>
        public List<(string Filename, string Sha256)> Made { get; } = [];

        public Task<WheelBuildResult> BuildAsync(WheelBuildRequest request, IBuildLog log, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(request.OutputDirectory);
            var targets = new List<TargetResult>();
            var paths = new List<string>();
            foreach (var tag in tags)
            {
                var wheel = Distributions.Wheel(request.OutputDirectory, project, version, payloadBytes: payloadBytes, tag: tag);
                Made.Add((Path.GetFileName(wheel), Distributions.Sha256(wheel)));
                paths.Add(wheel);
                targets.Add(new TargetResult(tag, true, TimeSpan.Zero, [Path.GetFileName(wheel)], null));
                log.WriteLine($"[{request.Architecture} {tag}] built {Path.GetFileName(wheel)}");
            }

            return Task.FromResult(new WheelBuildResult(true, null, targets, paths));
        }
    }
}
