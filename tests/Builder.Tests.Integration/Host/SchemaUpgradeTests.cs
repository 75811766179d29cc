using Builder.Tests.Integration.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Builder.Tests.Integration.Host;

/// <summary>
/// A database made by an older Builder: at start, the tables added since are created and the nullable columns added
/// since are added, and the rows already there stay.
/// </summary>
public sealed class SchemaUpgradeTests : IDisposable
{
    private readonly string _dataDir = TestPaths.NewTempDirectory("upgrade");

    public void Dispose() => TestPaths.DeleteDirectory(_dataDir);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_older_database_gets_the_new_table_and_column_and_keeps_its_rows(bool postgres)
    {
        await using var database = postgres ? await PostgresDatabase.CreateAsync() : null;
        using (var first = new BuilderWebFactory(_dataDir, database?.ConnectionString))
        {
            first.CreateClient().Dispose();
        }

        // What the previous release's schema looked like: no parts table, no PartId column; one repository row.
        await ExecuteAsync(database, """
            DROP TABLE builder_build_parts;
            ALTER TABLE builder_build_targets DROP COLUMN "PartId";
            INSERT INTO builder_repositories ("Provider", "Name", "CloneUrl", "WebhookSecret", "CreatedAt")
            VALUES ('github', 'acme/old', 'file:///old.git', 'old-secret-0123456789', '2026-11-01T00:00:00+00:00');
            """);

        using (var second = new BuilderWebFactory(_dataDir, database?.ConnectionString))
        {
            second.CreateClient().Dispose();
        }

        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_repositories WHERE \"Name\" = 'acme/old'"));
        Assert.Equal(0, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_build_parts"));
        Assert.Equal(0, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_build_targets WHERE \"PartId\" IS NOT NULL"));
    }

    private string SqlitePath => Path.Combine(_dataDir, "builder.db");

    private async Task ExecuteAsync(PostgresDatabase? database, string sql)
    {
        if (database is not null)
        {
            await using var connection = new NpgsqlConnection(database.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
            return;
        }

        await using var sqlite = new SqliteConnection($"Data Source={SqlitePath};Pooling=False");
        await sqlite.OpenAsync();
        await using var sqliteCommand = sqlite.CreateCommand();
        sqliteCommand.CommandText = sql;
        await sqliteCommand.ExecuteNonQueryAsync();
    }

    private async Task<long> ScalarAsync(PostgresDatabase? database, string sql)
    {
        if (database is not null)
        {
            return await database.ScalarAsync(sql);
        }

        await using var sqlite = new SqliteConnection($"Data Source={SqlitePath};Pooling=False");
        await sqlite.OpenAsync();
        await using var command = sqlite.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
