using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Builder.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "builder_audit",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    Action = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Principal = table.Column<string>(type: "TEXT", maxLength: 300, nullable: false),
                    Outcome = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Project = table.Column<string>(type: "TEXT", nullable: true),
                    Target = table.Column<string>(type: "TEXT", nullable: true),
                    Detail = table.Column<string>(type: "TEXT", nullable: true),
                    Address = table.Column<string>(type: "TEXT", nullable: true),
                    UserAgent = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_audit", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_build_event_cursors",
                columns: table => new
                {
                    Subscriber = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    LastEventId = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_build_event_cursors", x => x.Subscriber);
                });

            migrationBuilder.CreateTable(
                name: "builder_build_events",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    BuildId = table.Column<long>(type: "INTEGER", nullable: false),
                    PartId = table.Column<long>(type: "INTEGER", nullable: true),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Detail = table.Column<string>(type: "TEXT", nullable: true),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_build_events", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_build_log",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    BuildId = table.Column<long>(type: "INTEGER", nullable: false),
                    Text = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_build_log", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_data_protection_keys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    FriendlyName = table.Column<string>(type: "TEXT", nullable: false),
                    Xml = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_data_protection_keys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_files",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Project = table.Column<string>(type: "TEXT", nullable: false),
                    Version = table.Column<string>(type: "TEXT", nullable: false),
                    Filename = table.Column<string>(type: "TEXT", nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    RequiresPython = table.Column<string>(type: "TEXT", nullable: true),
                    BuildId = table.Column<long>(type: "INTEGER", nullable: true),
                    UploadedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    MetadataSha256 = table.Column<string>(type: "TEXT", nullable: true),
                    Yanked = table.Column<bool>(type: "INTEGER", nullable: false),
                    YankedReason = table.Column<string>(type: "TEXT", nullable: true),
                    DeletedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_files", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_forge_reports",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    BuildId = table.Column<long>(type: "INTEGER", nullable: false),
                    Target = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: true),
                    EventId = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    SentAt = table.Column<long>(type: "INTEGER", nullable: true),
                    DueAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    Outcome = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    Detail = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_forge_reports", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_instance",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    TokenTag = table.Column<long>(type: "INTEGER", nullable: false),
                    AccessSerial = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_instance", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_people",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    UserName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    DisplayName = table.Column<string>(type: "TEXT", nullable: true),
                    Email = table.Column<string>(type: "TEXT", nullable: true),
                    PasswordHash = table.Column<string>(type: "TEXT", nullable: true),
                    Roles = table.Column<string>(type: "TEXT", nullable: false),
                    Disabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", nullable: true),
                    LastLoginAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    RolesRefreshedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_people", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_repositories",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Provider = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                    CloneUrl = table.Column<string>(type: "TEXT", nullable: false),
                    WebhookSecret = table.Column<string>(type: "TEXT", nullable: false),
                    ProtectedWebhookSecret = table.Column<string>(type: "TEXT", nullable: true),
                    ProtectedCredentials = table.Column<string>(type: "TEXT", nullable: true),
                    RelayProjects = table.Column<string>(type: "TEXT", nullable: true),
                    Instance = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false, defaultValue: ""),
                    ApiUrl = table.Column<string>(type: "TEXT", nullable: true),
                    ReportStatus = table.Column<bool>(type: "INTEGER", nullable: false, defaultValue: false),
                    ReleaseAssets = table.Column<bool>(type: "INTEGER", nullable: false, defaultValue: false),
                    Trigger = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false, defaultValue: "tag"),
                    GitHubInstallationId = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_repositories", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_webhook_deliveries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RepositoryId = table.Column<long>(type: "INTEGER", nullable: true),
                    Provider = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Event = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    DeliveryId = table.Column<string>(type: "TEXT", nullable: true),
                    IdempotencyKey = table.Column<string>(type: "TEXT", nullable: true),
                    RepositoryName = table.Column<string>(type: "TEXT", nullable: true),
                    Tag = table.Column<string>(type: "TEXT", nullable: true),
                    CommitSha = table.Column<string>(type: "TEXT", nullable: true),
                    Outcome = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    BuildId = table.Column<long>(type: "INTEGER", nullable: true),
                    Detail = table.Column<string>(type: "TEXT", nullable: true),
                    ReceivedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_webhook_deliveries", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "builder_tokens",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: true),
                    SecretHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Hint = table.Column<string>(type: "TEXT", nullable: false),
                    Scopes = table.Column<string>(type: "TEXT", nullable: false),
                    Projects = table.Column<string>(type: "TEXT", nullable: true),
                    Versions = table.Column<string>(type: "TEXT", nullable: true),
                    IpRanges = table.Column<string>(type: "TEXT", nullable: true),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: true),
                    OwnerId = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedBy = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RevokedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    RevokedBy = table.Column<string>(type: "TEXT", nullable: true),
                    FirstUsedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastUsedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastUsedFrom = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_tokens", x => x.Id);
                    table.ForeignKey(
                        name: "FK_builder_tokens_builder_people_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "builder_people",
                        principalColumn: "Id");
                });

            migrationBuilder.CreateTable(
                name: "builder_builds",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RepositoryId = table.Column<long>(type: "INTEGER", nullable: false),
                    Tag = table.Column<string>(type: "TEXT", nullable: false),
                    CommitSha = table.Column<string>(type: "TEXT", nullable: false),
                    ResolvedCommit = table.Column<string>(type: "TEXT", nullable: true),
                    DeliveryId = table.Column<string>(type: "TEXT", nullable: true),
                    Project = table.Column<string>(type: "TEXT", nullable: true),
                    Version = table.Column<string>(type: "TEXT", nullable: true),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Error = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    PublishAttempts = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    PublishQueuedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Generation = table.Column<int>(type: "INTEGER", nullable: false, defaultValue: 0),
                    RetryOf = table.Column<long>(type: "INTEGER", nullable: true),
                    LeaseOwner = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    HeartbeatAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_builds", x => x.Id);
                    table.ForeignKey(
                        name: "FK_builder_builds_builder_repositories_RepositoryId",
                        column: x => x.RepositoryId,
                        principalTable: "builder_repositories",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "builder_build_parts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    BuildId = table.Column<long>(type: "INTEGER", nullable: false),
                    Architecture = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Identifiers = table.Column<string>(type: "TEXT", nullable: false),
                    IncludeSdist = table.Column<bool>(type: "INTEGER", nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    JobId = table.Column<string>(type: "TEXT", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", nullable: true),
                    Files = table.Column<string>(type: "TEXT", nullable: false),
                    Digests = table.Column<string>(type: "TEXT", nullable: false, defaultValue: ""),
                    LeaseOwner = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    HeartbeatAt = table.Column<long>(type: "INTEGER", nullable: true),
                    StartedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_build_parts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_builder_build_parts_builder_builds_BuildId",
                        column: x => x.BuildId,
                        principalTable: "builder_builds",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "builder_build_targets",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    BuildId = table.Column<long>(type: "INTEGER", nullable: false),
                    PartId = table.Column<long>(type: "INTEGER", nullable: true),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    Architecture = table.Column<string>(type: "TEXT", nullable: false),
                    Succeeded = table.Column<bool>(type: "INTEGER", nullable: false),
                    Seconds = table.Column<double>(type: "REAL", nullable: false),
                    Error = table.Column<string>(type: "TEXT", nullable: true),
                    Files = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_builder_build_targets", x => x.Id);
                    table.ForeignKey(
                        name: "FK_builder_build_targets_builder_builds_BuildId",
                        column: x => x.BuildId,
                        principalTable: "builder_builds",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_builder_audit_Action_Id",
                table: "builder_audit",
                columns: new[] { "Action", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_builder_audit_At",
                table: "builder_audit",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_builder_audit_Principal_Id",
                table: "builder_audit",
                columns: new[] { "Principal", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_builder_audit_Project_Id",
                table: "builder_audit",
                columns: new[] { "Project", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_builder_build_events_BuildId_Id",
                table: "builder_build_events",
                columns: new[] { "BuildId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_builder_build_log_BuildId_Id",
                table: "builder_build_log",
                columns: new[] { "BuildId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_builder_build_parts_BuildId_State",
                table: "builder_build_parts",
                columns: new[] { "BuildId", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_builder_build_targets_BuildId",
                table: "builder_build_targets",
                column: "BuildId");

            migrationBuilder.CreateIndex(
                name: "IX_builder_builds_RepositoryId_Tag_CommitSha_Generation",
                table: "builder_builds",
                columns: new[] { "RepositoryId", "Tag", "CommitSha", "Generation" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_builder_builds_State",
                table: "builder_builds",
                column: "State");

            migrationBuilder.CreateIndex(
                name: "IX_builder_data_protection_keys_FriendlyName",
                table: "builder_data_protection_keys",
                column: "FriendlyName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_builder_files_Filename",
                table: "builder_files",
                column: "Filename",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_builder_files_Project_DeletedAt",
                table: "builder_files",
                columns: new[] { "Project", "DeletedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_builder_forge_reports_BuildId_Id",
                table: "builder_forge_reports",
                columns: new[] { "BuildId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_builder_forge_reports_DueAt",
                table: "builder_forge_reports",
                column: "DueAt");

            migrationBuilder.CreateIndex(
                name: "IX_builder_people_UserName",
                table: "builder_people",
                column: "UserName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_builder_repositories_Provider_Instance_Name",
                table: "builder_repositories",
                columns: new[] { "Provider", "Instance", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_builder_tokens_OwnerId",
                table: "builder_tokens",
                column: "OwnerId");

            migrationBuilder.CreateIndex(
                name: "IX_builder_tokens_SecretHash",
                table: "builder_tokens",
                column: "SecretHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_builder_webhook_deliveries_RepositoryId_Id",
                table: "builder_webhook_deliveries",
                columns: new[] { "RepositoryId", "Id" });

            // Written by hand: the audit log is append-only (BuilderDbContext.AppendOnlyTables).
            AppendOnlyTriggers.Create(migrationBuilder, "builder_audit");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "builder_audit");

            migrationBuilder.DropTable(
                name: "builder_build_event_cursors");

            migrationBuilder.DropTable(
                name: "builder_build_events");

            migrationBuilder.DropTable(
                name: "builder_build_log");

            migrationBuilder.DropTable(
                name: "builder_build_parts");

            migrationBuilder.DropTable(
                name: "builder_build_targets");

            migrationBuilder.DropTable(
                name: "builder_data_protection_keys");

            migrationBuilder.DropTable(
                name: "builder_files");

            migrationBuilder.DropTable(
                name: "builder_forge_reports");

            migrationBuilder.DropTable(
                name: "builder_instance");

            migrationBuilder.DropTable(
                name: "builder_tokens");

            migrationBuilder.DropTable(
                name: "builder_webhook_deliveries");

            migrationBuilder.DropTable(
                name: "builder_builds");

            migrationBuilder.DropTable(
                name: "builder_people");

            migrationBuilder.DropTable(
                name: "builder_repositories");
        }
    }
}
