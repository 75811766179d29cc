using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Builder.Data.Migrations.Postgres
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
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    BuildId = table.Column<long>(type: "bigint", nullable: false),
                    PartId = table.Column<long>(type: "bigint", nullable: false),
                    Filename = table.Column<string>(type: "text", nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    Project = table.Column<string>(type: "text", nullable: false),
                    Version = table.Column<string>(type: "text", nullable: false),
                    RequiresPython = table.Column<string>(type: "text", nullable: true),
                    MetadataSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
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
                type: "text",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "Files",
                table: "builder_build_parts",
                type: "text",
                nullable: false,
                defaultValue: "");
        }
    }
}
