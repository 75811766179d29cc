using System.Security.Cryptography;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;
using Npgsql;

namespace Builder.Tests.Integration.Lifecycle;

/// <summary>One row of <c>GET /api/builds/{id}/events</c>.</summary>
internal sealed record LifecycleEvent(long Id, long? Part, string Kind, string State, string? Detail, DateTimeOffset At);

/// <summary>One row of <c>builder_files</c>, as PostgreSQL holds it.</summary>
internal sealed record PublishedFileRow(string Project, string Version, string Filename, string Sha256, long Size, long? BuildId);

/// <summary>What the lifecycle tests read from the outside: the events route, the files table, the index, Docker.</summary>
internal static class LifecycleProbes
{
    /// <summary>
    /// Settings for every process of a production installation whose leases expire quickly: a part whose worker vanished is
    /// taken over after <paramref name="leaseTimeoutSeconds"/>, every process beating every <paramref name="heartbeatSeconds"/>.
    /// One CPython (a pure wheel is built once whatever the list; one Python keeps the test stage out of it).
    /// </summary>
    public static Dictionary<string, string> Production(string dataDir, string connectionString, int leaseTimeoutSeconds, int heartbeatSeconds, string? workerName = null)
    {
        var settings = BuilderInstance.Production(dataDir, connectionString);
        settings["Builder__Jobs__LeaseTimeoutSeconds"] = leaseTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Builder__Jobs__HeartbeatSeconds"] = heartbeatSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Builder__Build__Pythons__0"] = "cp311";
        if (workerName is not null)
        {
            settings["Builder__Build__WorkerName"] = workerName;
        }

        return settings;
    }

    /// <summary>
    /// Moves the database's build and part ids far from 1. Build containers carry their part's id as a label, and a part
    /// run removes every container with its part id on the engine (see the report on RemoveEarlierRunsAsync): fresh test
    /// databases all start at 1, so without this, this test's parts and another installation's (another test run on the
    /// same engine) would remove each other's containers.
    /// </summary>
    public static async Task MoveIdsAwayAsync(string connectionString)
    {
        var start = 1_000_000L + Random.Shared.NextInt64(0, 1_000_000_000L);
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        foreach (var table in new[] { "builder_builds", "builder_build_parts" })
        {
            await using var command = new NpgsqlCommand($"SELECT setval(pg_get_serial_sequence('{table}', 'Id'), @start)", connection);
            command.Parameters.AddWithValue("start", start);
            await command.ExecuteScalarAsync();
        }
    }

    /// <summary>The test's own connections are not pooled: a pooled one would be dead after a PostgreSQL restart.</summary>
    private static string Unpooled(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    /// <summary>A pure project whose build stops in before-build for <paramref name="seconds"/> (long enough to act mid-part).</summary>
    public static Dictionary<string, string> SlowPure(string name, string version, int seconds)
    {
        var files = Fixtures.PythonProjects.Pure(name, version);
        // The log line is computed by the shell, so the driver's echo of the command itself never matches it.
        files["pyproject.toml"] += $"\n\n[tool.cibuildwheel]\nbefore-build = \"echo slow build sleeping for $(({seconds} * 1)) s; sleep {seconds}\"\n";
        return files;
    }

    public static string SleepingLine(int seconds) => $"slow build sleeping for {seconds} s";

    public static async Task<IReadOnlyList<LifecycleEvent>> EventsAsync(BuilderClient client, long buildId) =>
        JsonSerializer.Deserialize<List<LifecycleEvent>>(await client.GetAsAdminAsync($"/api/builds/{buildId}/events"), JsonSerializerOptions.Web)!;

    public static async Task<IReadOnlyList<PublishedFileRow>> FileRowsAsync(string connectionString, string whereSql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"""SELECT "Project", "Version", "Filename", "Sha256", "Size", "BuildId" FROM builder_files WHERE {whereSql} ORDER BY "Filename" """, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var rows = new List<PublishedFileRow>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new PublishedFileRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5)));
        }

        return rows;
    }

    public static Task<IReadOnlyList<PublishedFileRow>> FileRowsAsync(string connectionString, string project, string version) =>
        FileRowsAsync(connectionString, "\"Project\" = @project AND \"Version\" = @version", ("project", project), ("version", version));

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Downloads each row's file from the index and checks its bytes against the row (sha256 and size). Returns how many
    /// files were checked.
    /// </summary>
    public static async Task<int> AssertDownloadsMatchAsync(BuilderClient client, IEnumerable<PublishedFileRow> rows)
    {
        var checkedFiles = 0;
        foreach (var row in rows)
        {
            using var response = await client.Http.GetAsync($"/files/{row.Project}/{Uri.EscapeDataString(row.Filename)}");
            Assert.True(response.IsSuccessStatusCode, $"GET {row.Filename}: {(int)response.StatusCode}");
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(row.Size, bytes.LongLength);
            Assert.Equal(row.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            checkedFiles++;
        }

        return checkedFiles;
    }

    /// <summary>The ids of the containers (running or not) with all of <paramref name="labels"/>.</summary>
    public static async Task<IReadOnlyList<string>> ContainersAsync(params string[] labels)
    {
        var arguments = new List<string> { "ps", "-aq", "--no-trunc" };
        foreach (var label in labels)
        {
            arguments.AddRange(["--filter", "label=" + label]);
        }

        var result = (await Shell.RunAsync("docker", arguments)).EnsureSuccess("docker ps");
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>Removes what a test's killed processes left on the engine (their owners' containers).</summary>
    public static async Task RemoveContainersAsync(string owner)
    {
        foreach (var id in await ContainersAsync("io.builder.owner=" + owner))
        {
            await Shell.RunAsync("docker", ["rm", "-f", id]);
        }
    }

    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan timeout) => WaitUntilAsync(condition, () => what, timeout);

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds} s waiting for {what()}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Waits for every build to end, against one deadline; fails with the unfinished build's log.</summary>
    public static async Task<IReadOnlyList<BuildStatus>> WaitForBuildsAsync(BuilderClient client, IEnumerable<long> ids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var results = new List<BuildStatus>();
        foreach (var id in ids)
        {
            var left = deadline - DateTime.UtcNow;
            results.Add(await client.WaitForBuildAsync(id, left > TimeSpan.Zero ? left : TimeSpan.FromSeconds(1)));
        }

        return results;
    }

    /// <summary>The worker name a lease ("worker/pid/run", maybe followed by " (took over from ...)") names.</summary>
    public static string LeaseWorker(string lease) => lease[..lease.IndexOf('/', StringComparison.Ordinal)];
}
