using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;

namespace Builder.Tests.Integration.Host;

/// <summary>
/// <c>GET /metrics</c> of real Builder processes: scraped by a real Prometheus server with the metrics token; the series
/// after real uploads, downloads, index pages and a failed build, labelled by route template and never by a project or
/// file name; refused without credentials and to principals that are neither admins nor the metrics token; and served
/// by a worker on its health port, with the job queue it shares with the web process.
/// </summary>
[DockerBuild]
public sealed class MetricsTests : IAsyncLifetime
{
    private const string MetricsToken = "metrics-token-for-tests-0123456789";
    private const string Project = "acme-metrics";

    private readonly string _root = TestPaths.NewTempDirectory("metrics");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        TestPaths.DeleteDirectory(_root);
        return Task.CompletedTask;
    }

    private static AuthenticationHeaderValue MetricsBearer => new("Bearer", MetricsToken);

    private Dictionary<string, string> Embedded(string name) => new(BuilderInstance.Embedded(Path.Combine(_root, name)))
    {
        ["Builder__Metrics__Token"] = MetricsToken,
        ["Builder__Index__WarmOnStart"] = "false",
    };

    [Fact]
    public async Task A_real_Prometheus_scrapes_the_web_process_with_the_metrics_token_and_answers_queries_on_its_series_and_without_it_is_refused()
    {
        await using var web = await BuilderProcess.StartWebAsync(Embedded("prometheus"));
        var client = BuilderInstance.Client(web);
        using (var root = await client.Http.GetAsync("/simple/"))
        {
            Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        }

        var failed = await FailedBuildAsync(client);

        await using var prometheus = await PrometheusServer.StartAsync(new Uri(web.BaseUrl!).Authority, MetricsToken);
        await prometheus.WaitForTargetUpAsync();

        var requests = await prometheus.QueryOneAsync("""builder_http_requests_received_total{method="GET",code="200",endpoint="/simple/"}""");
        Assert.Equal(1, requests.Value);
        Assert.Equal("builder", requests.Labels["job"]);
        var builds = await prometheus.QueryOneAsync("""builder_builds{state="failed"}""");
        Assert.Equal(1, builds.Value);
        var durations = await prometheus.QueryOneAsync("""builder_build_duration_seconds_count{state="failed"}""");
        Assert.Equal(1, durations.Value);
        Assert.Equal("failed", failed.State);

        // Without the token the same scrape is refused: Prometheus marks the target down and says why.
        await using var refused = await PrometheusServer.StartAsync(new Uri(web.BaseUrl!).Authority, bearerToken: null);
        Assert.Contains("401", await refused.WaitForTargetAsync("down"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Uploads_downloads_index_pages_and_builds_show_in_their_series_labelled_by_route_template_never_by_name()
    {
        await using var web = await BuilderProcess.StartWebAsync(Embedded("activity"));
        var client = BuilderInstance.Client(web);
        using var http = new HttpClient { BaseAddress = new Uri(web.BaseUrl!), Timeout = TimeSpan.FromSeconds(60) };

        // Who may read it: admins and the metrics token; anyone else is refused (anonymous: 401 with the Basic challenge).
        using (var anonymous = await http.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("Basic realm=\"Builder\"", anonymous.Headers.WwwAuthenticate.ToString());
        }

        var reader = await ReadTokenAsync(client);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", reader) } })
        using (var forbidden = await http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        var admin = await MetricsScrape.ReadAsync(web.BaseUrl!, BuilderInstance.AdminAuthorization);
        Assert.NotNull(admin.Value("builder_builds", ("state", "queued")));

        var before = await MetricsScrape.ReadAsync(web.BaseUrl!, MetricsBearer);
        var work = Path.Combine(_root, "wheels");
        Directory.CreateDirectory(work);
        var wheel = Distributions.Wheel(work, Project, "1.0");
        var fileName = Path.GetFileName(wheel);
        var size = new FileInfo(wheel).Length;
        Assert.Equal(HttpStatusCode.OK, await UploadAsync(http, wheel));
        Assert.Equal(HttpStatusCode.OK, await UploadAsync(http, wheel));
        var other = Distributions.Wheel(Directory.CreateDirectory(Path.Combine(work, "other")).FullName, Project, "1.0", payloadBytes: 64);
        Assert.Equal(HttpStatusCode.BadRequest, await UploadAsync(http, other));

        // The project page: rendered once after the upload (a miss), then from memory (a hit).
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, $"/simple/{Project}/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, $"/simple/{Project}/")).Status);
        // The file: read from storage into the download cache (a miss), then from memory; a range; a HEAD (no body).
        var file = $"/files/{Project}/{fileName}";
        Assert.Equal(size, (await GetAsync(http, file)).Length);
        Assert.Equal(size, (await GetAsync(http, file)).Length);
        var range = await GetAsync(http, file, r => r.Headers.Range = new RangeHeaderValue(0, 9));
        Assert.Equal((HttpStatusCode.PartialContent, 10L), (range.Status, range.Length));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, file, r => r.Method = HttpMethod.Head)).Status);

        var after = await MetricsScrape.ReadAsync(web.BaseUrl!, MetricsBearer);
        double Delta(string name, params (string, string)[] labels) => after.Require(name, labels) - (before.Value(name, labels) ?? 0);

        Assert.Equal(1, Delta("builder_uploads_total", ("outcome", "published")));
        Assert.Equal(1, Delta("builder_uploads_total", ("outcome", "already_published")));
        Assert.Equal(1, Delta("builder_uploads_total", ("outcome", "refused")));
        Assert.Equal(1, Delta("builder_publishes_total", ("outcome", "published")));
        Assert.Equal(1, Delta("builder_publishes_total", ("outcome", "already_published")));
        Assert.Equal(1, Delta("builder_publishes_total", ("outcome", "conflict")));
        // Index lookups: the two page requests and the four file requests (each checks the file is listed).
        Assert.Equal(1, Delta("builder_cache_requests_total", ("cache", "index"), ("result", "miss")));
        Assert.Equal(5, Delta("builder_cache_requests_total", ("cache", "index"), ("result", "hit")));
        Assert.Equal(1, Delta("builder_cache_requests_total", ("cache", "file"), ("result", "miss")));
        Assert.Equal(3, Delta("builder_cache_requests_total", ("cache", "file"), ("result", "hit")));
        Assert.Equal((2 * size) + 10, Delta("builder_served_bytes_total"));

        // Requests by route template: the project's page and file routes, never their names.
        const string ProjectRoute = "/simple/{project}/";
        const string FileRoute = "/files/{project}/{filename}";
        Assert.Equal(2, Delta("builder_http_requests_received_total", ("code", "200"), ("method", "GET"), ("endpoint", ProjectRoute)));
        Assert.Equal(2, after.Require("builder_http_requests_received_total", ("code", "200"), ("method", "GET"), ("endpoint", FileRoute)));
        Assert.Equal(1, after.Require("builder_http_requests_received_total", ("code", "206"), ("method", "GET"), ("endpoint", FileRoute)));
        Assert.Equal(1, after.Require("builder_http_requests_received_total", ("code", "200"), ("method", "HEAD"), ("endpoint", FileRoute)));
        Assert.Equal(2, after.Require("builder_http_requests_received_total", ("code", "200"), ("method", "POST"), ("endpoint", "/legacy/")));
        Assert.Equal(1, after.Require("builder_http_requests_received_total", ("code", "400"), ("method", "POST"), ("endpoint", "/legacy/")));
        Assert.Equal(2, after.Require("builder_http_request_duration_seconds_count", ("code", "200"), ("method", "GET"), ("endpoint", ProjectRoute)));
        Assert.Equal(0, after.Require("builder_http_requests_in_progress", ("method", "GET"), ("endpoint", ProjectRoute)));
        var endpoints = after.Samples.Where(s => s.Labels.ContainsKey("endpoint")).Select(s => s.Labels["endpoint"]).ToHashSet(StringComparer.Ordinal);
        Assert.Contains(ProjectRoute, endpoints);
        Assert.All(endpoints, e => Assert.True(e.Length == 0 || e.StartsWith('/'), e));
        Assert.DoesNotContain(Project, after.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("acme_metrics", after.Text, StringComparison.Ordinal);

        // A build that fails (its tag names no version): counted by state and timed once its event is delivered.
        var build = await FailedBuildAsync(client);
        Assert.Equal("failed", build.State);
        var done = await WaitForScrapeAsync(web.BaseUrl!, s => s.Value("builder_build_duration_seconds_count", ("state", "failed")) == 1);
        Assert.Equal(1, done.Require("builder_builds", ("state", "failed")));
        Assert.Equal(0, done.Require("builder_builds", ("state", "queued")));
        Assert.Equal(0, done.Require("builder_queue_depth", ("queue", "default")));
        Assert.Equal(0, done.Require("builder_queue_oldest_job_age_seconds", ("queue", "default")));
        Assert.True(done.Require("builder_build_duration_seconds_sum", ("state", "failed")) > 0);
    }

    [Fact]
    public async Task A_worker_serves_metrics_on_its_health_port_and_reads_the_job_queue_it_shares_with_the_web_process()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var settings = new Dictionary<string, string>(BuilderInstance.Production(Path.Combine(_root, "production"), database.ConnectionString))
        {
            ["Builder__Metrics__Token"] = MetricsToken,
        };
        await using var web = await BuilderProcess.StartWebAsync(settings);
        var client = BuilderInstance.Client(web);

        // No worker yet: the plan job waits in the default queue, as both processes read it from PostgreSQL.
        var buildId = await PushBadTagAsync(client);
        var waiting = await WaitForScrapeAsync(web.BaseUrl!, s =>
            s.Value("builder_queue_depth", ("queue", "default")) == 1 && s.Value("builder_queue_oldest_job_age_seconds", ("queue", "default")) > 0);
        Assert.Equal(1, waiting.Require("builder_builds", ("state", "queued")));

        await using var worker = await BuilderProcess.StartWorkerWithHealthAsync(settings);
        using (var http = new HttpClient { BaseAddress = new Uri(worker.BaseUrl!) })
        using (var anonymous = await http.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        // The worker takes the job; the build fails; its own /metrics says so.
        Assert.Equal("failed", (await client.WaitForBuildAsync(buildId, TimeSpan.FromMinutes(2))).State);
        var done = await WaitForScrapeAsync(worker.BaseUrl!, s =>
            s.Value("builder_builds", ("state", "failed")) == 1 && s.Value("builder_queue_depth", ("queue", "default")) == 0);
        Assert.Equal(0, done.Require("builder_builds", ("state", "queued")));
        Assert.Equal(0, done.Require("builder_queue_depth", ("queue", "arch-x86_64")));
        Assert.NotNull(done.Value("builder_part_duration_seconds_count", ("architecture", "x86_64"), ("state", "succeeded")));
        Assert.NotNull(done.Value("process_cpu_seconds_total"));
    }

    [Fact]
    public async Task A_short_metrics_token_stops_the_web_process_with_a_message_naming_the_setting()
    {
        var environment = new Dictionary<string, string>(Embedded("short")) { ["Builder__Metrics__Token"] = "short-secret" };
        await using var web = BuilderProcess.Start(TestPaths.WebAssembly, ["--urls", "http://127.0.0.1:0"], environment);

        Assert.NotEqual(0, await web.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Builder:Metrics:Token must be empty or a secret of 16 characters or more", web.Output, StringComparison.Ordinal);
    }

    /// <summary>Scrapes (with the metrics token) until <paramref name="condition"/> holds; the last scrape after 60 s fails the test.</summary>
    private static async Task<MetricsScrape> WaitForScrapeAsync(string baseUrl, Func<MetricsScrape, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var scrape = await MetricsScrape.ReadAsync(baseUrl, MetricsBearer);
            if (condition(scrape))
            {
                return scrape;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the series did not reach the expected values within 60 s:\n" + scrape.Text);
            }

            await Task.Delay(250);
        }
    }

    /// <summary>A build whose tag names no version: it fails at planning, without a clone or a container.</summary>
    private static async Task<BuildStatus> FailedBuildAsync(BuilderClient client) =>
        await client.WaitForBuildAsync(await PushBadTagAsync(client), TimeSpan.FromMinutes(2));

    private static async Task<long> PushBadTagAsync(BuilderClient client)
    {
        var repository = await client.RegisterAsync("acme/metrics", "https://git.example.invalid/acme/metrics.git");
        var payload = BuilderClient.PushPayload(repository.Name, "refs/tags/release-candidate", new string('0', 40), new string('a', 40));
        using var response = await client.SendWebhookAsync(payload, repository.WebhookSecret);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"webhook: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
    }

    private static async Task<string> ReadTokenAsync(BuilderClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tokens")
        {
            Content = JsonContent.Create(new { name = "metrics-reader", scopes = new[] { "read" } }),
        };
        using var response = await client.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }

    private static async Task<HttpStatusCode> UploadAsync(HttpClient http, string wheel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/legacy/")
        {
            Content = LegacyUpload.Twine(wheel, Project, "1.0").ToContent(),
            Headers = { Authorization = LegacyUpload.AdminBasic },
        };
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<(HttpStatusCode Status, long Length)> GetAsync(HttpClient http, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = BuilderInstance.AdminAuthorization } };
        configure?.Invoke(request);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return (response.StatusCode, body.Length);
    }
}
