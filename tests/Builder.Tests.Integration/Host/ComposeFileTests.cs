using System.Net;
using Builder.Tests.Integration.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Builder.Tests.Integration.Host;

/// <summary>
/// <c>docker-compose.yml</c>, the production shape users start, read the way Compose reads it (<c>docker-compose config</c>,
/// Debian's 1.29; no image can be pulled here, so nothing is started): its services, who mounts what, that web and
/// worker share the database and the bucket and nothing else, that a missing secret stops it with a message naming
/// it, and that the web and worker healthcheck counts only a ready answer of a real Builder process.
/// </summary>
public sealed class ComposeFileTests : IAsyncLifetime
{
    private static readonly string ComposeFile = Path.Combine(TestPaths.RepositoryRoot, "docker-compose.yml");

    /// <summary>The secrets .env must give (dummy values), and S3_BUCKET empty: its default.</summary>
    private static readonly Dictionary<string, string> Secrets = new()
    {
        ["POSTGRES_PASSWORD"] = "compose-test-password",
        ["BUILDER_ADMIN_TOKEN"] = "compose-test-admin-token-0123",
        ["S3_ACCESS_KEY"] = "compose-test-access-key",
        ["S3_SECRET_KEY"] = "compose-test-secret-key",
        ["S3_BUCKET"] = string.Empty,
    };

    private readonly string _root = TestPaths.NewTempDirectory("compose");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        TestPaths.DeleteDirectory(_root);
        return Task.CompletedTask;
    }

    private async Task<ShellResult> ConfigAsync(IDictionary<string, string> environment)
    {
        // An empty env file: a .env an operator keeps beside the compose file must not decide what the test sees.
        var envFile = Path.Combine(_root, "empty.env");
        await File.WriteAllTextAsync(envFile, string.Empty);
        return await Shell.RunAsync("docker-compose", ["--env-file", envFile, "-f", ComposeFile, "config"], _root, environment, TimeSpan.FromMinutes(1));
    }

    private async Task<YamlMappingNode> ServicesAsync()
    {
        var config = (await ConfigAsync(Secrets)).EnsureSuccess("docker-compose config");
        var yaml = new YamlStream();
        yaml.Load(new StringReader(config.StandardOutput));
        return Map(yaml.Documents[0].RootNode, "services");
    }

    private static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)];

    private static bool Has(YamlNode node, string key) => ((YamlMappingNode)node).Children.ContainsKey(new YamlScalarNode(key));

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)]).Value!;

    private static List<string> Sequence(YamlNode node, string key) =>
        Has(node, key) ? ((YamlSequenceNode)((YamlMappingNode)node).Children[new YamlScalarNode(key)]).Children.Select(c => ((YamlScalarNode)c).Value!).ToList() : [];

    private static Dictionary<string, string> Environment(YamlMappingNode services, string service) =>
        Map(Map(services, service), "environment").Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ((YamlScalarNode)e.Value).Value!, StringComparer.Ordinal);

    private static Dictionary<string, string> Starting(Dictionary<string, string> environment, string prefix) =>
        environment.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal);

    /// <summary>The bash script of a healthcheck <c>["CMD", "bash", "-c", script]</c>.</summary>
    private static string Probe(YamlMappingNode services, string service)
    {
        var test = Sequence(Map(Map(services, service), "healthcheck"), "test");
        Assert.Equal(["CMD", "bash", "-c"], test.Take(3));
        Assert.Equal(4, test.Count);
        return test[3];
    }

    [Fact]
    public async Task The_compose_file_runs_postgres_an_s3_server_its_bucket_web_and_a_worker_that_share_only_the_database_and_the_bucket()
    {
        var services = await ServicesAsync();
        Assert.Equal(["create-bucket", "postgres", "seaweedfs", "web", "worker"], services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).Order(StringComparer.Ordinal));
        foreach (var service in new[] { "postgres", "seaweedfs", "web", "worker" })
        {
            Assert.True(Has(Map(services, service), "healthcheck"), $"{service} has no healthcheck");
        }

        // The S3 server's image is pinned to a release, and the bucket step uses the same image's own tooling.
        Assert.Matches(@"^chrislusf/seaweedfs:\d+\.\d+$", Scalar(Map(services, "seaweedfs"), "image"));
        Assert.Equal(Scalar(Map(services, "seaweedfs"), "image"), Scalar(Map(services, "create-bucket"), "image"));

        // Web and worker agree on the database and on every storage setting; the bucket is the one the step creates, on
        // the S3 server of this file, with the credentials that server is given.
        var web = Environment(services, "web");
        var worker = Environment(services, "worker");
        var storage = Starting(web, "Builder__Storage__");
        Assert.Equal(storage, Starting(worker, "Builder__Storage__"));
        Assert.Equal(web["ConnectionStrings__Postgres"], worker["ConnectionStrings__Postgres"]);
        Assert.Equal("postgres", web["Builder__Database"]);
        Assert.Equal("postgres", worker["Builder__Database"]);
        Assert.Contains($"Password={Secrets["POSTGRES_PASSWORD"]};", web["ConnectionStrings__Postgres"], StringComparison.Ordinal);
        Assert.Equal("s3", storage["Builder__Storage__Provider"]);
        Assert.Equal("builder", storage["Builder__Storage__S3__Bucket"]);
        Assert.Equal(storage["Builder__Storage__S3__Bucket"], Environment(services, "create-bucket")["BUCKET"]);
        Assert.Equal("http://seaweedfs:8333", storage["Builder__Storage__S3__ServiceUrl"]);
        Assert.Equal("true", storage["Builder__Storage__S3__ForcePathStyle"]);
        var s3 = Environment(services, "seaweedfs");
        Assert.Equal(Secrets["S3_ACCESS_KEY"], storage["Builder__Storage__S3__AccessKey"]);
        Assert.Equal(s3["AWS_ACCESS_KEY_ID"], storage["Builder__Storage__S3__AccessKey"]);
        Assert.Equal(s3["AWS_SECRET_ACCESS_KEY"], storage["Builder__Storage__S3__SecretKey"]);
        Assert.Equal(Secrets["BUILDER_ADMIN_TOKEN"], web["Builder__AdminToken"]);

        // Web and worker start after the bucket exists and PostgreSQL answers; the worker after the web process made the schema.
        foreach (var service in new[] { "web", "worker" })
        {
            var dependsOn = Map(Map(services, service), "depends_on");
            Assert.Equal("service_completed_successfully", Scalar(Map(dependsOn, "create-bucket"), "condition"));
            Assert.Equal("service_healthy", Scalar(Map(dependsOn, "postgres"), "condition"));
        }

        Assert.Equal("service_healthy", Scalar(Map(Map(Map(services, "worker"), "depends_on"), "web"), "condition"));
        Assert.Equal("service_healthy", Scalar(Map(Map(Map(services, "create-bucket"), "depends_on"), "seaweedfs"), "condition"));

        // Only the worker gets the Docker socket; no artifact volume is shared any more (the web process mounts nothing),
        // and the worker mounts only host paths: the socket and the relay directory, at the same path on both sides.
        foreach (var service in new[] { "postgres", "seaweedfs", "create-bucket", "web" })
        {
            Assert.DoesNotContain(Sequence(Map(services, service), "volumes"), v => v.Contains("docker.sock", StringComparison.Ordinal));
        }

        Assert.Empty(Sequence(Map(services, "web"), "volumes"));
        var relay = worker["Builder__Build__RelayDir"];
        Assert.Equal(
            [$"{relay}:{relay}:rw", "/var/run/docker.sock:/var/run/docker.sock:rw"],
            Sequence(Map(services, "worker"), "volumes").Order(StringComparer.Ordinal));

        // The worker says which architecture queues it takes, and has an image for each.
        Assert.Equal("x86_64", worker["Builder__Jobs__Architectures__0"]);
        Assert.Equal("quay.io/pypa/manylinux_2_28_x86_64", worker["Builder__Build__Images__x86_64"]);
        Assert.Equal("http://0.0.0.0:8081", worker["Builder__Worker__Urls"]);
    }

    [Theory]
    [InlineData("POSTGRES_PASSWORD")]
    [InlineData("BUILDER_ADMIN_TOKEN")]
    [InlineData("S3_ACCESS_KEY")]
    [InlineData("S3_SECRET_KEY")]
    public async Task A_missing_secret_stops_the_compose_file_with_a_message_naming_it(string secret)
    {
        var result = await ConfigAsync(new Dictionary<string, string>(Secrets) { [secret] = string.Empty });

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"set {secret} in .env", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(result.StandardOutput.Trim());
    }

    [Fact]
    public async Task The_web_and_worker_healthcheck_counts_only_a_ready_answer_of_a_real_builder_process()
    {
        var services = await ServicesAsync();
        var web = Probe(services, "web");
        Assert.Contains("/dev/tcp/127.0.0.1/8080 ", web, StringComparison.Ordinal);
        Assert.Contains("GET /readyz ", web, StringComparison.Ordinal);
        // The worker's is the same probe at its own port (Builder__Worker__Urls).
        Assert.Equal(web.Replace("/127.0.0.1/8080 ", "/127.0.0.1/8081 ", StringComparison.Ordinal), Probe(services, "worker"));

        // The probe run by bash, as the image runs it, against real web processes at their own port.
        async Task<ShellResult> ProbeAsync(BuilderProcess process) =>
            await Shell.RunAsync("bash", ["-c", web.Replace("/127.0.0.1/8080 ", $"/127.0.0.1/{new Uri(process.BaseUrl!).Port} ", StringComparison.Ordinal)], _root, timeout: TimeSpan.FromSeconds(30));

        await using (var ready = await BuilderProcess.StartWebAsync(BuilderInstance.Embedded(Path.Combine(_root, "ready"))))
        {
            var healthy = await ProbeAsync(ready);
            Assert.True(healthy.ExitCode == 0, $"the probe failed against a ready process:\n{healthy.Output}");
        }

        // Alive but not ready (no Docker engine where it looks): /readyz answers 503, and the probe fails.
        var broken = new Dictionary<string, string>(BuilderInstance.Embedded(Path.Combine(_root, "not-ready")))
        {
            ["Builder__Build__DockerEndpoint"] = "unix://" + Path.Combine(_root, "no-docker.sock"),
            ["Builder__Index__WarmOnStart"] = "false",
        };
        await using (var notReady = await BuilderProcess.StartWebAsync(broken))
        {
            using var http = new HttpClient { BaseAddress = new Uri(notReady.BaseUrl!), Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
            Assert.NotEqual(0, (await ProbeAsync(notReady)).ExitCode);
        }
    }
}
