using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Builder.Data;

/// <summary>
/// Triggers that make the database itself refuse UPDATE and DELETE on a table (the audit log): no route writes them,
/// and a bug or a stolen application connection cannot rewrite history either. The migration that creates a table of
/// <see cref="BuilderDbContext.AppendOnlyTables"/> adds them. The statements are idempotent (the legacy baseline runs
/// them on databases that may have them already).
/// </summary>
internal static class AppendOnlyTriggers
{
    /// <summary>Adds the triggers of <paramref name="table"/> to a migration of either provider.</summary>
    public static void Create(MigrationBuilder migrationBuilder, string table)
    {
        foreach (var statement in Statements(table, migrationBuilder.IsNpgsql()))
        {
            migrationBuilder.Sql(statement);
        }
    }

    /// <summary>Each statement ends with a semicolon, so that <c>dotnet ef migrations script</c> writes a script that runs.</summary>
    internal static IEnumerable<string> Statements(string table, bool postgres)
    {
        if (postgres)
        {
            yield return $"""
                CREATE OR REPLACE FUNCTION "{table}_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '{table} is append-only: % is not allowed', TG_OP; END $$;
                """;
            yield return $"""CREATE OR REPLACE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" FOR EACH ROW EXECUTE FUNCTION "{table}_append_only"();""";
            yield return $"""CREATE OR REPLACE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION "{table}_append_only"();""";
        }
        else
        {
            yield return $"""CREATE TRIGGER IF NOT EXISTS "{table}_no_update" BEFORE UPDATE ON "{table}" BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE is not allowed'); END;""";
            yield return $"""CREATE TRIGGER IF NOT EXISTS "{table}_no_delete" BEFORE DELETE ON "{table}" BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE is not allowed'); END;""";
        }
    }
}
