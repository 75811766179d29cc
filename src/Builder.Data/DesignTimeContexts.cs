using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Builder.Data;

// How `dotnet ef migrations add` makes each provider's context (see README, "Schema upgrades"). Adding a migration
// compares the model with the last migration's snapshot and never connects: the connection strings are placeholders.

internal sealed class SqliteDesignTimeContextFactory : IDesignTimeDbContextFactory<SqliteBuilderDbContext>
{
    public SqliteBuilderDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteBuilderDbContext>().UseSqlite("Data Source=builder.db").Options);
}

internal sealed class PostgresDesignTimeContextFactory : IDesignTimeDbContextFactory<PostgresBuilderDbContext>
{
    public PostgresBuilderDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresBuilderDbContext>().UseNpgsql("Host=localhost;Database=builder").Options);
}
