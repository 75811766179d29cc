using Microsoft.EntityFrameworkCore;

namespace Builder.Data;

/// <summary>The model on SQLite (the embedded default); its migrations are in <c>Migrations/Sqlite</c>.</summary>
public sealed class SqliteBuilderDbContext(DbContextOptions<SqliteBuilderDbContext> options) : BuilderDbContext(options);

/// <summary>The model on PostgreSQL (production); its migrations are in <c>Migrations/Postgres</c>.</summary>
public sealed class PostgresBuilderDbContext(DbContextOptions<PostgresBuilderDbContext> options) : BuilderDbContext(options);
