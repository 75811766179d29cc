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
/// together apply each migration once: <c>MigrateAsync</c> holds EF Core's migration lock while it reads the history
/// and applies (PostgreSQL: <c>LOCK TABLE "__EFMigrationsHistory" IN ACCESS EXCLUSIVE MODE</c> in the migration's
/// transaction; SQLite: a row in <c>__EFMigrationsLock</c>), and the others then find nothing pending. A database made
/// before Builder used migrations is first baselined (<see cref="LegacySchemaBaseline"/>).
/// </summary>
internal sealed partial class DatabaseMigrator(IServiceScopeFactory scopes, ILogger<DatabaseMigrator> logger) : IHostedService
{
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

        if (await LegacySchemaBaseline.ApplyIfNeededAsync(db, cancellationToken) is { } baseline)
        {
            LogBaselined(logger, baseline);
        }

        if (db.Database.IsNpgsql() && await db.GetService<IRelationalDatabaseCreator>().ExistsAsync(cancellationToken))
        {
            // Npgsql's migrator reads the history before it makes the table, and on a new database EF logs that failed
            // read as an error (then ignores it); making the table first (safe when processes race) spares operators it.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
        }

        // EF Core logs each migration it applies (category Microsoft.EntityFrameworkCore.Migrations): only the process
        // that applied it does.
        await db.Database.MigrateAsync(cancellationToken);
        var migration = db.Database.GetMigrations().Last();
        LogMigrated(logger, migration);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Database made before migrations: brought to and recorded as migration {Migration}")]
    private static partial void LogBaselined(ILogger logger, string migration);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema at migration {Migration}")]
    private static partial void LogMigrated(ILogger logger, string migration);
}
