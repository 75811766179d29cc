using System.Text.RegularExpressions;
using Builder.Core.Forges;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;

namespace Builder.Data;

/// <summary>
/// Databases made before Builder used migrations (its tables there, no <c>__EFMigrationsHistory</c>): the releases
/// until then created the tables from EF's create script and added the columns each release introduced. Such a
/// database is brought to the schema of the <see cref="InitialMigration"/> migration with those same additive steps
/// (a database from an older release may lack tables, columns and indexes added since), and Initial is recorded as
/// applied; migrations after it then apply as on any database. One transaction, which processes starting together
/// take in turn (see <see cref="ApplyIfNeededAsync"/>). Nothing but <see cref="DatabaseMigrator"/> uses this code.
/// </summary>
internal static partial class LegacySchemaBaseline
{
    /// <summary>The first migration of each provider: the schema of the last release without migrations.</summary>
    public const string InitialMigration = "Initial";

    /// <summary>A table every release had: its presence tells a legacy database from a new one.</summary>
    private const string LegacyMarkerTable = "builder_repositories";

    /// <summary>
    /// Indexes an older Builder made that Initial no longer has: one build per (repository, tag, commit) became one
    /// per generation ("build again" builds the same tag and commit); repositories unique by name became unique per
    /// (provider, instance, name).
    /// </summary>
    private static readonly string[] ReplacedIndexes = ["IX_builder_builds_RepositoryId_Tag_CommitSha", "IX_builder_repositories_Name"];

    /// <summary>
    /// Baselines a legacy database (which exists); returns the migration it recorded, or null when the database is not
    /// one. On PostgreSQL the caller holds the schema lock (<see cref="DatabaseMigrator"/>).
    /// </summary>
    public static async Task<string?> ApplyIfNeededAsync(BuilderDbContext db, CancellationToken cancellationToken)
    {
        var postgres = db.Database.IsNpgsql();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            // The check and the baseline in one transaction, so processes starting together baseline once (a process
            // that baselined first left a history, which the next finds): on PostgreSQL they wait for the migrator's
            // advisory lock, on SQLite for the transaction's write lock (BEGIN IMMEDIATE). A baseline cut short leaves nothing.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (!await IsLegacyAsync(db, postgres, cancellationToken))
            {
                return null;
            }

            var id = await BaselineAsync(db, postgres, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return id;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Builder's tables are there and no migration is recorded (migrating a new database records Initial in the transaction that makes its tables).</summary>
    private static async Task<bool> IsLegacyAsync(BuilderDbContext db, bool postgres, CancellationToken cancellationToken) =>
        await TableExistsAsync(db, postgres, LegacyMarkerTable, cancellationToken)
        && (!await TableExistsAsync(db, postgres, HistoryRepository.DefaultTableName, cancellationToken)
            || await db.Database.SqlQueryRaw<long>($"SELECT COUNT(*) AS \"Value\" FROM \"{HistoryRepository.DefaultTableName}\"").SingleAsync(cancellationToken) == 0);

    private static async Task<bool> TableExistsAsync(BuilderDbContext db, bool postgres, string table, CancellationToken cancellationToken) =>
        await (postgres
            ? db.Database.SqlQueryRaw<long>("SELECT COUNT(*) AS \"Value\" FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = {0}", table)
            : db.Database.SqlQueryRaw<long>("SELECT COUNT(*) AS \"Value\" FROM sqlite_master WHERE type = 'table' AND name = {0}", table))
        .SingleAsync(cancellationToken) > 0;

    private static async Task<string> BaselineAsync(BuilderDbContext db, bool postgres, CancellationToken cancellationToken)
    {
        var migrations = db.GetService<IMigrationsAssembly>();
        var id = migrations.FindMigrationId(InitialMigration)
            ?? throw new InvalidOperationException($"{db.GetType().Name} has no migration named {InitialMigration}");
        var initial = migrations.CreateMigration(migrations.Migrations[id], db.Database.ProviderName!);
        // Initial's own model, not the current one: the migrations after Initial change the schema from there.
        var model = db.GetService<IModelRuntimeInitializer>().Initialize(initial.TargetModel);
        var generator = db.GetService<IMigrationsSqlGenerator>();
        IEnumerable<string> Statements(MigrationOperation operation) => generator.Generate([operation], model).Select(c => c.CommandText.Trim());

        // Initial's tables made idempotent (a database from an older release gets the tables added since); then the
        // columns added since; then the indexes (which may name those columns); then the rest (the append-only triggers,
        // idempotent themselves).
        foreach (var statement in initial.UpOperations.OfType<CreateTableOperation>().SelectMany(Statements))
        {
            await db.Database.ExecuteSqlRawAsync(IfNotExists(statement), cancellationToken);
        }

        await AddMissingColumnsAsync(db, model, postgres, cancellationToken);
        foreach (var statement in initial.UpOperations.OfType<CreateIndexOperation>().SelectMany(Statements))
        {
            await db.Database.ExecuteSqlRawAsync(IfNotExists(statement), cancellationToken);
        }

        foreach (var statement in initial.UpOperations.Where(o => o is not CreateTableOperation and not CreateIndexOperation).SelectMany(Statements))
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

        var history = db.GetService<IHistoryRepository>();
        await db.Database.ExecuteSqlRawAsync(history.GetCreateIfNotExistsScript(), cancellationToken);
        await db.Database.ExecuteSqlRawAsync(history.GetInsertScript(new HistoryRow(id, ProductInfo.GetVersion())), cancellationToken);
        return id;
    }

    /// <summary>
    /// Columns of Initial that an existing table lacks (it was made by an older Builder) are added when nullable, or
    /// required with a default (existing rows take it); a required column without one stops the start with a message
    /// naming it.
    /// </summary>
    private static async Task AddMissingColumnsAsync(BuilderDbContext db, IModel model, bool postgres, CancellationToken cancellationToken)
    {
        foreach (var table in model.GetRelationalModel().Tables)
        {
            var existing = (postgres
                    ? await db.Database.SqlQueryRaw<string>("SELECT column_name AS \"Value\" FROM information_schema.columns WHERE table_name = {0} AND table_schema = current_schema()", table.Name).ToListAsync(cancellationToken)
                    : await db.Database.SqlQueryRaw<string>("SELECT name AS \"Value\" FROM pragma_table_info({0})", table.Name).ToListAsync(cancellationToken))
                .ToHashSet(StringComparer.Ordinal);
            foreach (var column in table.Columns.Where(c => !existing.Contains(c.Name)))
            {
                if (!column.IsNullable && column.DefaultValue is null)
                {
                    throw new InvalidOperationException(
                        $"table {table.Name} lacks the required column {column.Name} (made by an older Builder); this upgrade cannot add it: recreate the database");
                }

                var statement = $"ALTER TABLE \"{table.Name}\" ADD COLUMN \"{column.Name}\" {column.StoreType}"
                    + (column.IsNullable ? string.Empty : $" NOT NULL DEFAULT {SqlLiteral(column.DefaultValue!)}");
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

    /// <summary>Repositories registered before the instance column existed (it came with the default '') get the instance their URLs name.</summary>
    private static async Task FillRepositoryInstancesAsync(BuilderDbContext db, CancellationToken cancellationToken)
    {
        var unfilled = await db.Database
            .SqlQueryRaw<UnfilledRepository>("SELECT \"Id\", \"Provider\", \"CloneUrl\", \"ApiUrl\" FROM builder_repositories WHERE \"Instance\" = ''")
            .ToListAsync(cancellationToken);
        foreach (var repository in unfilled)
        {
            var instance = ForgeAddress.Instance(repository.Provider, repository.CloneUrl, repository.ApiUrl);
            await db.Database.ExecuteSqlAsync($"UPDATE builder_repositories SET \"Instance\" = {instance} WHERE \"Id\" = {repository.Id}", cancellationToken);
        }
    }

    private sealed record UnfilledRepository(long Id, string Provider, string CloneUrl, string? ApiUrl);

    /// <summary>A CREATE TABLE/INDEX statement with IF NOT EXISTS (PostgreSQL and SQLite both have it).</summary>
    internal static string IfNotExists(string statement) => CreateStatement().Replace(statement, "CREATE $1$2 IF NOT EXISTS ", 1);

    [GeneratedRegex(@"^CREATE (UNIQUE )?(TABLE|INDEX) ", RegexOptions.CultureInvariant)]
    private static partial Regex CreateStatement();
}
