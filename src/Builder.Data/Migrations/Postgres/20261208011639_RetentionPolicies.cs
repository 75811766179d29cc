using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Builder.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class RetentionPolicies : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "builder_retention_policies",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Projects = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    KeepLatest = table.Column<int>(type: "integer", nullable: false),
                    KeepPattern = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    PrereleaseDays = table.Column<int>(type: "integer", nullable: true),
                    OlderThanDays = table.Column<int>(type: "integer", nullable: true),
                    Action = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    CreatedAt = table.Column<long>(type: "bigint", nullable: false),
                    LastRunAt = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_retention_policies", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_retention_yanks",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    PolicyId = table.Column<long>(type: "bigint", nullable: false),
                    Project = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Version = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    YankedAt = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_retention_yanks", x => x.Id);
                    table.ForeignKey(
                        name: "FK_builder_retention_yanks_builder_retention_policies_PolicyId",
                        column: x => x.PolicyId,
                        principalTable: "builder_retention_policies",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_builder_retention_yanks_PolicyId_Project_Version",
                table: "builder_retention_yanks",
                columns: new[] { "PolicyId", "Project", "Version" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "builder_retention_yanks");

            migrationBuilder.DropTable(
                name: "builder_retention_policies");
        }
    }
}
