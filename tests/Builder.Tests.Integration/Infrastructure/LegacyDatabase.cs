using Builder.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// The databases the last release without migrations made, with rows (Fixtures/Schema, see its README): restored into
/// a test's own SQLite data directory or PostgreSQL database, with the files and key ring that go with them.
/// </summary>
internal static class LegacyDatabase
{
    public const string Repository = "acme/fixture";

    public const string WebhookSecret = "fixture-webhook-secret-0123456789";

    public const string Project = "acme-fixture";

    public const string Filename = "acme_fixture-1.0.0-py3-none-any.whl";

    private static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Schema");

    /// <summary>The uploaded wheel's bytes, as the fixture stores them.</summary>
    public static byte[] FileBytes => File.ReadAllBytes(Path.Combine(Root, "files", Project, Filename));

    /// <summary>The secret of the read token the fixture's installation made.</summary>
    public static string ReadToken(bool postgres) => File.ReadAllText(Path.Combine(Root, postgres ? "postgres" : "sqlite", "token.txt")).Trim();

    /// <summary>The fixture into <paramref name="database"/>, or into <c>builder.db</c> of <paramref name="dataDir"/> when null.</summary>
    public static async Task RestoreAsync(string dataDir, PostgresDatabase? database)
    {
        CopyDirectory(Path.Combine(Root, "files"), Path.Combine(dataDir, "files"));
        if (database is not null)
        {
            await database.RestoreAsync(Path.Combine(Root, "postgres", "builder.sql"));
            return;
        }

        CopyDirectory(Path.Combine(Root, "sqlite", "keys"), Path.Combine(dataDir, "keys"));
        await using var sqlite = new SqliteConnection($"Data Source={Path.Combine(dataDir, "builder.db")};Pooling=False");
        await sqlite.OpenAsync();
        await using var command = sqlite.CreateCommand();
        command.CommandText = await File.ReadAllTextAsync(Path.Combine(Root, "sqlite", "builder.sql"));
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The provider's context on a database (no DI, no start-up work): for its migrations' state.</summary>
    public static BuilderDbContext Context(string dataDir, PostgresDatabase? database) => database is not null
        ? new PostgresBuilderDbContext(new DbContextOptionsBuilder<PostgresBuilderDbContext>().UseNpgsql(database.ConnectionString).Options)
        : new SqliteBuilderDbContext(new DbContextOptionsBuilder<SqliteBuilderDbContext>().UseSqlite($"Data Source={Path.Combine(dataDir, "builder.db")};Pooling=False").Options);

    /// <summary>
    /// Builder's schema as sorted lines (columns with type, nullability and default; indexes; constraints; triggers),
    /// without EF's own tables: two databases with the same lines have the same schema.
    /// </summary>
    public static async Task<List<string>> SchemaAsync(string dataDir, PostgresDatabase? database)
    {
        var lines = new List<string>();
        if (database is not null)
        {
            await using var connection = new NpgsqlConnection(database.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(PostgresSchema, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0));
            }
        }
        else
        {
            await using var sqlite = new SqliteConnection($"Data Source={Path.Combine(dataDir, "builder.db")};Pooling=False");
            await sqlite.OpenAsync();
            await using var command = sqlite.CreateCommand();
            command.CommandText = SqliteSchema;
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0));
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private const string PostgresSchema = """
        SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '')
            || ' nullable=' || is_nullable || ' default=' || coalesce(column_default, '') || ' identity=' || is_identity
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '\_\_EF%'
        UNION ALL
        SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE '\_\_EF%'
        UNION ALL
        SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE '%\_\_EF%'
        UNION ALL
        SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'function ' || p.proname || ' ' || md5(pg_get_functiondef(p.oid)) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
        """;

    private const string SqliteSchema = """
        SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type || ' notnull=' || p."notnull" || ' default=' || ifnull(p.dflt_value, '') || ' pk=' || p.pk
        FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND m.name NOT LIKE '\_\_EF%' ESCAPE '\'
        UNION ALL
        SELECT 'foreign key ' || m.name || '.' || f."from" || ' -> ' || f."table" || '.' || f."to" || ' on delete ' || f.on_delete
        FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'
        UNION ALL
        SELECT m.type || ' ' || m.name || ' ' || ifnull(m.sql, '') FROM sqlite_master m
        WHERE m.type IN ('index', 'trigger') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND m.tbl_name NOT LIKE '\_\_EF%' ESCAPE '\'
        """;

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
