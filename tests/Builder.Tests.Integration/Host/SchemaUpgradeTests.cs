using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Builder.Tests.Integration.Host;

/// <summary>
/// Schema changes through EF Core migrations: a database of the last release without migrations (a dump made with it,
/// Fixtures/Schema) is baselined at start and keeps its rows; databases of older releases get what they lack first;
/// processes starting together on a new database migrate it once.
/// </summary>
public sealed partial class SchemaUpgradeTests : IDisposable
{
    private readonly string _dataDir = TestPaths.NewTempDirectory("upgrade");
    private readonly string _freshDir = TestPaths.NewTempDirectory("upgrade-fresh");

    public void Dispose()
    {
        TestPaths.DeleteDirectory(_dataDir);
        TestPaths.DeleteDirectory(_freshDir);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_database_of_the_last_release_without_migrations_is_baselined_and_keeps_its_rows(bool postgres)
    {
        await using var database = postgres ? await PostgresDatabase.CreateAsync() : null;
        await LegacyDatabase.RestoreAsync(_dataDir, database);

        await using (var web = await BuilderProcess.StartWebAsync(Settings(database)))
        {
            var admin = BuilderInstance.Client(web);
            Assert.Contains($"\"name\":\"{LegacyDatabase.Repository}\"", await admin.GetAsAdminAsync("/api/repositories"), StringComparison.Ordinal);

            // The repository's webhook secret, encrypted by the old release, still verifies a delivery.
            using var ping = await admin.SendWebhookAsync(
                BuilderClient.PushPayload(LegacyDatabase.Repository, "refs/heads/main", new string('0', 40), new string('a', 40)),
                LegacyDatabase.WebhookSecret, gitHubEvent: "ping");
            Assert.True(ping.StatusCode == HttpStatusCode.OK, $"{(int)ping.StatusCode} {await ping.Content.ReadAsStringAsync()}\n{web.Output}");

            // The old release's read token still reads the index, and the file uploaded then is served as it was.
            using var reader = new HttpClient { BaseAddress = new Uri(web.BaseUrl!) };
            reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("__token__:" + LegacyDatabase.ReadToken(postgres))));
            using var page = await reader.GetAsync($"/simple/{LegacyDatabase.Project}/");
            var html = await page.Content.ReadAsStringAsync();
            Assert.True(page.StatusCode == HttpStatusCode.OK, $"{(int)page.StatusCode} {html}");
            var href = FileLink().Match(html);
            Assert.True(href.Success, html);
            Assert.Contains(LegacyDatabase.Filename, href.Groups[1].Value, StringComparison.Ordinal);
            Assert.Equal(LegacyDatabase.FileBytes, await reader.GetByteArrayAsync(new Uri(page.RequestMessage!.RequestUri!, href.Groups[1].Value)));

            Assert.Contains("Database made before migrations: brought to and recorded as migration", web.Output, StringComparison.Ordinal);
        }

        // Initial is recorded (nothing applied it twice: its tables were there), nothing is pending, and the schema is
        // exactly the one a new database gets.
        await using (var db = LegacyDatabase.Context(_dataDir, database))
        {
            var applied = (await db.Database.GetAppliedMigrationsAsync()).ToList();
            Assert.Single(applied, m => m.EndsWith("_Initial", StringComparison.Ordinal));
            Assert.Equal(db.Database.GetMigrations(), applied);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.Equal(1, await db.Database.SqlQueryRaw<long>($"SELECT COUNT(*) AS \"Value\" FROM builder_repositories").SingleAsync());
            Assert.Equal(1, await db.Database.SqlQueryRaw<long>($"SELECT COUNT(*) AS \"Value\" FROM builder_tokens").SingleAsync());
            Assert.Equal(1, await db.Database.SqlQueryRaw<long>($"SELECT COUNT(*) AS \"Value\" FROM builder_files").SingleAsync());
        }

        await AssertSchemaOfNewDatabaseAsync(database);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_older_database_gets_the_new_table_and_column_and_keeps_its_rows(bool postgres)
    {
        await using var database = postgres ? await PostgresDatabase.CreateAsync() : null;
        await LegacyDatabase.RestoreAsync(_dataDir, database);
        // What an older release's schema looked like: no parts table, no PartId column; one more repository row.
        await ExecuteAsync(database, """
            DROP TABLE builder_build_parts;
            ALTER TABLE builder_build_targets DROP COLUMN "PartId";
            INSERT INTO builder_repositories ("Provider", "Name", "CloneUrl", "WebhookSecret", "CreatedAt")
            VALUES ('github', 'acme/old', 'file:///old.git', 'old-secret-0123456789', '2026-11-01T00:00:00+00:00');
            """);

        using (var web = new BuilderWebFactory(_dataDir, database?.ConnectionString))
        {
            web.CreateClient().Dispose();
        }

        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_repositories WHERE \"Name\" = 'acme/old'"));
        Assert.Equal(0, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_build_parts"));
        Assert.Equal(0, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_build_targets WHERE \"PartId\" IS NOT NULL"));
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM \"__EFMigrationsHistory\" WHERE \"MigrationId\" LIKE '%Initial'"));
        await AssertSchemaOfNewDatabaseAsync(database);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_database_from_before_the_lifecycle_gets_its_columns_with_defaults_and_builds_can_be_built_again(bool postgres)
    {
        await using var database = postgres ? await PostgresDatabase.CreateAsync() : null;
        await LegacyDatabase.RestoreAsync(_dataDir, database);
        // The schema before leases, events, generations and instances: one build per (repository, tag, commit),
        // repositories unique by name, and one build of a repository registered then.
        await ExecuteAsync(database, """
            DROP TABLE builder_build_events;
            DROP TABLE builder_build_event_cursors;
            DROP INDEX "IX_builder_builds_RepositoryId_Tag_CommitSha_Generation";
            DROP INDEX "IX_builder_build_parts_BuildId_State";
            DROP INDEX "IX_builder_repositories_Provider_Instance_Name";
            ALTER TABLE builder_builds DROP COLUMN "Generation";
            ALTER TABLE builder_builds DROP COLUMN "RetryOf";
            ALTER TABLE builder_builds DROP COLUMN "LeaseOwner";
            ALTER TABLE builder_builds DROP COLUMN "HeartbeatAt";
            ALTER TABLE builder_builds DROP COLUMN "PublishAttempts";
            ALTER TABLE builder_build_parts DROP COLUMN "Digests";
            ALTER TABLE builder_build_parts DROP COLUMN "LeaseOwner";
            ALTER TABLE builder_build_parts DROP COLUMN "HeartbeatAt";
            ALTER TABLE builder_repositories DROP COLUMN "Instance";
            CREATE UNIQUE INDEX "IX_builder_builds_RepositoryId_Tag_CommitSha" ON builder_builds ("RepositoryId", "Tag", "CommitSha");
            CREATE UNIQUE INDEX "IX_builder_repositories_Name" ON builder_repositories ("Name");
            INSERT INTO builder_repositories ("Provider", "Name", "CloneUrl", "WebhookSecret", "CreatedAt")
            VALUES ('gitlab', 'acme/old', 'https://gitlab.example:8443/acme/old.git', '', '2026-11-01T00:00:00+00:00');
            INSERT INTO builder_builds ("RepositoryId", "Tag", "CommitSha", "State", "CreatedAt", "Attempts")
            VALUES ((SELECT "Id" FROM builder_repositories WHERE "Name" = 'acme/old'), 'v1.0.0', 'abc', 'Failed', '2026-11-01T00:00:00+00:00', 1);
            INSERT INTO builder_build_parts ("BuildId", "Architecture", "Identifiers", "IncludeSdist", "State", "Attempts", "Files")
            VALUES ((SELECT "Id" FROM builder_builds WHERE "Tag" = 'v1.0.0'), 'x86_64', 'cp311-manylinux_x86_64', TRUE, 'Failed', 1, '');
            """);

        using (var web = new BuilderWebFactory(_dataDir, database?.ConnectionString))
        {
            using var http = web.CreateAdminClient();
            var id = await ScalarAsync(database, "SELECT \"Id\" FROM builder_builds WHERE \"Tag\" = 'v1.0.0'");
            using var again = await http.PostAsync($"/api/builds/{id}/retry", null);
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        }

        Assert.Equal(2, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_builds WHERE \"Tag\" = 'v1.0.0' AND \"CommitSha\" = 'abc'"));
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_builds WHERE \"Generation\" = 0 AND \"PublishAttempts\" = 0 AND \"LeaseOwner\" IS NULL"));
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_builds WHERE \"Generation\" = 1 AND \"RetryOf\" IS NOT NULL"));
        // The part's row is kept (its staged-file columns went with a later migration: staged files are rows of their own).
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_build_parts WHERE \"Identifiers\" = 'cp311-manylinux_x86_64'"));
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_build_events WHERE \"Kind\" = 'queued'"));
        // The repositories registered before instances existed got the instance their URLs name.
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_repositories WHERE \"Name\" = 'acme/old' AND \"Instance\" = 'gitlab.example:8443'"));
        Assert.Equal(1, await ScalarAsync(database, "SELECT COUNT(*) FROM builder_repositories WHERE \"Name\" = 'acme/fixture' AND \"Instance\" = 'github.com'"));
        // The replaced indexes are gone, the rest is exactly what a new database gets.
        await AssertSchemaOfNewDatabaseAsync(database);
    }

    [Fact]
    public async Task Processes_starting_together_on_a_new_database_all_start_and_migrate_it_once()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var settings = new Dictionary<string, string>(BuilderInstance.Production(_dataDir, database.ConnectionString))
        {
            // EF Core logs each migration it applies ("Applying migration '...'"): only the process that applied it does.
            ["Logging__LogLevel__Microsoft.EntityFrameworkCore.Migrations"] = "Information",
        };

        var starts = new[]
        {
            BuilderProcess.StartWebAsync(settings),
            BuilderProcess.StartWebAsync(settings),
            BuilderProcess.StartWorkerWithHealthAsync(settings),
        };
        try
        {
            // Each start throws with its process's output when the process exits or does not answer in time.
            var processes = await Task.WhenAll(starts);
            await using var db = LegacyDatabase.Context(_dataDir, database);
            var migrations = db.Database.GetMigrations().ToList();
            Assert.Equal(migrations, await db.Database.GetAppliedMigrationsAsync());
            foreach (var migration in migrations)
            {
                var applied = processes.Sum(p => Regex.Count(p.Output, $"Applying migration '{migration}'"));
                Assert.True(applied == 1, $"{migration} applied {applied} times:\n{string.Join("\n-----\n", processes.Select(p => p.Output))}");
            }

            Assert.All(processes, p => Assert.Contains($"Database schema at migration {migrations[^1]}", p.Output, StringComparison.Ordinal));
            Assert.Equal(2, await database.ScalarAsync("SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE 'builder\\_audit\\_%'"));
        }
        finally
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await (await start).DisposeAsync();
            }
        }
    }

    /// <summary>The database now has exactly the schema that migrating a new database gives (EF's own tables aside).</summary>
    private async Task AssertSchemaOfNewDatabaseAsync(PostgresDatabase? database)
    {
        await using var fresh = database is null ? null : await PostgresDatabase.CreateAsync();
        await using (var db = LegacyDatabase.Context(_freshDir, fresh))
        {
            await db.Database.MigrateAsync();
        }

        Assert.Equal(await LegacyDatabase.SchemaAsync(_freshDir, fresh), await LegacyDatabase.SchemaAsync(_dataDir, database));
    }

    // The PEP 503 page's link to the file (relative to the page), before its #sha256= fragment.
    [GeneratedRegex("href=\"([^\"#]+)#sha256=")]
    private static partial Regex FileLink();

    private Dictionary<string, string> Settings(PostgresDatabase? database) =>
        database is null ? BuilderInstance.Embedded(_dataDir) : BuilderInstance.Production(_dataDir, database.ConnectionString);

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
