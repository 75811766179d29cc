using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Builder.Data;

/// <summary>
/// Brings the database to the model at start, in every process (web, worker, the commands): the provider's EF Core
/// migrations (<c>Migrations/Sqlite</c>, <c>Migrations/Postgres</c>), applied by <c>MigrateAsync</c>. Processes that start
/// together apply each migration once. On PostgreSQL each takes a session-level advisory lock (<see cref="SchemaLockKey"/>)
/// for the whole step (baseline, history table, every pending migration), so the next reads a history the first finished:
/// EF Core's own lock there (<c>LOCK TABLE "__EFMigrationsHistory"</c>) lives in each migration's transaction and is let go
/// between two migrations, after the list of pending ones was read, so two processes could both apply the second (seen:
/// "relation already exists" on a new database). SQLite: EF Core's row in <c>__EFMigrationsLock</c>, held for the whole
/// <c>MigrateAsync</c>. A database made before Builder used migrations is first baselined (<see cref="LegacySchemaBaseline"/>).
/// </summary>
internal sealed partial class DatabaseMigrator(IServiceScopeFactory scopes, ILogger<DatabaseMigrator> logger) : IHostedService
{
    /// <summary>The PostgreSQL advisory lock that one process at a time holds while it brings the schema to the model.</summary>
    private const long SchemaLockKey = 0x4255494c44; // "BUILD"

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        if (db.Database.IsSqlite())
        {
            // WAL lets the index read while a build job writes; the mode is kept in the file (this makes it, when new).
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }

        if (!await db.GetService<IRelationalDatabaseCreator>().ExistsAsync(cancellationToken))
        {
            await db.Database.MigrateAsync(cancellationToken); // a new PostgreSQL database: MigrateAsync creates it
        }
        else
        {
            var postgres = db.Database.IsNpgsql();
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                if (postgres)
                {
                    await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({SchemaLockKey})", cancellationToken);
                }

                await MigrateExistingAsync(db, postgres, cancellationToken);
            }
            finally
            {
                if (postgres)
                {
                    await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({SchemaLockKey})", CancellationToken.None);
                }

                await db.Database.CloseConnectionAsync();
            }
        }

        var migration = db.Database.GetMigrations().Last();
        LogMigrated(logger, migration);
    }

    private async Task MigrateExistingAsync(BuilderDbContext db, bool postgres, CancellationToken cancellationToken)
    {
        if (await LegacySchemaBaseline.ApplyIfNeededAsync(db, cancellationToken) is { } baseline)
        {
            LogBaselined(logger, baseline);
        }

        if (postgres)
        {
            // Npgsql's migrator reads the history before it makes the table, and on a new database EF logs that failed
            // read as an error (then ignores it); making the table first spares operators it.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
        }

        // Up to date (every start but the first after an upgrade): nothing to apply. MigrateAsync would still build the
        // last migration's model and compare it with the code's (about 0.7 s of CPU per process start); the unit tests
        // make that comparison (MigrationsTests).
        if (!(await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any())
        {
            return;
        }

        // EF Core logs each migration it applies (category Microsoft.EntityFrameworkCore.Migrations): only the process
        // that applied it does.
        await db.Database.MigrateAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Database made before migrations: brought to and recorded as migration {Migration}")]
    private static partial void LogBaselined(ILogger logger, string migration);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema at migration {Migration}")]
    private static partial void LogMigrated(ILogger logger, string migration);
}
