using System.Text.RegularExpressions;
using Builder.Core.Forges;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Builder.Data;

/// <summary>
/// Creates Builder's tables at start when they are missing, and adds the nullable columns a newer Builder added to
/// existing tables (an upgrade keeps its data). The web and worker processes may start together against one
/// PostgreSQL database, so this runs under an advisory lock there.
/// </summary>
internal sealed partial class DatabaseInitializer(IServiceScopeFactory scopes) : IHostedService
{
    private const long PostgresLockKey = 0x4255494c44; // "BUILD"

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (!await creator.ExistsAsync(cancellationToken))
        {
            await creator.CreateAsync(cancellationToken);
        }

        var postgres = db.Database.IsNpgsql();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (postgres)
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({PostgresLockKey})", cancellationToken);
            }
            else
            {
                // WAL lets the index read while a build job writes.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }

            // Every CREATE of the model's script made idempotent: a new database gets all tables, and a database made
            // by an older Builder gets the tables added since; then the columns added since, then the indexes (which may
            // name those columns), then the indexes a newer model replaced are dropped.
            var statements = IdempotentCreateStatements(db.Database.GenerateCreateScript()).ToList();
            foreach (var statement in statements.Where(s => !IsIndex(s)))
            {
                await db.Database.ExecuteSqlRawAsync(statement, cancellationToken);
            }

            await AddMissingColumnsAsync(db, postgres, cancellationToken);
            foreach (var statement in statements.Where(IsIndex))
            {
                await db.Database.ExecuteSqlRawAsync(statement, cancellationToken);
            }

            await FillRepositoryInstancesAsync(db, cancellationToken);
            foreach (var index in ReplacedIndexes)
            {
#pragma warning disable EF1002 // the names are constants of this class, not input
                await db.Database.ExecuteSqlRawAsync($"DROP INDEX IF EXISTS \"{index}\"", cancellationToken);
#pragma warning restore EF1002
            }
            foreach (var table in BuilderDbContext.AppendOnlyTables)
            {
                foreach (var statement in AppendOnlyStatements(table, postgres))
                {
                    await db.Database.ExecuteSqlRawAsync(statement, cancellationToken);
                }
            }
        }
        finally
        {
            if (postgres)
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({PostgresLockKey})", CancellationToken.None);
            }

            await db.Database.CloseConnectionAsync();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Indexes an older Builder made that the model no longer has: one build per (repository, tag, commit) became one
    /// per generation ("build again" builds the same tag and commit); repositories unique by name became unique per
    /// (provider, instance, name).
    /// </summary>
    private static readonly string[] ReplacedIndexes = ["IX_builder_builds_RepositoryId_Tag_CommitSha", "IX_builder_repositories_Name"];

    /// <summary>Repositories registered before the instance column existed get the instance their URLs name.</summary>
    private static async Task FillRepositoryInstancesAsync(BuilderDbContext db, CancellationToken cancellationToken)
    {
        var unfilled = await db.Repositories.Where(r => r.Instance == string.Empty).ToListAsync(cancellationToken);
        foreach (var repository in unfilled)
        {
            repository.Instance = ForgeAddress.Instance(repository.Provider, repository.CloneUrl, repository.ApiUrl);
        }

        if (unfilled.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private static bool IsIndex(string statement) =>
        statement.StartsWith("CREATE INDEX ", StringComparison.Ordinal) || statement.StartsWith("CREATE UNIQUE INDEX ", StringComparison.Ordinal);

    /// <summary>
    /// Columns of the model that an existing table lacks (it was made by an older Builder) are added when nullable;
    /// a missing required column stops the start with a message naming it.
    /// </summary>
    private static async Task AddMissingColumnsAsync(BuilderDbContext db, bool postgres, CancellationToken cancellationToken)
    {
        foreach (var entity in db.Model.GetEntityTypes())
        {
            if (entity.GetTableName() is not { } table)
            {
                continue;
            }

            var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
            var existing = (postgres
                    ? await db.Database.SqlQueryRaw<string>("SELECT column_name AS \"Value\" FROM information_schema.columns WHERE table_name = {0} AND table_schema = current_schema()", table).ToListAsync(cancellationToken)
                    : await db.Database.SqlQueryRaw<string>("SELECT name AS \"Value\" FROM pragma_table_info({0})", table).ToListAsync(cancellationToken))
                .ToHashSet(StringComparer.Ordinal);
            foreach (var property in entity.GetProperties())
            {
                if (property.GetColumnName(store) is not { } column || existing.Contains(column))
                {
                    continue;
                }

                // A required column is added with its model default (existing rows take it); without one it cannot be.
                var defaultValue = property.GetDefaultValue(store);
                if (!property.IsNullable && defaultValue is null)
                {
                    throw new InvalidOperationException(
                        $"table {table} lacks the required column {column} (made by an older Builder); this upgrade cannot add it: recreate the database");
                }

                var statement = $"ALTER TABLE \"{table}\" ADD COLUMN \"{column}\" {property.GetColumnType(store)}"
                    + (property.IsNullable ? string.Empty : $" NOT NULL DEFAULT {SqlLiteral(defaultValue!)}");
                await db.Database.ExecuteSqlRawAsync(statement, cancellationToken);
            }
        }
    }

    private static string SqlLiteral(object value) => value switch
    {
        string text => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'",
        bool flag => flag ? "TRUE" : "FALSE",
        IFormattable number => number.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"no SQL literal for a default of type {value.GetType().Name}"),
    };

    /// <summary>
    /// Triggers that make the database itself refuse UPDATE and DELETE on a table (the audit log): no route writes them,
    /// and a bug or a stolen application connection cannot rewrite history either. Idempotent.
    /// </summary>
    internal static IEnumerable<string> AppendOnlyStatements(string table, bool postgres)
    {
        if (postgres)
        {
            yield return $"""
                CREATE OR REPLACE FUNCTION "{table}_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '{table} is append-only: % is not allowed', TG_OP; END $$
                """;
            yield return $"""CREATE OR REPLACE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" FOR EACH ROW EXECUTE FUNCTION "{table}_append_only"()""";
            yield return $"""CREATE OR REPLACE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION "{table}_append_only"()""";
        }
        else
        {
            yield return $"""CREATE TRIGGER IF NOT EXISTS "{table}_no_update" BEFORE UPDATE ON "{table}" BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE is not allowed'); END""";
            yield return $"""CREATE TRIGGER IF NOT EXISTS "{table}_no_delete" BEFORE DELETE ON "{table}" BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE is not allowed'); END""";
        }
    }

    /// <summary>EF's create script as statements, each CREATE TABLE/INDEX with IF NOT EXISTS (PostgreSQL and SQLite both have it).</summary>
    internal static IEnumerable<string> IdempotentCreateStatements(string script) =>
        script.Split(";" + Environment.NewLine, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(s => s.Length > 0)
            .Select(s => CreateStatement().Replace(s, "CREATE $1$2 IF NOT EXISTS ", 1));

    [GeneratedRegex(@"^CREATE (UNIQUE )?(TABLE|INDEX) ", RegexOptions.CultureInvariant)]
    private static partial Regex CreateStatement();
}
