using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Builder.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TrustedPublishers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "TrustedPublisherId",
                table: "builder_tokens",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "builder_oidc_token_uses",
                columns: table => new
                {
                    Issuer = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Jti = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UsedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_oidc_token_uses", x => new { x.Issuer, x.Jti });
                });

            migrationBuilder.CreateTable(
                name: "builder_trusted_publishers",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: true),
                    Issuer = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Claims = table.Column<string>(type: "TEXT", nullable: false),
                    Scopes = table.Column<string>(type: "TEXT", nullable: false),
                    Projects = table.Column<string>(type: "TEXT", nullable: true),
                    Versions = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedBy = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    DeletedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    DeletedBy = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_trusted_publishers", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_builder_tokens_TrustedPublisherId",
                table: "builder_tokens",
                column: "TrustedPublisherId");

            migrationBuilder.CreateIndex(
                name: "IX_builder_oidc_token_uses_ExpiresAt",
                table: "builder_oidc_token_uses",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_builder_trusted_publishers_Name",
                table: "builder_trusted_publishers",
                column: "Name");

            migrationBuilder.AddForeignKey(
                name: "FK_builder_tokens_builder_trusted_publishers_TrustedPublisherId",
                table: "builder_tokens",
                column: "TrustedPublisherId",
                principalTable: "builder_trusted_publishers",
                principalColumn: "Id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_builder_tokens_builder_trusted_publishers_TrustedPublisherId",
                table: "builder_tokens");

            migrationBuilder.DropTable(
                name: "builder_oidc_token_uses");

            migrationBuilder.DropTable(
                name: "builder_trusted_publishers");

            migrationBuilder.DropIndex(
                name: "IX_builder_tokens_TrustedPublisherId",
                table: "builder_tokens");

            migrationBuilder.DropColumn(
                name: "TrustedPublisherId",
                table: "builder_tokens");
        }
    }
}
