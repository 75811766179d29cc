using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Builder.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class StagedFiles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Digests",
                table: "builder_build_parts");

            migrationBuilder.DropColumn(
                name: "Files",
                table: "builder_build_parts");

            migrationBuilder.CreateTable(
                name: "builder_staged_files",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    BuildId = table.Column<long>(type: "INTEGER", nullable: false),
                    PartId = table.Column<long>(type: "INTEGER", nullable: false),
                    Filename = table.Column<string>(type: "TEXT", nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    Project = table.Column<string>(type: "TEXT", nullable: false),
                    Version = table.Column<string>(type: "TEXT", nullable: false),
                    RequiresPython = table.Column<string>(type: "TEXT", nullable: true),
                    MetadataSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_staged_files", x => x.Id);
                    table.ForeignKey(
                        name: "FK_builder_staged_files_builder_build_parts_PartId",
                        column: x => x.PartId,
                        principalTable: "builder_build_parts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_builder_staged_files_BuildId_PartId",
                table: "builder_staged_files",
                columns: new[] { "BuildId", "PartId" });

            migrationBuilder.CreateIndex(
                name: "IX_builder_staged_files_PartId",
                table: "builder_staged_files",
                column: "PartId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "builder_staged_files");

            migrationBuilder.AddColumn<string>(
                name: "Digests",
                table: "builder_build_parts",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "Files",
                table: "builder_build_parts",
                type: "TEXT",
                nullable: false,
                defaultValue: "");
        }
    }
}
