using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Builder.Data.Migrations.Postgres
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
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "builder_oidc_token_uses",
                columns: table => new
                {
                    Issuer = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    Jti = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ExpiresAt = table.Column<long>(type: "bigint", nullable: false),
                    UsedAt = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_oidc_token_uses", x => new { x.Issuer, x.Jti });
                });

            migrationBuilder.CreateTable(
                name: "builder_trusted_publishers",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Description = table.Column<string>(type: "text", nullable: true),
                    Issuer = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    Claims = table.Column<string>(type: "text", nullable: false),
                    Scopes = table.Column<string>(type: "text", nullable: false),
                    Projects = table.Column<string>(type: "text", nullable: true),
                    Versions = table.Column<string>(type: "text", nullable: true),
                    CreatedBy = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<long>(type: "bigint", nullable: false),
                    DeletedAt = table.Column<long>(type: "bigint", nullable: true),
                    DeletedBy = table.Column<string>(type: "text", nullable: true)
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
