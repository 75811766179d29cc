using System.Net;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;

namespace Builder.Tests.Integration.Host;

/// <summary>
/// What a web process writes to its console while it serves and builds: one line per meaningful event (no SQL
/// statements, no line per request), as JSON for log shippers with <c>Logging__Console__FormatterName=json</c>, and the
/// build id and repository in the scope of every line about a build.
/// </summary>
[DockerBuild]
public sealed class OperatorLogTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("operator-log");

    public void Dispose() => TestPaths.DeleteDirectory(_root);

    [Fact]
    public async Task A_serving_and_building_process_logs_json_lines_per_event_with_the_build_in_scope_and_no_sql()
    {
        string output;
        long buildId;
        await using (var web = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(BuilderInstance.Embedded(Path.Combine(_root, "data")))
        {
            ["Logging__Console__FormatterName"] = "json",
        }))
        {
            var client = BuilderInstance.Client(web);
            var wheel = Distributions.Wheel(_root, "acme-logged", "1.0.0");
            using (var upload = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = LegacyUpload.Twine(wheel, "acme-logged", "1.0.0").ToContent() })
            {
                upload.Headers.Authorization = LegacyUpload.AdminBasic;
                Assert.Equal(HttpStatusCode.OK, (await client.Http.SendAsync(upload)).StatusCode);
            }

            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync("/simple/acme-logged/")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync($"/files/acme-logged/{Path.GetFileName(wheel)}")).StatusCode);
            }

            // A build that fails at its clone: queued, started and failed, each a line.
            var repository = await client.RegisterAsync("acme/logged", "file://" + Path.Combine(_root, "no-such-repository"));
            var payload = BuilderClient.PushPayload(repository.Name, "refs/tags/v1.0.0", new string('0', 40), new string('a', 40));
            using (var delivery = await client.SendWebhookAsync(payload, repository.WebhookSecret))
            {
                Assert.Equal(HttpStatusCode.Accepted, delivery.StatusCode);
                buildId = JsonDocument.Parse(await delivery.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
            }

            Assert.Equal("failed", (await client.WaitForBuildAsync(buildId)).State);
            // The event dispatcher may wait out an id gap (BuildEventDispatcher.GapWait, 10 s) before it logs the last
            // event; on a loaded machine that and the poll take longer still. Its line, not the lifecycle's own "Build N
            // failed: <reason>" written at the failure itself (which is there first).
            var deadline = DateTime.UtcNow.AddSeconds(45);
            while (!web.Output.Contains($"Build {buildId} failed: acme/logged v1.0.0", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            output = web.Output;
        }

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var entries = lines.Select(line =>
        {
            try
            {
                return JsonDocument.Parse(line).RootElement.Clone();
            }
            catch (JsonException ex)
            {
                throw new Xunit.Sdk.XunitException($"not a JSON line: {line} ({ex.Message})\n{output}");
            }
        }).ToList();

        // 40 index requests, an upload, a registration, a webhook and a build: a few dozen lines at most, none of them SQL.
        // EF speaks only of the schema it applied at start (Microsoft.EntityFrameworkCore.Migrations), never of a statement.
        Assert.DoesNotContain(entries, e => e.GetProperty("Category").GetString() is { } category
            && category.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal) && !category.StartsWith("Microsoft.EntityFrameworkCore.Migrations", StringComparison.Ordinal));
        Assert.DoesNotContain("Executed DbCommand", output, StringComparison.Ordinal);
        Assert.True(entries.Count < 60, $"{entries.Count} lines:\n{output}");

        // Every line about the build carries it and its repository in scope.
        var buildLines = entries.Where(e => e.GetProperty("Category").GetString() == "Builder.Pipeline.BuildEventLog").ToList();
        Assert.Contains(buildLines, e => e.GetProperty("Message").GetString()!.StartsWith($"Build {buildId} queued: acme/logged v1.0.0", StringComparison.Ordinal));
        Assert.Contains(buildLines, e => e.GetProperty("Message").GetString()!.StartsWith($"Build {buildId} failed: acme/logged v1.0.0: ", StringComparison.Ordinal));
        Assert.All(buildLines, e =>
        {
            var scope = Assert.Single(e.GetProperty("Scopes").EnumerateArray(), s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("BuildId", out _));
            Assert.Equal(buildId, scope.GetProperty("BuildId").GetInt64());
            Assert.Equal("acme/logged", scope.GetProperty("Repository").GetString());
        });
    }
}
