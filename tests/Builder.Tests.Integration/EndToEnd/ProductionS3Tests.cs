using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Builder.Tests.Integration.Access;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>
/// The production shape with nothing shared but PostgreSQL and an S3 bucket (a real S3 API server on loopback): a web
/// process and a worker, each with a data directory of its own.
/// </summary>
public sealed class ProductionS3Builder : IAsyncLifetime
{
    public const string Bucket = "builder-artifacts";
    public const string Prefix = "prod/";

    public S3Server S3 { get; private set; } = null!;

    public PostgresDatabase Database { get; private set; } = null!;

    public BuilderProcess Web { get; private set; } = null!;

    public BuilderProcess Worker { get; private set; } = null!;

    public BuilderClient Client { get; private set; } = null!;

    public string Root { get; } = TestPaths.NewTempDirectory("production-s3");

    /// <summary>A process's settings: its own data directory, the shared database and bucket.</summary>
    public Dictionary<string, string> Settings(string name) =>
        new(BuilderInstance.Production(Path.Combine(Root, name), Database.ConnectionString).Concat(S3.Settings(Bucket, Prefix)))
        {
            // Files larger than this are streamed from the bucket rather than kept in memory: the outage test reads one.
            ["Builder__Index__FileCacheMaxFileBytes"] = "65536",
            // An unanswered request counts as such after 5 s; writes wait out an outage for up to 5 minutes.
            ["Builder__Storage__S3__TimeoutSeconds"] = "5",
            ["Builder__Storage__RetrySeconds"] = "300",
        };

    public async Task InitializeAsync()
    {
        S3 = await S3Server.StartAsync();
        await S3.CreateBucketAsync(Bucket);
        Database = await PostgresDatabase.CreateAsync();
        Web = await BuilderProcess.StartWebAsync(Settings("web"));
        // The worker gives up on the bucket after 20 s, so that the outage test's build fails within the test.
        Worker = BuilderProcess.StartWorker(new Dictionary<string, string>(Settings("worker")) { ["Builder__Storage__RetrySeconds"] = "20" });
        Client = BuilderInstance.Client(Web);
    }

    public async Task DisposeAsync()
    {
        await Worker.DisposeAsync();
        await Web.DisposeAsync();
        await Database.DisposeAsync();
        await S3.DisposeAsync();
        TestPaths.DeleteDirectory(Root);
    }
}

[DockerBuild]
public sealed class ProductionS3Tests(ProductionS3Builder builder) : IClassFixture<ProductionS3Builder>
{
    private HttpClient Http => builder.Client.Http;

    private Task<HttpResponseMessage> UploadAsync(string path, string name, string version) =>
        Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/legacy/")
        {
            Content = LegacyUpload.Twine(path, name, version).ToContent(),
            Headers = { Authorization = LegacyUpload.AdminBasic },
        });

    [Fact]
    public async Task A_tag_is_built_by_the_worker_staged_and_published_in_the_bucket_and_pip_installs_it()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(builder.Root, "pure"), PythonProjects.Pure("acme-s3", "2.0.0"), "v2.0.0");
        var repository = await builder.Client.RegisterAsync("acme/s3", git.CloneUrl);

        var build = await builder.Client.WaitForBuildAsync(await builder.Client.PushTagAsync(repository, git));

        var files = await ReleaseAssertions.AssertPublishedAsync(builder.Client, build, "acme-s3", "2.0.0");
        await ReleaseAssertions.AssertPipInstallsAsync(builder.Client, "acme-s3", "2.0.0", "import acme_s3; print(acme_s3.VERSION)", "2.0.0");

        // The bucket holds the release's files, the wheel's metadata sidecar, and nothing staged any more; no disk has them.
        var objects = await builder.S3.ListAsync(ProductionS3Builder.Bucket, ProductionS3Builder.Prefix + "acme-s3/");
        var wheel = Assert.Single(files, f => f.EndsWith(".whl", StringComparison.Ordinal));
        Assert.Equal(files.Select(f => ProductionS3Builder.Prefix + "acme-s3/" + f).Append(ProductionS3Builder.Prefix + "acme-s3/" + wheel + ".metadata").Order(StringComparer.Ordinal),
            objects.Keys.Order(StringComparer.Ordinal));
        Assert.Empty((await builder.S3.ListAsync(ProductionS3Builder.Bucket, ProductionS3Builder.Prefix + "_staging")).Keys);
        Assert.Empty(Directory.Exists(Path.Combine(builder.Root, "web", "files")) ? Directory.GetFiles(Path.Combine(builder.Root, "web", "files"), "*", SearchOption.AllDirectories) : []);
        Assert.Contains($"for build {build.Id}", builder.Worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Uploads_and_imports_land_in_the_bucket_and_downloads_serve_ranges_etags_and_head()
    {
        var dist = TestPaths.NewTempDirectory("s3-dist");
        var wheel = Distributions.Wheel(dist, "acme-upload-s3", "1.0.0", payloadBytes: 300_000);
        var sdist = Distributions.Sdist(dist, "acme-upload-s3", "1.0.0");
        var home = TestPaths.NewTempDirectory("s3-home");
        (await AccessClientHelpers.TwineAsync(builder.Web.BaseUrl!, home, "__token__", BuilderInstance.AdminToken, wheel, sdist)).EnsureSuccess("twine upload to S3");

        // The import command writes through the same store.
        var imports = TestPaths.NewTempDirectory("s3-import");
        var imported = Distributions.Wheel(imports, "acme-imported-s3", "3.0.0");
        await using (var import = BuilderProcess.Start(TestPaths.WebAssembly, ["import", imports], builder.Settings("import")))
        {
            Assert.True(await import.WaitForExitAsync(TimeSpan.FromMinutes(2)) == 0, import.Output);
        }

        var objects = await builder.S3.ListAsync(ProductionS3Builder.Bucket, ProductionS3Builder.Prefix);
        Assert.Equal(new FileInfo(wheel).Length, objects[$"{ProductionS3Builder.Prefix}acme-upload-s3/{Path.GetFileName(wheel)}"]);
        Assert.Equal(new FileInfo(sdist).Length, objects[$"{ProductionS3Builder.Prefix}acme-upload-s3/{Path.GetFileName(sdist)}"]);
        Assert.Contains($"{ProductionS3Builder.Prefix}acme-upload-s3/{Path.GetFileName(wheel)}.metadata", objects.Keys);
        Assert.Equal(new FileInfo(imported).Length, objects[$"{ProductionS3Builder.Prefix}acme-imported-s3/{Path.GetFileName(imported)}"]);

        var bytes = await File.ReadAllBytesAsync(wheel);
        var url = $"/files/acme-upload-s3/{Path.GetFileName(wheel)}";
        using (var whole = await Http.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal(bytes, await whole.Content.ReadAsByteArrayAsync());
            Assert.Equal($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"", whole.Headers.ETag?.Tag);
            Assert.Equal("bytes", whole.Headers.AcceptRanges.Single());
        }

        // A range in the middle and the tail (how pip and uv read a wheel's metadata): only those bytes.
        foreach (var (from, to) in new (long, long)[] { (1000, 1999), (bytes.Length - 22, bytes.Length - 1) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Range = new RangeHeaderValue(from, to) } };
            using var range = await Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
            Assert.Equal(bytes[(int)from..(int)(to + 1)], await range.Content.ReadAsByteArrayAsync());
            Assert.Equal($"bytes {from}-{to}/{bytes.Length}", range.Content.Headers.ContentRange?.ToString());
        }

        using (var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url)))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        }

        using (var conditional = new HttpRequestMessage(HttpMethod.Get, url))
        {
            conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\""));
            using var notModified = await Http.SendAsync(conditional);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        // The PEP 658 sidecar and the JSON API's metadata (read from the bucket) are served too.
        Assert.Contains("Name: acme-upload-s3", await Http.GetStringAsync(url + ".metadata"), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(await Http.GetStringAsync("/pypi/acme-upload-s3/json"));
        Assert.Equal("acme-upload-s3", json.RootElement.GetProperty("info").GetProperty("name").GetString());

        await Pip.InstallAsync("3.12", BuilderInstance.WithCredentials(builder.Web.BaseUrl + "/simple/"), "acme-imported-s3==3.0.0", home);
    }

    [Fact]
    public async Task With_redirected_downloads_a_GET_is_sent_to_a_presigned_URL_after_the_access_check_and_HEAD_stays_here()
    {
        var dist = TestPaths.NewTempDirectory("s3-redirect");
        var wheel = Distributions.Wheel(dist, "acme-redirect", "1.0.0", payloadBytes: 200_000);
        using (var upload = await UploadAsync(wheel, "acme-redirect", "1.0.0"))
        {
            Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        }

        // A second web replica, on the same database and bucket, that redirects downloads.
        await using var replica = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(builder.Settings("replica"))
        {
            ["Builder__Storage__S3__RedirectDownloads"] = "true",
        });
        using var noRedirects = BuilderInstance.AdminHttp(replica.BaseUrl!, new HttpClientHandler { AllowAutoRedirect = false });
        var url = $"/files/acme-redirect/{Path.GetFileName(wheel)}";
        var bytes = await File.ReadAllBytesAsync(wheel);

        using (var redirect = await noRedirects.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
            var location = redirect.Headers.Location!;
            Assert.StartsWith(builder.S3.Url + "/", location.AbsoluteUri, StringComparison.Ordinal);
            Assert.Contains("X-Amz-Signature=", location.Query, StringComparison.Ordinal);
            Assert.True(redirect.Headers.CacheControl is { NoStore: true, Private: true }, redirect.Headers.CacheControl?.ToString());

            // The presigned URL serves the bytes and their ranges without Builder's credentials.
            using var plain = new HttpClient();
            Assert.Equal(bytes, await plain.GetByteArrayAsync(location));
            using var rangeRequest = new HttpRequestMessage(HttpMethod.Get, location) { Headers = { Range = new RangeHeaderValue(10, 19) } };
            using var range = await plain.SendAsync(rangeRequest);
            Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
            Assert.Equal(bytes[10..20], await range.Content.ReadAsByteArrayAsync());
        }

        // HEAD is answered by Builder (a URL presigned for GET refuses HEAD); no credentials: no redirect, a challenge.
        using (var head = await noRedirects.SendAsync(new HttpRequestMessage(HttpMethod.Head, url)))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        }

        using (var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(replica.BaseUrl!) })
        using (var refused = await anonymous.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Null(refused.Headers.Location);
        }

        // pip follows the redirect.
        var home = TestPaths.NewTempDirectory("s3-redirect-home");
        await Pip.InstallAsync("3.12", BuilderInstance.WithCredentials(replica.BaseUrl + "/simple/"), "acme-redirect==1.0.0", home);
    }

    [Fact]
    public async Task During_an_S3_outage_downloads_answer_503_uploads_wait_for_the_server_and_a_build_fails_with_a_message_after_the_limit()
    {
        var dist = TestPaths.NewTempDirectory("s3-outage");
        var large = Distributions.Wheel(dist, "acme-outage", "1.0.0", payloadBytes: 200_000);
        using (var upload = await UploadAsync(large, "acme-outage", "1.0.0"))
        {
            Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        }

        var git = await GitRepositories.CreateAsync(Path.Combine(builder.Root, "outage"), PythonProjects.Pure("acme-outage-build", "1.0.0"), "v1.0.0");
        var repository = await builder.Client.RegisterAsync("acme/outage-build", git.CloneUrl);
        var later = Distributions.Wheel(dist, "acme-outage", "1.1.0");
        await builder.S3.StopAsync();
        try
        {
            // A download of a file not in memory: 503 with Retry-After and a problem naming the store, not a 500 or a cut body.
            using (var download = await Http.GetAsync($"/files/acme-outage/{Path.GetFileName(large)}"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, download.StatusCode);
                Assert.NotNull(download.Headers.RetryAfter);
                Assert.Contains("the artifact store is unavailable", await download.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            // An upload waits for the store; a build's part, whose worker waits only 20 s, fails saying why.
            var uploading = UploadAsync(later, "acme-outage", "1.1.0");
            var buildId = await builder.Client.PushTagAsync(repository, git);
            var failed = await builder.Client.WaitForBuildAsync(buildId, TimeSpan.FromMinutes(4));
            Assert.Equal("failed", failed.State);
            Assert.Contains($"the artifact store s3://{ProductionS3Builder.Bucket}/{ProductionS3Builder.Prefix} at {builder.S3.Url} did not answer storing _staging-{buildId}/", failed.Error, StringComparison.Ordinal);
            Assert.Contains("Builder:Storage:RetrySeconds is 20", failed.Error, StringComparison.Ordinal);
            Assert.False(uploading.IsCompleted);

            await builder.S3.ResumeAsync();
            using var uploaded = await uploading;
            Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
        }
        finally
        {
            await builder.S3.ResumeAsync();
        }

        Assert.Equal(await File.ReadAllBytesAsync(later), await Http.GetByteArrayAsync($"/files/acme-outage/{Path.GetFileName(later)}"));
        Assert.Equal(await File.ReadAllBytesAsync(large), await Http.GetByteArrayAsync($"/files/acme-outage/{Path.GetFileName(large)}"));
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/simple/acme-outage-build/")).StatusCode);
    }
}
