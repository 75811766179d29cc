using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Builder.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class WheelSboms : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Sboms",
                table: "builder_staged_files",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Sboms",
                table: "builder_files",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Sboms",
                table: "builder_staged_files");

            migrationBuilder.DropColumn(
                name: "Sboms",
                table: "builder_files");
        }
    }
}
