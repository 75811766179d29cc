using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Builder.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Provenance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Target",
                table: "builder_staged_files",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "HasProvenance",
                table: "builder_files",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "ImageDigest",
                table: "builder_build_parts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "builder_file_provenance",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Filename = table.Column<string>(type: "TEXT", nullable: false),
                    Json = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_file_provenance", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_provenance_keys",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Certificate = table.Column<byte[]>(type: "BLOB", nullable: false),
                    ProtectedPrivateKey = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_provenance_keys", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_builder_file_provenance_Filename",
                table: "builder_file_provenance",
                column: "Filename",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_builder_provenance_keys_Kind",
                table: "builder_provenance_keys",
                column: "Kind");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "builder_file_provenance");

            migrationBuilder.DropTable(
                name: "builder_provenance_keys");

            migrationBuilder.DropColumn(
                name: "Target",
                table: "builder_staged_files");

            migrationBuilder.DropColumn(
                name: "HasProvenance",
                table: "builder_files");

            migrationBuilder.DropColumn(
                name: "ImageDigest",
                table: "builder_build_parts");
        }
    }
}
