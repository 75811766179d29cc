using System.Net;
using System.Text.RegularExpressions;
using Builder.Tests.Integration.Infrastructure;
using Npgsql;
using Xunit.Abstractions;
using static Builder.Tests.Integration.Access.AccessClientHelpers;

namespace Builder.Tests.Integration.Index;

/// <summary>
/// Production mode with two web replicas on one PostgreSQL database and one shared data directory, as behind a load
/// balancer. Replica B's connections to PostgreSQL pass through a proxy the test controls, so the test can make B's
/// change notification connection die silently. B's pages are in its cache (requested) before every change, so what
/// is checked is that B's cache forgets them, not a cold read.
/// </summary>
public sealed class ReplicaFreshnessTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const string Project = "acme-sdk";
    private const string ListenerApplication = "builder-change-listener";
    private const string LostLine = "Change notifications were lost";
    private const string ListeningLine = "Listening for changes from serial";
    private const string ListenFailedLine = "Lost the change listener connection";

    private readonly string _root = TestPaths.NewTempDirectory("replicas");
    private PostgresDatabase _database = null!;
    private FreezableTcpProxy _proxy = null!;
    private BuilderProcess _a = null!;
    private BuilderProcess _b = null!;
    private HttpClient _httpA = null!;
    private HttpClient _httpB = null!;

    public async Task InitializeAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        var direct = new NpgsqlConnectionStringBuilder(_database.ConnectionString);
        _proxy = FreezableTcpProxy.Start(direct.Host!, direct.Port);
        // SSL off through the proxy, so the startup message (and its application_name) can be told apart.
        var proxied = new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Host = "127.0.0.1", Port = _proxy.Port, SslMode = SslMode.Disable };
        var data = Dir(_root, "data");
        _a = await BuilderProcess.StartWebAsync(Production(data, _database.ConnectionString));
        _b = await BuilderProcess.StartWebAsync(Production(data, proxied.ConnectionString));
        _httpA = BuilderInstance.AdminHttp(_a.BaseUrl!);
        _httpB = BuilderInstance.AdminHttp(_b.BaseUrl!);
        // B listens once its listener connection (through the proxy) has said LISTEN.
        var listening = await PollAsync(() => Task.FromResult(Count(_b.Output, ListeningLine)), n => n >= 1, TimeSpan.FromSeconds(30));
        Assert.True(listening.Value >= 1, $"B did not start listening:\n{_b.Output}");
        Assert.Equal(1, _proxy.Connections(ListenerApplication));
    }

    public void Dispose()
    {
        _httpA?.Dispose();
        _httpB?.Dispose();
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _proxy.DisposeAsync();
        await _database.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    [Fact]
    public async Task A_publish_a_yank_and_a_delete_on_one_replica_are_on_the_other_within_a_second()
    {
        var wheel = Distributions.Wheel(Dir(_root, "dist"), Project, "1.0.0");
        var filename = Path.GetFileName(wheel);
        await WarmAsync(HttpStatusCode.NotFound);

        await PublishAsync(_httpA, wheel, Project, "1.0.0");
        var published = await WaitOnBAsync(page => page.Status == HttpStatusCode.OK && page.Body.Contains(filename, StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Report("publish", published);

        await WarmAsync(HttpStatusCode.OK);
        await SendAsync(_httpA, HttpMethod.Post, $"/api/projects/{Project}/releases/1.0.0/yank", "{\"reason\":\"broken build\"}");
        var yanked = await WaitOnBAsync(page => page.Body.Contains("data-yanked=\"broken build\"", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Report("yank", yanked);

        await WarmAsync(HttpStatusCode.OK);
        await SendAsync(_httpA, HttpMethod.Delete, $"/api/projects/{Project}/files/{filename}");
        var deleted = await WaitOnBAsync(page => !page.Body.Contains(filename, StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Report("delete", deleted);

        Assert.True(published.Elapsed < TimeSpan.FromSeconds(2), $"B listed the upload {published.Elapsed} after A accepted it");
        Assert.True(yanked.Elapsed < TimeSpan.FromSeconds(2), $"B showed the yank {yanked.Elapsed} after A made it");
        Assert.True(deleted.Elapsed < TimeSpan.FromSeconds(2), $"B still listed the deleted file {deleted.Elapsed} after A deleted it");
        // Each reached B as a notification: none was lost.
        Assert.Equal(0, Count(_b.Output, LostLine));
    }

    [Fact]
    public async Task A_replica_whose_notification_connection_died_silently_sees_a_change_within_three_seconds_and_listens_again()
    {
        await WarmAsync(HttpStatusCode.NotFound);
        Assert.Equal(1, _proxy.Freeze(ListenerApplication));

        var wheel = Distributions.Wheel(Dir(_root, "dist"), Project, "1.0.0");
        await PublishAsync(_httpA, wheel, Project, "1.0.0");
        var published = await WaitOnBAsync(page => page.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(15));
        Report("publish, notification connection frozen", published);

        Assert.True(published.Value.Status == HttpStatusCode.OK, $"B never listed the upload:\n{_b.Output}");
        Assert.True(published.Elapsed < TimeSpan.FromSeconds(3), $"B listed the upload {published.Elapsed} after A accepted it (its notification connection frozen)");
        var lost = await PollAsync(() => Task.FromResult(Count(_b.Output, LostLine)), n => n >= 1, TimeSpan.FromSeconds(5));
        Assert.True(lost.Value == 1, $"B did not say it lost notifications:\n{_b.Output}");

        // B gave up the frozen connection and listens on a new one: the next change arrives as a notification.
        var relistened = await PollAsync(() => Task.FromResult(Count(_b.Output, ListeningLine)), n => n >= 2, TimeSpan.FromSeconds(20));
        Assert.True(relistened.Value == 2, $"B did not listen again:\n{_b.Output}");
        Assert.Equal(2, _proxy.Connections(ListenerApplication));
        await WarmAsync(HttpStatusCode.OK);
        await SendAsync(_httpA, HttpMethod.Post, $"/api/projects/{Project}/releases/1.0.0/yank", "{\"reason\":\"broken build\"}");
        var yanked = await WaitOnBAsync(page => page.Body.Contains("data-yanked=\"broken build\"", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Report("yank, listening again", yanked);
        Assert.True(yanked.Elapsed < TimeSpan.FromSeconds(2), $"B showed the yank {yanked.Elapsed} after A made it");
        Assert.Equal(1, Count(_b.Output, LostLine));
    }

    [Fact]
    public async Task A_replica_whose_notification_connection_was_terminated_sees_a_change_within_three_seconds()
    {
        await WarmAsync(HttpStatusCode.NotFound);
        // The visible death: the server ends every listener's session (A's and B's), and each client learns of it.
        Assert.Equal(2, await _database.ScalarAsync(
            $"SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = '{ListenerApplication}') t"));

        var noticed = await PollAsync(() => Task.FromResult(_b.Output.Contains(ListenFailedLine, StringComparison.Ordinal)), seen => seen, TimeSpan.FromSeconds(10));
        Assert.True(noticed.Value, $"B did not notice its listener connection ended:\n{_b.Output}");

        // Changed while B waits to listen again, its page cached after it forgot everything.
        await WarmAsync(HttpStatusCode.NotFound);
        await PublishAsync(_httpA, Distributions.Wheel(Dir(_root, "dist"), Project, "1.0.0"), Project, "1.0.0");
        var published = await WaitOnBAsync(page => page.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(15));
        Report("publish, listener terminated", published);

        Assert.True(published.Elapsed < TimeSpan.FromSeconds(3), $"B listed the upload {published.Elapsed} after A accepted it (its listener connection terminated)");
        var relistened = await PollAsync(() => Task.FromResult(Count(_b.Output, ListeningLine)), n => n >= 2, TimeSpan.FromSeconds(20));
        Assert.True(relistened.Value >= 2, $"B did not listen again:\n{_b.Output}");
    }

    [Fact]
    public async Task A_missing_change_serial_is_created_again_by_the_next_change_and_polling_without_it_stops_nothing()
    {
        // As on a new database whose first change comes from a worker or an import, before any web process listened.
        await WarmAsync(HttpStatusCode.NotFound);
        await _database.ExecuteAsync("DROP SEQUENCE builder_change_serial");
        var failing = await PollAsync(() => Task.FromResult(Count(_b.Output, "Could not read the change serial")), n => n >= 1, TimeSpan.FromSeconds(10));
        Assert.True(failing.Value == 1, $"B did not say it could not read the serial:\n{_b.Output}");

        await PublishAsync(_httpA, Distributions.Wheel(Dir(_root, "dist"), Project, "1.0.0"), Project, "1.0.0");
        var published = await WaitOnBAsync(page => page.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(10));
        Report("publish, serial created again", published);

        Assert.True(published.Elapsed < TimeSpan.FromSeconds(2), $"B listed the upload {published.Elapsed} after A accepted it");
        Assert.Equal(1, await _database.ScalarAsync("SELECT last_value FROM builder_change_serial"));
        var recovered = await PollAsync(() => Task.FromResult(Count(_b.Output, "Reading the change serial again")), n => n >= 1, TimeSpan.FromSeconds(10));
        Assert.True(recovered.Value == 1, $"B did not read the serial again:\n{_b.Output}");
        Assert.Equal(1, Count(_b.Output, "Could not read the change serial"));
        Assert.Equal(0, Count(_b.Output, LostLine));
    }

    private static Dictionary<string, string> Production(string dataDir, string connectionString) =>
        new(BuilderInstance.Production(dataDir, connectionString)) { ["Builder__Index__WarmOnStart"] = "false" };

    /// <summary>Requests B's project page twice, so it is in B's cache, and checks what it said.</summary>
    private async Task WarmAsync(HttpStatusCode expected)
    {
        for (var i = 0; i < 2; i++)
        {
            var page = await GetAsync(_httpB, $"/simple/{Project}/", BuilderInstance.AdminAuthorization);
            Assert.True(page.Status == expected, $"B: {page.Status} {page.Body}");
        }
    }

    /// <summary>Polls B's project page from now until <paramref name="done"/> holds; fails when it never does.</summary>
    private async Task<(Page Value, TimeSpan Elapsed, int Attempts)> WaitOnBAsync(Func<Page, bool> done, TimeSpan deadline)
    {
        var result = await PollAsync(
            async () =>
            {
                var (status, _, body) = await GetAsync(_httpB, $"/simple/{Project}/", BuilderInstance.AdminAuthorization);
                return new Page(status, body);
            },
            done, deadline, TimeSpan.FromMilliseconds(20));
        Assert.True(done(result.Value), $"B's page never changed within {deadline}: {result.Value.Status} {result.Value.Body}\n{_b.Output}");
        return result;
    }

    private static async Task SendAsync(HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private void Report(string change, (Page Value, TimeSpan Elapsed, int Attempts) seen) =>
        output.WriteLine($"{change}: on B after {seen.Elapsed.TotalMilliseconds:0} ms ({seen.Attempts} requests)");

    private static int Count(string text, string line) => Regex.Count(text, Regex.Escape(line));

    private sealed record Page(HttpStatusCode Status, string Body);
}
