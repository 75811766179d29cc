using Npgsql;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// A fresh database on the PostgreSQL server that .ci/run (or test.sh) started; its admin connection string comes
/// from BUILDER_TEST_POSTGRES. Missing server → the test fails loudly: these tests never skip silently.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _admin;

    private PostgresDatabase(string admin, string name, string connectionString)
    {
        _admin = admin;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static Task<PostgresDatabase> CreateAsync()
    {
        var admin = Environment.GetEnvironmentVariable("BUILDER_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(admin))
        {
            throw new InvalidOperationException(
                "BUILDER_TEST_POSTGRES is not set: run the tests with ./test.sh, which starts PostgreSQL and sets it (e.g. 'Host=127.0.0.1;Port=55432;Username=postgres').");
        }

        return CreateAsync(admin);
    }

    /// <summary>A fresh database on the server <paramref name="admin"/> connects to (a test's own server, for one it restarts).</summary>
    public static async Task<PostgresDatabase> CreateAsync(string admin)
    {
        var name = "builder_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        return new PostgresDatabase(admin, name, builder.ConnectionString);
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a text dump (<c>pg_dump</c>'s output) into this database with <c>psql</c>, stopping at the first error.</summary>
    public async Task RestoreAsync(string dumpPath)
    {
        var connection = new NpgsqlConnectionStringBuilder(ConnectionString);
        var environment = new Dictionary<string, string>
        {
            ["PGHOST"] = connection.Host!,
            ["PGPORT"] = connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGUSER"] = connection.Username!,
            ["PGDATABASE"] = Name,
        };
        if (connection.Password is { } password)
        {
            environment["PGPASSWORD"] = password;
        }

        (await Shell.RunAsync("psql", ["-q", "-v", "ON_ERROR_STOP=1", "-f", dumpPath], environment: environment)).EnsureSuccess($"psql -f {dumpPath}");
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
