PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE IF NOT EXISTS "builder_audit" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_audit" PRIMARY KEY AUTOINCREMENT,
    "At" INTEGER NOT NULL,
    "Action" TEXT NOT NULL,
    "Principal" TEXT NOT NULL,
    "Outcome" TEXT NOT NULL,
    "Project" TEXT NULL,
    "Target" TEXT NULL,
    "Detail" TEXT NULL,
    "Address" TEXT NULL,
    "UserAgent" TEXT NULL
);
INSERT INTO builder_audit VALUES(1,639314592055587837,'repository:registered','admin-token','ok',NULL,'repository:acme/fixture','github acme/fixture at github.com from https://github.com/acme/fixture.git; relay reads *; trigger tag, statuses off, release assets off','127.0.0.1','curl/7.88.1');
INSERT INTO builder_audit VALUES(2,639314592063685008,'token:created','admin-token','ok',NULL,'token:1','token ''fixture-reader'' (read; projects acme-*)','127.0.0.1','curl/7.88.1');
INSERT INTO builder_audit VALUES(3,639314592069840533,'file:uploaded','admin-token','ok','acme-fixture','file:acme_fixture-1.0.0-py3-none-any.whl','acme-fixture 1.0.0, sha256 6fff6d397ea90e69baf34a8c825dc6d6721d7af62ef767fb374d1463acd078d5','127.0.0.1','curl/7.88.1');
CREATE TABLE IF NOT EXISTS "builder_build_event_cursors" (
    "Subscriber" TEXT NOT NULL CONSTRAINT "PK_builder_build_event_cursors" PRIMARY KEY,
    "LastEventId" INTEGER NOT NULL
);
INSERT INTO builder_build_event_cursors VALUES('index-cache',0);
INSERT INTO builder_build_event_cursors VALUES('forge-reports',0);
CREATE TABLE IF NOT EXISTS "builder_build_events" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_build_events" PRIMARY KEY AUTOINCREMENT,
    "BuildId" INTEGER NOT NULL,
    "PartId" INTEGER NULL,
    "Kind" TEXT NOT NULL,
    "State" TEXT NOT NULL,
    "Detail" TEXT NULL,
    "At" INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS "builder_build_log" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_build_log" PRIMARY KEY AUTOINCREMENT,
    "BuildId" INTEGER NOT NULL,
    "Text" TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "builder_data_protection_keys" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_data_protection_keys" PRIMARY KEY AUTOINCREMENT,
    "FriendlyName" TEXT NOT NULL,
    "Xml" TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "builder_files" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_files" PRIMARY KEY AUTOINCREMENT,
    "Project" TEXT NOT NULL,
    "Version" TEXT NOT NULL,
    "Filename" TEXT NOT NULL,
    "Sha256" TEXT NOT NULL,
    "Size" INTEGER NOT NULL,
    "RequiresPython" TEXT NULL,
    "BuildId" INTEGER NULL,
    "UploadedAt" TEXT NOT NULL,
    "MetadataSha256" TEXT NULL,
    "Yanked" INTEGER NOT NULL,
    "YankedReason" TEXT NULL,
    "DeletedAt" TEXT NULL
);
INSERT INTO builder_files VALUES(1,'acme-fixture','1.0.0','acme_fixture-1.0.0-py3-none-any.whl','6fff6d397ea90e69baf34a8c825dc6d6721d7af62ef767fb374d1463acd078d5',1071,NULL,NULL,'2026-11-28 10:40:06.8926884+00:00','ab670df8d276397a0622134d61d2d715d08f6f3a8ff0712ee6a45ca0619d37fd',0,NULL,NULL);
CREATE TABLE IF NOT EXISTS "builder_forge_reports" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_forge_reports" PRIMARY KEY AUTOINCREMENT,
    "BuildId" INTEGER NOT NULL,
    "Target" TEXT NOT NULL,
    "State" TEXT NOT NULL,
    "Description" TEXT NULL,
    "EventId" INTEGER NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "SentAt" INTEGER NULL,
    "DueAt" INTEGER NULL,
    "Attempts" INTEGER NOT NULL,
    "Outcome" TEXT NULL,
    "Detail" TEXT NULL
);
CREATE TABLE IF NOT EXISTS "builder_instance" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_instance" PRIMARY KEY,
    "TokenTag" INTEGER NOT NULL,
    "AccessSerial" INTEGER NULL,
    "CreatedAt" TEXT NOT NULL
);
INSERT INTO builder_instance VALUES(1,2541241816,NULL,'2026-11-28 10:40:06.0813635+00:00');
CREATE TABLE IF NOT EXISTS "builder_people" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_people" PRIMARY KEY AUTOINCREMENT,
    "UserName" TEXT NOT NULL,
    "Source" TEXT NOT NULL,
    "DisplayName" TEXT NULL,
    "Email" TEXT NULL,
    "PasswordHash" TEXT NULL,
    "Roles" TEXT NOT NULL,
    "Disabled" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "CreatedBy" TEXT NULL,
    "LastLoginAt" TEXT NULL,
    "RolesRefreshedAt" TEXT NULL
);
CREATE TABLE IF NOT EXISTS "builder_repositories" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_repositories" PRIMARY KEY AUTOINCREMENT,
    "Provider" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "CloneUrl" TEXT NOT NULL,
    "WebhookSecret" TEXT NOT NULL,
    "ProtectedWebhookSecret" TEXT NULL,
    "ProtectedCredentials" TEXT NULL,
    "RelayProjects" TEXT NULL,
    "Instance" TEXT NOT NULL DEFAULT '',
    "ApiUrl" TEXT NULL,
    "ReportStatus" INTEGER NOT NULL DEFAULT 0,
    "ReleaseAssets" INTEGER NOT NULL DEFAULT 0,
    "Trigger" TEXT NOT NULL DEFAULT 'tag',
    "GitHubInstallationId" INTEGER NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NULL
);
INSERT INTO builder_repositories VALUES(1,'github','acme/fixture','https://github.com/acme/fixture.git','','CfDJ8DMNgZRyrQJPn9Pxc1K2UIbkOJouRbKPbT3i2W_1A4jF1sjoAwjjUvmSKmrj94Fc9hBpnQq7_8GOO8vgmEU1ZBrgrbYnjFDs5HQBT9uwP9CwPC86c5Jhvjo4G_bsuAEbc2hvu0OEPmSMdmpuyk1rsE1KfkKCSV-CjfRmB5kvn_tB',NULL,NULL,'github.com',NULL,0,0,'tag',NULL,'2026-11-28 10:40:05.262173+00:00',NULL);
CREATE TABLE IF NOT EXISTS "builder_webhook_deliveries" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_webhook_deliveries" PRIMARY KEY AUTOINCREMENT,
    "RepositoryId" INTEGER NULL,
    "Provider" TEXT NOT NULL,
    "Event" TEXT NOT NULL,
    "DeliveryId" TEXT NULL,
    "IdempotencyKey" TEXT NULL,
    "RepositoryName" TEXT NULL,
    "Tag" TEXT NULL,
    "CommitSha" TEXT NULL,
    "Outcome" TEXT NOT NULL,
    "BuildId" INTEGER NULL,
    "Detail" TEXT NULL,
    "ReceivedAt" INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS "builder_tokens" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_tokens" PRIMARY KEY AUTOINCREMENT,
    "Name" TEXT NOT NULL,
    "Description" TEXT NULL,
    "SecretHash" TEXT NOT NULL,
    "Hint" TEXT NOT NULL,
    "Scopes" TEXT NOT NULL,
    "Projects" TEXT NULL,
    "Versions" TEXT NULL,
    "IpRanges" TEXT NULL,
    "ExpiresAt" INTEGER NULL,
    "OwnerId" INTEGER NULL,
    "CreatedBy" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "RevokedAt" INTEGER NULL,
    "RevokedBy" TEXT NULL,
    "FirstUsedAt" INTEGER NULL,
    "LastUsedAt" INTEGER NULL,
    "LastUsedFrom" TEXT NULL,
    CONSTRAINT "FK_builder_tokens_builder_people_OwnerId" FOREIGN KEY ("OwnerId") REFERENCES "builder_people" ("Id")
);
INSERT INTO builder_tokens VALUES(1,'fixture-reader',NULL,'f151b945d294943b6b0130940169e8cfbbd470d7f38900572282404a0376ad92','bld_ixF5','read','acme-*',NULL,NULL,NULL,NULL,'admin-token',639314592060674374,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE IF NOT EXISTS "builder_builds" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_builds" PRIMARY KEY AUTOINCREMENT,
    "RepositoryId" INTEGER NOT NULL,
    "Tag" TEXT NOT NULL,
    "CommitSha" TEXT NOT NULL,
    "ResolvedCommit" TEXT NULL,
    "DeliveryId" TEXT NULL,
    "Project" TEXT NULL,
    "Version" TEXT NULL,
    "State" TEXT NOT NULL,
    "Error" TEXT NULL,
    "CreatedAt" TEXT NOT NULL,
    "StartedAt" TEXT NULL,
    "FinishedAt" TEXT NULL,
    "Attempts" INTEGER NOT NULL,
    "PublishAttempts" INTEGER NOT NULL DEFAULT 0,
    "PublishQueuedAt" INTEGER NULL,
    "Generation" INTEGER NOT NULL DEFAULT 0,
    "RetryOf" INTEGER NULL,
    "LeaseOwner" TEXT NULL,
    "HeartbeatAt" INTEGER NULL,
    CONSTRAINT "FK_builder_builds_builder_repositories_RepositoryId" FOREIGN KEY ("RepositoryId") REFERENCES "builder_repositories" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "builder_build_parts" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_build_parts" PRIMARY KEY AUTOINCREMENT,
    "BuildId" INTEGER NOT NULL,
    "Architecture" TEXT NOT NULL,
    "Identifiers" TEXT NOT NULL,
    "IncludeSdist" INTEGER NOT NULL,
    "State" TEXT NOT NULL,
    "JobId" TEXT NULL,
    "Attempts" INTEGER NOT NULL,
    "Error" TEXT NULL,
    "Files" TEXT NOT NULL,
    "Digests" TEXT NOT NULL DEFAULT '',
    "LeaseOwner" TEXT NULL,
    "HeartbeatAt" INTEGER NULL,
    "StartedAt" TEXT NULL,
    "FinishedAt" TEXT NULL,
    CONSTRAINT "FK_builder_build_parts_builder_builds_BuildId" FOREIGN KEY ("BuildId") REFERENCES "builder_builds" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "builder_build_targets" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_builder_build_targets" PRIMARY KEY AUTOINCREMENT,
    "BuildId" INTEGER NOT NULL,
    "PartId" INTEGER NULL,
    "Name" TEXT NOT NULL,
    "Architecture" TEXT NOT NULL,
    "Succeeded" INTEGER NOT NULL,
    "Seconds" REAL NOT NULL,
    "Error" TEXT NULL,
    "Files" TEXT NOT NULL,
    CONSTRAINT "FK_builder_build_targets_builder_builds_BuildId" FOREIGN KEY ("BuildId") REFERENCES "builder_builds" ("Id") ON DELETE CASCADE
);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('builder_audit',3);
INSERT INTO sqlite_sequence VALUES('builder_repositories',1);
INSERT INTO sqlite_sequence VALUES('builder_tokens',1);
INSERT INTO sqlite_sequence VALUES('builder_files',1);
CREATE INDEX "IX_builder_audit_Action_Id" ON "builder_audit" ("Action", "Id");
CREATE INDEX "IX_builder_audit_At" ON "builder_audit" ("At");
CREATE INDEX "IX_builder_audit_Principal_Id" ON "builder_audit" ("Principal", "Id");
CREATE INDEX "IX_builder_audit_Project_Id" ON "builder_audit" ("Project", "Id");
CREATE INDEX "IX_builder_build_events_BuildId_Id" ON "builder_build_events" ("BuildId", "Id");
CREATE INDEX "IX_builder_build_log_BuildId_Id" ON "builder_build_log" ("BuildId", "Id");
CREATE INDEX "IX_builder_build_parts_BuildId_State" ON "builder_build_parts" ("BuildId", "State");
CREATE INDEX "IX_builder_build_targets_BuildId" ON "builder_build_targets" ("BuildId");
CREATE UNIQUE INDEX "IX_builder_builds_RepositoryId_Tag_CommitSha_Generation" ON "builder_builds" ("RepositoryId", "Tag", "CommitSha", "Generation");
CREATE INDEX "IX_builder_builds_State" ON "builder_builds" ("State");
CREATE UNIQUE INDEX "IX_builder_data_protection_keys_FriendlyName" ON "builder_data_protection_keys" ("FriendlyName");
CREATE UNIQUE INDEX "IX_builder_files_Filename" ON "builder_files" ("Filename");
CREATE INDEX "IX_builder_files_Project_DeletedAt" ON "builder_files" ("Project", "DeletedAt");
CREATE INDEX "IX_builder_forge_reports_BuildId_Id" ON "builder_forge_reports" ("BuildId", "Id");
CREATE INDEX "IX_builder_forge_reports_DueAt" ON "builder_forge_reports" ("DueAt");
CREATE UNIQUE INDEX "IX_builder_people_UserName" ON "builder_people" ("UserName");
CREATE UNIQUE INDEX "IX_builder_repositories_Provider_Instance_Name" ON "builder_repositories" ("Provider", "Instance", "Name");
CREATE INDEX "IX_builder_tokens_OwnerId" ON "builder_tokens" ("OwnerId");
CREATE UNIQUE INDEX "IX_builder_tokens_SecretHash" ON "builder_tokens" ("SecretHash");
CREATE INDEX "IX_builder_webhook_deliveries_RepositoryId_Id" ON "builder_webhook_deliveries" ("RepositoryId", "Id");
CREATE TRIGGER "builder_audit_no_update" BEFORE UPDATE ON "builder_audit" BEGIN SELECT RAISE(ABORT, 'builder_audit is append-only: UPDATE is not allowed'); END;
CREATE TRIGGER "builder_audit_no_delete" BEFORE DELETE ON "builder_audit" BEGIN SELECT RAISE(ABORT, 'builder_audit is append-only: DELETE is not allowed'); END;
COMMIT;
