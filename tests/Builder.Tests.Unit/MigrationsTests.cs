using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;

namespace Builder.Tests.Unit;

/// <summary>
/// Each provider's migrations describe the model: a model change without a migration for both providers fails here
/// (add them with the commands in README, "Schema upgrades"). No database is needed: the model is compared with the
/// last migration's snapshot.
/// </summary>
public sealed class MigrationsTests
{
    public static TheoryData<string> Providers => new() { "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Providers))]
    public void The_model_has_no_changes_the_last_migration_lacks(string provider)
    {
        using var db = Context(provider);
        Assert.NotEmpty(db.Database.GetMigrations());
        Assert.False(db.Database.HasPendingModelChanges(), $"the model changed since the last {provider} migration: add a migration (README, \"Schema upgrades\")");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void The_first_migration_is_Initial_which_the_legacy_baseline_records(string provider)
    {
        using var db = Context(provider);
        var first = db.Database.GetMigrations().First();
        Assert.EndsWith("_" + LegacySchemaBaseline.InitialMigration, first, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Every_append_only_table_gets_its_triggers_in_a_migration(string provider)
    {
        using var db = Context(provider);
        var migrations = db.GetService<IMigrationsAssembly>();
        var sql = migrations.Migrations.Values
            .SelectMany(type => migrations.CreateMigration(type, db.Database.ProviderName!).UpOperations.OfType<SqlOperation>())
            .Select(o => o.Sql)
            .ToHashSet(StringComparer.Ordinal);
        Assert.All(BuilderDbContext.AppendOnlyTables, table =>
            Assert.All(AppendOnlyTriggers.Statements(table, provider == "postgres"), statement => Assert.Contains(statement, sql)));
    }

    private static BuilderDbContext Context(string provider) => provider == "postgres"
        ? new PostgresBuilderDbContext(new DbContextOptionsBuilder<PostgresBuilderDbContext>().UseNpgsql("Host=localhost;Database=unused").Options)
        : new SqliteBuilderDbContext(new DbContextOptionsBuilder<SqliteBuilderDbContext>().UseSqlite("Data Source=unused.db").Options);
}
