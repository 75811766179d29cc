using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.EndToEnd;

/// <summary>PostgreSQL for Builder's tables and Hangfire's jobs, the web process, and a separate worker process.</summary>
public sealed class ProductionBuilder : IAsyncLifetime
{
    public PostgresDatabase Database { get; private set; } = null!;

    public BuilderProcess Web { get; private set; } = null!;

    public BuilderProcess Worker { get; private set; } = null!;

    public BuilderClient Client { get; private set; } = null!;

    public string Root { get; } = TestPaths.NewTempDirectory("production");

    public async Task InitializeAsync()
    {
        Database = await PostgresDatabase.CreateAsync();
        var environment = BuilderInstance.Production(Path.Combine(Root, "data"), Database.ConnectionString);
        Web = await BuilderProcess.StartWebAsync(environment);
        Worker = BuilderProcess.StartWorker(environment);
        Client = BuilderInstance.Client(Web);
    }

    public async Task DisposeAsync()
    {
        await Worker.DisposeAsync();
        await Web.DisposeAsync();
        await Database.DisposeAsync();
        TestPaths.DeleteDirectory(Root);
    }
}

[DockerBuild]
public sealed class ProductionModeTests(ProductionBuilder builder) : IClassFixture<ProductionBuilder>
{
    [Fact]
    public async Task Tag_push_of_a_pure_package_is_built_by_the_worker_and_pip_installs_it()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(builder.Root, "pure"), PythonProjects.Pure("acme-billing", "1.4.0"), "v1.4.0");
        var repository = await builder.Client.RegisterAsync("acme/billing", git.CloneUrl);

        var id = await builder.Client.PushTagAsync(repository, git);
        var build = await builder.Client.WaitForBuildAsync(id);

        await ReleaseAssertions.AssertPublishedAsync(builder.Client, build, "acme-billing", "1.4.0");
        // Pure Python: one py3-none-any wheel, not one per interpreter.
        Assert.Equal(1, ReleaseAssertions.WheelCount(build, "-py3-none-any.whl"));
        Assert.Equal(1, ReleaseAssertions.WheelCount(build, ".whl"));
        Assert.Equal(git.CommitSha, build.Json.GetProperty("resolvedCommit").GetString());
        // The job went through Hangfire on PostgreSQL, and the worker process (not the web process) ran the container.
        Assert.True(await builder.Database.ScalarAsync("SELECT COUNT(*) FROM hangfire.job") >= 1);
        Assert.Contains($"for build {id}", builder.Worker.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Created build container", builder.Web.Output, StringComparison.Ordinal);

        await ReleaseAssertions.AssertPipInstallsAsync(builder.Client, "acme-billing", "1.4.0",
            "import acme_billing; print(acme_billing.greet('world'), acme_billing.VERSION)", "hello world 1.4.0");

        // The worker published (and signed) the files; they verify through the web process, against the CA it serves.
        Assert.Contains($"Build {id} published acme-billing 1.4.0", builder.Worker.Output, StringComparison.Ordinal);
        Assert.DoesNotContain($"Build {id} published acme-billing 1.4.0", builder.Web.Output, StringComparison.Ordinal);
        Assert.Equal(2, (await ReleaseAssertions.AssertProvenanceAsync(builder.Client, build, "acme-billing", "acme/billing", git)).Count);
    }

    [Fact]
    public async Task Tag_push_of_a_C_extension_builds_a_wheel_per_python_and_the_C_function_runs()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(builder.Root, "cext"), PythonProjects.CExtension("fastadd", "1.2.3"), "v1.2.3", annotated: false);
        var repository = await builder.Client.RegisterAsync("acme/fastadd", git.CloneUrl);
        // Warm the web process's page cache (a cached 404 and a root list without the project): only the worker's
        // PostgreSQL NOTIFY can tell the web process that the release below was published.
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await builder.Client.Http.GetAsync("/simple/fastadd/")).StatusCode);
        Assert.DoesNotContain("fastadd", await builder.Client.Http.GetStringAsync("/simple/"), StringComparison.Ordinal);

        var id = await builder.Client.PushTagAsync(repository, git);
        var build = await builder.Client.WaitForBuildAsync(id);

        var files = await ReleaseAssertions.AssertPublishedAsync(builder.Client, build, "fastadd", "1.2.3");
        var wheels = files.Where(f => f.EndsWith("_x86_64.whl", StringComparison.Ordinal)).ToList();
        Assert.True(wheels.Count >= 3, "expected wheels for at least three CPythons, got: " + string.Join(", ", files));
        Assert.All(wheels, w => Assert.Matches(@"^fastadd-1\.2\.3-cp3\d+-cp3\d+-(many)?linux_.*x86_64\.whl$", w));
        Assert.Equal(wheels.Count + 1, ReleaseAssertions.Targets(build).Count()); // a target per wheel, and the sdist
        // A container with 2 CPUs (Builder:Build:Cpus) builds the wheels after the first two at a time.
        Assert.Contains($"[matrix] building {wheels.Count - 1} wheels, 2 at a time", await builder.Client.GetLogAsync(id), StringComparison.Ordinal);

        await ReleaseAssertions.AssertPipInstallsAsync(builder.Client, "fastadd", "1.2.3",
            "import fastadd, sys; print(fastadd.add(40, 2))", "42");
    }
}
