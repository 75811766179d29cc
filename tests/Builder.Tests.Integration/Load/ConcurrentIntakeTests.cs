using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;

namespace Builder.Tests.Integration.Load;

/// <summary>
/// Intake under load, against one production web process (PostgreSQL, artifacts on a real S3 API server, no job server:
/// builds stay queued): 50 twine-style uploads and 20 webhook deliveries released at once. Each request is accepted or
/// refused with the answer twine and the forges expect, and afterwards everything is counted: the index lists exactly the
/// files that won, the bucket holds exactly those files and their sidecars (the bytes the index names, nothing staged or
/// left over), and every tag pushed is one queued build, with every delivery recorded.
/// </summary>
public sealed class ConcurrentIntakeTests : IAsyncLifetime
{
    private const string Bucket = "load";
    private const string Prefix = "team/";
    private const string Json = "application/vnd.pypi.simple.v1+json";

    private static readonly string[] Projects = ["load-alpha", "load-bravo", "load-charlie", "load-delta", "load-echo"];
    private static readonly string[] Versions = ["1.0.0", "1.1.0", "1.2.0"];

    private readonly string _root = TestPaths.NewTempDirectory("load");
    private S3Server _s3 = null!;
    private PostgresDatabase _database = null!;
    private BuilderProcess _web = null!;

    private string DataDir => Path.Combine(_root, "data");

    public async Task InitializeAsync()
    {
        _s3 = await S3Server.StartAsync();
        await _s3.CreateBucketAsync(Bucket);
        _database = await PostgresDatabase.CreateAsync();
        // Production mode: the web process only enqueues (no Hangfire server), so the deliveries' builds stay queued.
        var settings = new Dictionary<string, string>(BuilderInstance.Production(DataDir, _database.ConnectionString));
        foreach (var (key, value) in _s3.Settings(Bucket, Prefix))
        {
            settings[key] = value;
        }

        _web = await BuilderProcess.StartWebAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_web is not null)
        {
            await _web.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        if (_s3 is not null)
        {
            await _s3.DisposeAsync();
        }

        TestPaths.DeleteDirectory(_root);
    }

    private sealed record PlannedUpload(string Project, string Filename, string Sha256, HttpContent Content);

    private sealed record PlannedDelivery(string DeliveryId, string Tag, string Commit, bool Signed, string Payload);

    private sealed record Answer(HttpStatusCode Status, string? Reason, string Body);

    private sealed record IndexedFile(string Project, string Filename, string Sha256, long Size, string? MetadataSha256);

    [Fact]
    public async Task Fifty_uploads_and_twenty_deliveries_at_once_are_each_accepted_or_refused_and_the_index_the_bucket_and_the_builds_add_up()
    {
        var (uploads, originals) = PlanUploads();
        using var http = BuilderInstance.AdminHttp(_web.BaseUrl!);
        var client = new BuilderClient(http, BuilderInstance.AdminToken);
        var repository = await client.RegisterAsync("acme/load", "https://git.example.invalid/acme/load.git");
        var deliveries = PlanDeliveries(repository);

        // Everything is prepared first; then the 70 requests are released together.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var uploadAnswers = uploads.Select(async u =>
        {
            await release.Task;
            using var request = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = u.Content };
            request.Headers.Authorization = LegacyUpload.AdminBasic;
            return await AnswerAsync(() => http.SendAsync(request));
        }).ToList();
        var deliveryAnswers = deliveries.Select(async d =>
        {
            await release.Task;
            return await AnswerAsync(() => client.SendWebhookAsync(d.Payload, d.Signed ? repository.WebhookSecret : "not-the-webhook-secret-of-it", deliveryId: d.DeliveryId));
        }).ToList();
        var clock = Stopwatch.StartNew();
        release.SetResult();
        var answers = await Task.WhenAll(uploadAnswers);
        var deliveryResults = await Task.WhenAll(deliveryAnswers);
        clock.Stop();
        var unanswered = answers.Concat(deliveryResults).Count(a => a.Status == 0);
        Assert.True(unanswered == 0, $"{unanswered} of 70 requests got no answer within {http.Timeout.TotalSeconds} s; the web process said:\n{Tail(_web.Output)}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"70 requests took {clock.Elapsed}");

        AssertUploadAnswers(uploads, answers, await IndexAsync());
        await AssertIndexAndBucketAgreeAsync(http, originals);
        await AssertDeliveriesAsync(client, repository, deliveries, deliveryResults);
    }

    /// <summary>
    /// Regression: Hangfire's PostgreSQL storage installs its schema, with blocking database calls, when it is first
    /// resolved. The web process left that to the first request that enqueues, under the service provider's singleton lock:
    /// a burst of uploads and deliveries right after start all waited on that lock on thread-pool threads, starving the
    /// installer's own I/O, and every request timed out. The storage is opened at start now, before the first request.
    /// </summary>
    [Fact]
    public async Task The_web_process_opens_its_job_storage_at_start_not_on_the_first_request_that_enqueues()
    {
        Assert.Equal(1, await _database.ScalarAsync("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'hangfire' AND table_name = 'job'"));
        Assert.Equal(0, await _database.ScalarAsync("SELECT COUNT(*) FROM hangfire.job"));
    }

    /// <summary>
    /// 30 distinct files (5 projects × 3 versions × wheel and sdist), 10 identical re-uploads of some of them (a retry,
    /// a second CI job), and 10 other files under names of the 30 (a rebuild with other bytes): 5 of those names also
    /// get a re-upload, so three uploads race for them.
    /// </summary>
    private (List<PlannedUpload> All, List<PlannedUpload> Originals) PlanUploads()
    {
        var originals = new List<PlannedUpload>();
        foreach (var project in Projects)
        {
            foreach (var version in Versions)
            {
                var dist = Dir("dist");
                originals.Add(Plan(Distributions.Wheel(dist, project, version, payloadBytes: 64 * 1024), project, version));
                originals.Add(Plan(Distributions.Sdist(dist, project, version), project, version));
            }
        }

        var duplicates = Enumerable.Range(0, 10).Select(i => originals[i * 3]).Select(o => Plan(Path.Combine(Dir("dist"), o.Filename), o.Project, VersionOf(o))).ToList();
        var conflicts = new List<PlannedUpload>();
        foreach (var i in new[] { 0, 3, 6, 9, 12, 1, 4, 7, 10, 13 })
        {
            var original = originals[i];
            var dir = Dir($"conflict-{i}");
            var path = original.Filename.EndsWith(".whl", StringComparison.Ordinal)
                ? Distributions.Wheel(dir, original.Project, VersionOf(original), requiresPython: ">=3.10", payloadBytes: 64 * 1024)
                : Distributions.Sdist(dir, original.Project, VersionOf(original), requiresPython: ">=3.10");
            var conflict = Plan(path, original.Project, VersionOf(original));
            Assert.Equal(original.Filename, conflict.Filename);
            Assert.NotEqual(original.Sha256, conflict.Sha256);
            conflicts.Add(conflict);
        }

        // Interleaved, so that the racing uploads of one name are not sent side by side.
        List<PlannedUpload> all = [.. originals, .. duplicates, .. conflicts];
        var shuffled = all.OrderBy(u => SHA256.HashData(Encoding.UTF8.GetBytes(u.Filename + u.Sha256))[0]).ToList();
        Assert.Equal(50, shuffled.Count);
        Assert.Equal(30, shuffled.Select(u => u.Filename).Distinct().Count());
        return (shuffled, originals);

        static PlannedUpload Plan(string path, string project, string version)
        {
            var form = LegacyUpload.Twine(path, project, version);
            return new PlannedUpload(project, form.FileName, Convert.ToHexStringLower(SHA256.HashData(form.Content)), form.ToContent());
        }

        static string VersionOf(PlannedUpload upload) => upload.Filename.Split('-')[1].Replace(".tar.gz", string.Empty, StringComparison.Ordinal);
    }

    /// <summary>
    /// One repository: 4 tags pushed 4 times each (redeliveries, each with its own delivery id), 2 tags pushed once, and
    /// 2 deliveries signed with a wrong secret.
    /// </summary>
    private static List<PlannedDelivery> PlanDeliveries(RegisteredRepository repository)
    {
        var deliveries = new List<PlannedDelivery>();
        void Add(string tag, int times, bool signed)
        {
            var commit = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tag)))[..40];
            var payload = BuilderClient.PushPayload(repository.Name, "refs/tags/" + tag, new string('0', 40), commit);
            for (var i = 0; i < times; i++)
            {
                deliveries.Add(new PlannedDelivery(Guid.NewGuid().ToString(), tag, commit, signed, payload));
            }
        }

        foreach (var tag in new[] { "v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0" })
        {
            Add(tag, 4, signed: true);
        }

        Add("v2.0.0", 1, signed: true);
        Add("v2.1.0", 1, signed: true);
        Add("v9.9.9", 2, signed: false);
        Assert.Equal(20, deliveries.Count);
        return deliveries;
    }

    /// <summary>
    /// Per file name: the bytes that won are the ones the index lists; every upload of those bytes is a 200 (exactly one
    /// of them published, the others found them already there), every upload of other bytes a 400 whose reason starts
    /// with "File already exists" (what twine's --skip-existing looks for) and names the file.
    /// </summary>
    private static void AssertUploadAnswers(List<PlannedUpload> uploads, Answer[] answers, Dictionary<string, IndexedFile> index)
    {
        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"{(int)a.Status} {a.Reason}: {a.Body}"));
        Assert.Equal(uploads.Select(u => u.Filename).ToHashSet(), index.Keys.ToHashSet());

        var refused = 0;
        foreach (var group in uploads.Zip(answers).GroupBy(p => p.First.Filename))
        {
            var filename = group.Key;
            var winner = index[filename].Sha256;
            Assert.Contains(group, p => p.First.Sha256 == winner);
            foreach (var (upload, answer) in group)
            {
                if (upload.Sha256 == winner)
                {
                    Assert.True(answer.Status == HttpStatusCode.OK, $"{filename} (the bytes that won): {(int)answer.Status} {answer.Body}");
                    Assert.True(
                        answer.Body.StartsWith($"Uploaded {filename} (", StringComparison.Ordinal)
                        || answer.Body == $"{filename} is already published with these exact contents; nothing changed\n",
                        $"{filename}: {answer.Body}");
                }
                else
                {
                    refused++;
                    Assert.True(answer.Status == HttpStatusCode.BadRequest, $"{filename} (other bytes): {(int)answer.Status} {answer.Body}");
                    Assert.StartsWith("File already exists", answer.Reason, StringComparison.Ordinal);
                    Assert.Contains(filename, JsonDocument.Parse(answer.Body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
                }
            }

            Assert.Single(group, p => p.Second.Body.StartsWith("Uploaded ", StringComparison.Ordinal));
        }

        // 10 conflicting uploads: each loses, or wins and its rivals (the original, and on 5 names its re-upload) lose.
        Assert.InRange(refused, 10, 15);
        Assert.Equal(50 - refused, answers.Count(a => a.Status == HttpStatusCode.OK));
    }

    /// <summary>
    /// The database, the index and the bucket agree: one row per name, and in the bucket exactly each listed file (its
    /// size) and each wheel's metadata sidecar, nothing staged and nothing left by a losing upload; the bytes served and
    /// the bytes stored hash to what the index lists.
    /// </summary>
    private async Task AssertIndexAndBucketAgreeAsync(HttpClient http, List<PlannedUpload> originals)
    {
        var index = await IndexAsync();
        Assert.Equal(30, index.Count);
        Assert.Equal(30, await _database.ScalarAsync("SELECT COUNT(*) FROM builder_files"));
        Assert.Equal(originals.Select(o => o.Filename).ToHashSet(), index.Keys.ToHashSet());

        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var file in index.Values)
        {
            expected[Key(file, metadata: false)] = file.Size;
            Assert.Equal(file.Filename.EndsWith(".whl", StringComparison.Ordinal), file.MetadataSha256 is not null);
        }

        var objects = await _s3.ListAsync(Bucket);
        Assert.DoesNotContain(objects.Keys, k => k.Contains("_staging-", StringComparison.Ordinal));
        Assert.Equal(
            expected.Keys.Concat(index.Values.Where(f => f.MetadataSha256 is not null).Select(f => Key(f, metadata: true))).Order(StringComparer.Ordinal),
            objects.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, e => Assert.Equal(e.Value, objects[e.Key]));
        Assert.Equal(45, objects.Count);

        foreach (var file in index.Values)
        {
            Assert.Equal(file.Sha256, Sha256(await http.GetByteArrayAsync($"/files/{file.Project}/{file.Filename}")));
            Assert.Equal(file.Sha256, Sha256(await _s3.ReadAsync(Bucket, Key(file, metadata: false))));
            if (file.MetadataSha256 is { } metadata)
            {
                Assert.Equal(metadata, Sha256(await http.GetByteArrayAsync($"/files/{file.Project}/{file.Filename}.metadata")));
                Assert.Equal(metadata, Sha256(await _s3.ReadAsync(Bucket, Key(file, metadata: true))));
            }
        }

        // Every upload's received bytes were removed from the data directory, accepted or not.
        var uploadsDir = Path.Combine(DataDir, "tmp", "uploads");
        Assert.True(!Directory.Exists(uploadsDir) || !Directory.EnumerateFileSystemEntries(uploadsDir).Any(), $"left in {uploadsDir}");

        static string Key(IndexedFile file, bool metadata) => $"{Prefix}{file.Project}/{file.Filename}{(metadata ? ".metadata" : string.Empty)}";
    }

    /// <summary>
    /// Each tag is one queued build (and one job), whatever number of its deliveries raced; each signed delivery was
    /// answered 202 with that build, each forged one 401; the repository's delivery list has all 20 with what each did.
    /// </summary>
    private async Task AssertDeliveriesAsync(BuilderClient client, RegisteredRepository repository, List<PlannedDelivery> deliveries, Answer[] answers)
    {
        var buildOfTag = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (delivery, answer) in deliveries.Zip(answers))
        {
            if (!delivery.Signed)
            {
                Assert.True(answer.Status == HttpStatusCode.Unauthorized, $"forged {delivery.Tag}: {(int)answer.Status} {answer.Body}");
                continue;
            }

            Assert.True(answer.Status == HttpStatusCode.Accepted, $"{delivery.Tag}: {(int)answer.Status} {answer.Body}");
            var id = JsonDocument.Parse(answer.Body).RootElement.GetProperty("id").GetInt64();
            if (!buildOfTag.TryAdd(delivery.Tag, id))
            {
                Assert.Equal(buildOfTag[delivery.Tag], id);
            }
        }

        Assert.Equal(6, buildOfTag.Count);
        Assert.Equal(6, buildOfTag.Values.Distinct().Count());
        Assert.Equal(6, await _database.ScalarAsync("SELECT COUNT(*) FROM builder_builds"));
        Assert.Equal(6, await _database.ScalarAsync("SELECT COUNT(*) FROM hangfire.job WHERE invocationdata::text LIKE '%BuildJob%'"));
        foreach (var (tag, id) in buildOfTag)
        {
            var build = await client.GetBuildAsync(id);
            Assert.Equal("queued", build.State);
            Assert.Equal(tag, build.Json.GetProperty("tag").GetString());
            Assert.Equal(deliveries.First(d => d.Tag == tag).Commit, build.Json.GetProperty("commit").GetString());
        }

        var recorded = JsonDocument.Parse(await client.GetAsAdminAsync($"/api/repositories/{repository.Id}/deliveries?limit=100")).RootElement
            .EnumerateArray().ToDictionary(d => d.GetProperty("deliveryId").GetString()!, d => d.Clone());
        Assert.Equal(deliveries.Select(d => d.DeliveryId).ToHashSet(), recorded.Keys.ToHashSet());
        foreach (var tagDeliveries in deliveries.GroupBy(d => d.Tag))
        {
            var records = tagDeliveries.Select(d => recorded[d.DeliveryId]).ToList();
            if (!tagDeliveries.First().Signed)
            {
                Assert.All(records, r => Assert.Equal("refused", r.GetProperty("outcome").GetString()));
                Assert.All(records, r => Assert.Equal(JsonValueKind.Null, r.GetProperty("buildId").ValueKind));
                continue;
            }

            var id = buildOfTag[tagDeliveries.Key];
            Assert.Single(records, r => r.GetProperty("outcome").GetString() == "built");
            Assert.All(records, r => Assert.Contains(r.GetProperty("outcome").GetString(), new[] { "built", "duplicate" }));
            Assert.All(records, r => Assert.Equal(id, r.GetProperty("buildId").GetInt64()));
        }
    }

    /// <summary>The answer, or status 0 when none came within the client's timeout.</summary>
    private static async Task<Answer> AnswerAsync(Func<Task<HttpResponseMessage>> send)
    {
        try
        {
            using var response = await send();
            return new Answer(response.StatusCode, response.ReasonPhrase, await response.Content.ReadAsStringAsync());
        }
        catch (TaskCanceledException ex)
        {
            return new Answer(0, null, ex.Message);
        }
    }

    private static string Tail(string text) => text.Length <= 6000 ? text : text[^6000..];

    /// <summary>The index's files of every project (PEP 691 JSON), by file name.</summary>
    private async Task<Dictionary<string, IndexedFile>> IndexAsync()
    {
        using var http = BuilderInstance.AdminHttp(_web.BaseUrl!);
        var files = new Dictionary<string, IndexedFile>(StringComparer.Ordinal);
        foreach (var project in Projects)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/simple/{project}/");
            request.Headers.Accept.ParseAdd(Json);
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"/simple/{project}/: {(int)response.StatusCode} {body}");
            foreach (var file in JsonDocument.Parse(body).RootElement.GetProperty("files").EnumerateArray())
            {
                var metadata = file.GetProperty("core-metadata");
                var indexed = new IndexedFile(
                    project,
                    file.GetProperty("filename").GetString()!,
                    file.GetProperty("hashes").GetProperty("sha256").GetString()!,
                    file.GetProperty("size").GetInt64(),
                    metadata.ValueKind == JsonValueKind.Object ? metadata.GetProperty("sha256").GetString() : null);
                Assert.True(files.TryAdd(indexed.Filename, indexed), $"{indexed.Filename} is listed twice");
            }
        }

        return files;
    }

    private string Dir(string name)
    {
        var path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
