using System.Net;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Host;

/// <summary>
/// <c>GET /healthz</c> and <c>GET /readyz</c> without credentials, on the web process and on a worker: alive whatever
/// the dependencies do; ready only when the database, the storage and (where builds run) the Docker engine answer,
/// else 503 naming what is not ready.
/// </summary>
public sealed class HealthTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDirectory("health");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        TestPaths.DeleteDirectory(_root);
        return Task.CompletedTask;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Json)> ReadyAsync(string baseUrl)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync("/readyz");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static Dictionary<string, string> Checks(JsonElement json) =>
        json.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString()!);

    [Fact]
    public async Task The_embedded_web_process_is_ready_with_its_database_storage_and_docker_and_names_what_is_not()
    {
        var dataDir = Path.Combine(_root, "ready");
        await using (var web = await BuilderProcess.StartWebAsync(BuilderInstance.Embedded(dataDir)))
        {
            using var anonymous = new HttpClient { BaseAddress = new Uri(web.BaseUrl!) };
            using var alive = await anonymous.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
            Assert.Equal("alive\n", await alive.Content.ReadAsStringAsync());

            var (status, json) = await ReadyAsync(web.BaseUrl!);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("ready", json.GetProperty("status").GetString());
            Assert.Equal(new Dictionary<string, string> { ["database"] = "ready", ["docker"] = "ready", ["storage"] = "ready" }, Checks(json));
        }

        // The same data directory, with a plain file where the artifact store's directory belongs, and a Docker endpoint
        // where no engine listens: alive, but not ready, and the answer says which and why.
        var files = Path.Combine(dataDir, "files");
        Directory.Delete(files, recursive: true);
        await File.WriteAllTextAsync(files, "not a directory");
        var broken = new Dictionary<string, string>(BuilderInstance.Embedded(dataDir))
        {
            ["Builder__Build__DockerEndpoint"] = "unix://" + Path.Combine(_root, "no-docker.sock"),
            ["Builder__Index__WarmOnStart"] = "false",
        };
        await using (var web = await BuilderProcess.StartWebAsync(broken))
        {
            using var anonymous = new HttpClient { BaseAddress = new Uri(web.BaseUrl!) };
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);

            var (status, json) = await ReadyAsync(web.BaseUrl!);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("not ready", json.GetProperty("status").GetString());
            Assert.Equal(new Dictionary<string, string> { ["database"] = "ready", ["docker"] = "not ready", ["storage"] = "not ready" }, Checks(json));
            var detail = json.GetProperty("detail").GetString()!;
            Assert.Contains("docker does not answer", detail, StringComparison.Ordinal);
            Assert.Contains($"storage {files} cannot be written", detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_storage_server_that_stopped_answering_makes_readyz_answer_within_five_seconds_and_name_it()
    {
        await using var s3 = await S3Server.StartAsync();
        await s3.CreateBucketAsync("health");
        var settings = new Dictionary<string, string>(BuilderInstance.Embedded(Path.Combine(_root, "s3")));
        foreach (var (key, value) in s3.Settings("health"))
        {
            settings[key] = value;
        }

        await using var web = await BuilderProcess.StartWebAsync(settings);
        var (status, json) = await ReadyAsync(web.BaseUrl!);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", Checks(json)["storage"]);

        // The S3 server's process is stopped: its socket still accepts connections, and nothing ever answers.
        await s3.StopAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (status, json) = await ReadyAsync(web.BaseUrl!);
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"/readyz answered after {clock.Elapsed}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(new Dictionary<string, string> { ["database"] = "ready", ["docker"] = "ready", ["storage"] = "not ready" }, Checks(json));
        Assert.Equal("not ready: storage did not answer within 4 s", json.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_worker_answers_health_at_its_own_address_and_is_not_ready_when_its_database_is_gone()
    {
        var database = await PostgresDatabase.CreateAsync();
        await using (var worker = await BuilderProcess.StartWorkerWithHealthAsync(BuilderInstance.Production(Path.Combine(_root, "worker"), database.ConnectionString)))
        {
            var (status, json) = await ReadyAsync(worker.BaseUrl!);
            Assert.True(status == HttpStatusCode.OK, json.ToString());
            Assert.Equal(new Dictionary<string, string> { ["database"] = "ready", ["docker"] = "ready", ["storage"] = "ready" }, Checks(json));

            // The worker's database is dropped under it: still alive, no longer ready.
            await database.DisposeAsync();
            var (gone, goneJson) = await ReadyAsync(worker.BaseUrl!);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, gone);
            Assert.Equal("not ready", Checks(goneJson)["database"]);
            Assert.StartsWith("not ready: database does not answer", goneJson.GetProperty("detail").GetString(), StringComparison.Ordinal);
            using var http = new HttpClient { BaseAddress = new Uri(worker.BaseUrl!) };
            using var alive = await http.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
            Assert.Equal("nosniff", alive.Headers.GetValues("X-Content-Type-Options").Single());
        }
    }
}
