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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_database_from_before_the_lifecycle_gets_its_columns_with_defaults_and_builds_can_be_built_again(bool postgres)
    {
        await using var database = postgres ? await PostgresDatabase.CreateAsync() : null;
        using (var first = new BuilderWebFactory(_dataDir, database?.ConnectionString))
        {
            first.CreateClient().Dispose();
        }

        // The schema before leases, events and generations: one build per (repository, tag, commit), and one such build.
        await ExecuteAsync(database, """
            DROP TABLE builder_build_events;
            DROP TABLE builder_build_event_cursors;
            DROP INDEX "IX_builder_builds_RepositoryId_Tag_CommitSha_Generation";
            DROP INDEX "IX_builder_build_parts_BuildId_State";
            ALTER TABLE builder_builds DROP COLUMN "Generation";
            ALTER TABLE builder_builds DROP COLUMN "RetryOf";
            ALTER TABLE builder_builds DROP COLUMN "LeaseOwner";
            ALTER TABLE builder_builds DROP COLUMN "HeartbeatAt";
            ALTER TABLE builder_builds DROP COLUMN "PublishAttempts";
            ALTER TABLE builder_build_parts DROP COLUMN "Digests";
            ALTER TABLE builder_build_parts DROP COLUMN "LeaseOwner";
            ALTER TABLE builder_build_parts DROP COLUMN "HeartbeatAt";
            CREATE UNIQUE INDEX "IX_builder_builds_RepositoryId_Tag_CommitSha" ON builder_builds ("RepositoryId", "Tag", "CommitSha");
            INSERT INTO builder_repositories ("Provider", "Name", "CloneUrl", "WebhookSecret", "CreatedAt")
            VALUES ('github', 'acme/old', 'file:///old.git', '', '2026-11-01T00:00:00+00:00');
            INSERT INTO builder_builds ("RepositoryId", "Tag", "CommitSha", "State", "CreatedAt", "Attempts")
            VALUES ((SELECT "Id" FROM builder_repositories WHERE "Name" = 'acme/old'), 'v1.0.0', 'abc', 'Failed', '2026-11-01T00:00:00+00:00', 1);
            INSERT INTO builder_build_parts ("BuildId", "Architecture", "Identifiers", "IncludeSdist", "State", "Attempts", "Files")
            VALUES ((SELECT "Id" FROM builder_builds WHERE "Tag" = 'v1.0.0'), 'x86_64', 'cp311-manylinux_x86_64', TRUE, 'Failed', 1, '');
            """);

        using (var second = new BuilderWebFactory(_dataDir, database?.ConnectionString))
        {
            using var http = second.CreateAdminClient();
            var id = await ScalarAsync(database, "SELECT \"Id\" FROM builder_builds WHERE \"Tag\" = 'v1.0.0'");
            using var again = await http.PostAsync($"/api/builds/{id}/retry", null);
            Assert.Equal(System.Net.HttpStatusCode.Created, again.StatusCode);
        }

        Assert.Equal(2, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_builds WHERE \"Tag\" = 'v1.0.0' AND \"CommitSha\" = 'abc'"));
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_builds WHERE \"Generation\" = 0 AND \"PublishAttempts\" = 0 AND \"LeaseOwner\" IS NULL"));
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_builds WHERE \"Generation\" = 1 AND \"RetryOf\" IS NOT NULL"));
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_build_parts WHERE \"Digests\" = ''"));
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_build_events WHERE \"Kind\" = 'queued'"));
        Assert.Equal(0, await ScalarAsync(database, postgres
            ? "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'IX_builder_builds_RepositoryId_Tag_CommitSha'"
            : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'IX_builder_builds_RepositoryId_Tag_CommitSha'"));
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
