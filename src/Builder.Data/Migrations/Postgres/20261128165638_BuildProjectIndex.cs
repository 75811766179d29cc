using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Builder.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class BuildProjectIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_builder_builds_Project_Id",
                table: "builder_builds",
                columns: new[] { "Project", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_builder_builds_Project_Id",
                table: "builder_builds");
        }
    }
}
