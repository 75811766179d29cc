using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Builder.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ProjectQuotas : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "MetadataSize",
                table: "builder_staged_files",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "MetadataSize",
                table: "builder_files",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "builder_project_settings",
                columns: table => new
                {
                    Project = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    QuotaBytes = table.Column<long>(type: "INTEGER", nullable: true),
                    UpdatedBy = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_project_settings", x => x.Project);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "builder_project_settings");

            migrationBuilder.DropColumn(
                name: "MetadataSize",
                table: "builder_staged_files");

            migrationBuilder.DropColumn(
                name: "MetadataSize",
                table: "builder_files");
        }
    }
}
