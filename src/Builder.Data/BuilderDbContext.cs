using Builder.Core.Access;
using Builder.Core.Builds;
using Builder.Core.Index;
using Microsoft.EntityFrameworkCore;

namespace Builder.Data;

/// <summary>
/// Builder's model: the one context type the rest of the code injects. It is abstract because each database provider
/// has its own migrations (the SQL differs), so each has its own derived type that they belong to:
/// <see cref="SqliteBuilderDbContext"/> (the embedded default) and <see cref="PostgresBuilderDbContext"/> (production).
/// </summary>
public abstract class BuilderDbContext(DbContextOptions options) : DbContext(options)
{
    /// <summary>
    /// The tables whose rows are never updated or deleted: the database refuses it through triggers that the migration
    /// creating the table adds (<see cref="AppendOnlyTriggers"/>).
    /// </summary>
    internal static readonly string[] AppendOnlyTables = ["builder_audit"];

    public DbSet<SourceRepository> Repositories => Set<SourceRepository>();

    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    public DbSet<ForgeReport> ForgeReports => Set<ForgeReport>();

    public DbSet<Build> Builds => Set<Build>();

    public DbSet<BuildTarget> BuildTargets => Set<BuildTarget>();

    public DbSet<BuildPart> BuildParts => Set<BuildPart>();

    /// <summary>What the parts staged, one row per file (see <see cref="StagedFile"/>).</summary>
    public DbSet<StagedFile> StagedFiles => Set<StagedFile>();

    public DbSet<BuildLogChunk> BuildLogChunks => Set<BuildLogChunk>();

    /// <summary>The lifecycle's outbox: one row per transition, written with it (see <c>ReleaseLifecycle</c>).</summary>
    public DbSet<BuildEvent> BuildEvents => Set<BuildEvent>();

    /// <summary>How far each durable subscriber of <see cref="BuildEvents"/> has read.</summary>
    public DbSet<BuildEventCursor> BuildEventCursors => Set<BuildEventCursor>();

    public DbSet<PackageFile> Files => Set<PackageFile>();

    /// <summary>The provenance objects of files Builder built (see <see cref="FileProvenance"/>).</summary>
    public DbSet<FileProvenance> Provenance => Set<FileProvenance>();

    /// <summary>Builder's provenance CA and signing keys.</summary>
    public DbSet<ProvenanceKey> ProvenanceKeys => Set<ProvenanceKey>();

    public DbSet<UpstreamRule> UpstreamRules => Set<UpstreamRule>();

    /// <summary>When each file kept from upstream was last read (the proxy cache is trimmed least recently read first).</summary>
    public DbSet<UpstreamRead> UpstreamReads => Set<UpstreamRead>();
    /// <summary>Admins' settings per project (its quota).</summary>
    public DbSet<ProjectSettings> ProjectSettings => Set<ProjectSettings>();

    public DbSet<RetentionPolicy> RetentionPolicies => Set<RetentionPolicy>();

    public DbSet<RetentionYank> RetentionYanks => Set<RetentionYank>();

    public DbSet<ApiToken> Tokens => Set<ApiToken>();

    public DbSet<TrustedPublisher> TrustedPublishers => Set<TrustedPublisher>();

    public DbSet<OidcTokenUse> OidcTokenUses => Set<OidcTokenUse>();

    public DbSet<Person> People => Set<Person>();

    public DbSet<PersonSession> Sessions => Set<PersonSession>();

    public DbSet<AuditEvent> Audit => Set<AuditEvent>();

    public DbSet<InstanceIdentity> Instance => Set<InstanceIdentity>();

    /// <summary>The Data Protection key ring in production (the embedded default keeps it in files under the data directory).</summary>
    public DbSet<DataProtectionKeyRow> DataProtectionKeys => Set<DataProtectionKeyRow>();

    private static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTimeOffset, long> UtcTicks =
        new(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));

    private static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTimeOffset?, long?> NullableUtcTicks =
        new(v => v.HasValue ? v.Value.UtcTicks : null, v => v.HasValue ? new DateTimeOffset(v.Value, TimeSpan.Zero) : null);

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<SourceRepository>(e =>
        {
            e.ToTable("builder_repositories");
            // One repository per (provider, instance, name): acme/billing on github.com and on a GitHub Enterprise Server are two.
            e.HasIndex(r => new { r.Provider, r.Instance, r.Name }).IsUnique();
            e.Property(r => r.Provider).HasMaxLength(32);
            e.Property(r => r.Instance).HasMaxLength(255).HasDefaultValue(string.Empty);
            e.Property(r => r.Trigger).HasMaxLength(16).HasDefaultValue(RepositoryTriggers.Tag);
            e.Property(r => r.ReportStatus).HasDefaultValue(false);
            e.Property(r => r.ReleaseAssets).HasDefaultValue(false);
            e.Property(r => r.Name).HasMaxLength(512);
            // The column keeps its old name: databases made before secrets were encrypted have it (it is emptied at start).
            e.Property(r => r.PlaintextWebhookSecret).HasColumnName("WebhookSecret");
        });

        modelBuilder.Entity<Build>(e =>
        {
            e.ToTable("builder_builds");
            e.Property(b => b.State).HasConversion<string>().HasMaxLength(16);
            // One build per (repository, tag, commit) and generation: a redelivered webhook finds the tag push's build
            // (see WebhookEndpoints); "build again" makes the next generation.
            e.HasIndex(b => new { b.RepositoryId, b.Tag, b.CommitSha, b.Generation }).IsUnique();
            e.Property(b => b.Generation).HasDefaultValue(0);
            e.Property(b => b.PublishAttempts).HasDefaultValue(0);
            e.HasIndex(b => b.State);
            // A project's builds, newest first: its last build on the project list, the build list filtered by project.
            e.HasIndex(b => new { b.Project, b.Id });
            e.Property(b => b.LeaseOwner).HasMaxLength(200);
            // UTC ticks: compared in queries (lease expiry) on SQLite too.
            e.Property(b => b.HeartbeatAt).HasConversion(NullableUtcTicks);
            e.Property(b => b.PublishQueuedAt).HasConversion(NullableUtcTicks);
            e.HasMany(b => b.Targets).WithOne().HasForeignKey(t => t.BuildId);
            e.HasMany(b => b.Parts).WithOne().HasForeignKey(p => p.BuildId);
            e.HasOne(b => b.Repository).WithMany().HasForeignKey(b => b.RepositoryId);
        });

        modelBuilder.Entity<BuildTarget>(e => e.ToTable("builder_build_targets"));

        modelBuilder.Entity<BuildPart>(e =>
        {
            e.ToTable("builder_build_parts");
            e.Property(p => p.State).HasConversion<string>().HasMaxLength(16);
            e.Property(p => p.Architecture).HasMaxLength(32);
            e.Property(p => p.LeaseOwner).HasMaxLength(200);
            e.Property(p => p.HeartbeatAt).HasConversion(NullableUtcTicks);
            e.HasIndex(p => new { p.BuildId, p.State });
        });

        modelBuilder.Entity<StagedFile>(e =>
        {
            e.ToTable("builder_staged_files");
            e.HasOne<BuildPart>().WithMany().HasForeignKey(f => f.PartId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(f => new { f.BuildId, f.PartId });
            e.Property(f => f.Sha256).HasMaxLength(64);
            e.Property(f => f.MetadataSha256).HasMaxLength(64);
        });

        modelBuilder.Entity<BuildEvent>(e =>
        {
            e.ToTable("builder_build_events");
            e.Property(v => v.Kind).HasMaxLength(32);
            e.Property(v => v.State).HasMaxLength(16);
            e.Property(v => v.At).HasConversion(UtcTicks);
            e.HasIndex(v => new { v.BuildId, v.Id });
        });

        modelBuilder.Entity<BuildEventCursor>(e =>
        {
            e.ToTable("builder_build_event_cursors");
            e.HasKey(c => c.Subscriber);
            e.Property(c => c.Subscriber).HasMaxLength(100);
        });

        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("builder_webhook_deliveries");
            e.Property(d => d.Provider).HasMaxLength(32);
            e.Property(d => d.Event).HasMaxLength(64);
            e.Property(d => d.Outcome).HasMaxLength(16);
            e.Property(d => d.ReceivedAt).HasConversion(UtcTicks);
            e.HasIndex(d => new { d.RepositoryId, d.Id });
        });

        modelBuilder.Entity<ForgeReport>(e =>
        {
            e.ToTable("builder_forge_reports");
            e.Property(r => r.Target).HasMaxLength(32);
            e.Property(r => r.State).HasMaxLength(16);
            e.Property(r => r.Outcome).HasMaxLength(16);
            e.Property(r => r.CreatedAt).HasConversion(UtcTicks);
            e.Property(r => r.SentAt).HasConversion(NullableUtcTicks);
            // UTC ticks: the reporter's "what is due" query compares it on SQLite too.
            e.Property(r => r.DueAt).HasConversion(NullableUtcTicks);
            e.HasIndex(r => new { r.BuildId, r.Id });
            e.HasIndex(r => r.DueAt);
        });

        modelBuilder.Entity<BuildLogChunk>(e =>
        {
            e.ToTable("builder_build_log");
            e.HasIndex(c => new { c.BuildId, c.Id });
        });

        modelBuilder.Entity<PackageFile>(e =>
        {
            e.ToTable("builder_files");
            e.HasIndex(f => f.Filename).IsUnique();
            e.HasIndex(f => new { f.Project, f.DeletedAt });
        });

        modelBuilder.Entity<FileProvenance>(e =>
        {
            e.ToTable("builder_file_provenance");
            e.HasIndex(p => p.Filename).IsUnique();
            e.Property(p => p.CreatedAt).HasConversion(UtcTicks);
        });

        modelBuilder.Entity<ProvenanceKey>(e =>
        {
            e.ToTable("builder_provenance_keys");
            e.Property(k => k.Kind).HasMaxLength(16);
            e.HasIndex(k => k.Kind);
            e.Property(k => k.CreatedAt).HasConversion(UtcTicks);
        });

        modelBuilder.Entity<ProjectSettings>(e =>
        {
            e.ToTable("builder_project_settings");
            e.HasKey(p => p.Project);
            e.Property(p => p.Project).HasMaxLength(256);
            e.Property(p => p.UpdatedBy).HasMaxLength(300);
            e.Property(p => p.UpdatedAt).HasConversion(UtcTicks);
        });

        modelBuilder.Entity<UpstreamRule>(e =>
        {
            e.ToTable("builder_upstream_rules");
            e.Property(r => r.Kind).HasMaxLength(16);
            e.Property(r => r.Project).HasMaxLength(256);
            e.Property(r => r.Version).HasMaxLength(128);
            e.Property(r => r.CreatedBy).HasMaxLength(300);
            e.Property(r => r.CreatedAt).HasConversion(UtcTicks);
            e.HasIndex(r => new { r.Project, r.Kind });
        });

        modelBuilder.Entity<UpstreamRead>(e =>
        {
            e.ToTable("builder_upstream_reads");
            e.HasKey(r => r.Key);
            e.Property(r => r.Key).HasMaxLength(1024);
            e.Property(r => r.LastReadAt).HasConversion(UtcTicks);
        });

        modelBuilder.Entity<RetentionPolicy>(e =>
        {
            e.ToTable("builder_retention_policies");
            e.Property(p => p.Projects).HasMaxLength(2000);
            e.Property(p => p.KeepPattern).HasMaxLength(500);
            e.Property(p => p.Action).HasMaxLength(16);
            e.Property(p => p.CreatedBy).HasMaxLength(300);
            e.Property(p => p.CreatedAt).HasConversion(UtcTicks);
            e.Property(p => p.LastRunAt).HasConversion(NullableUtcTicks);
        });

        modelBuilder.Entity<RetentionYank>(e =>
        {
            e.ToTable("builder_retention_yanks");
            e.Property(y => y.Project).HasMaxLength(256);
            e.Property(y => y.Version).HasMaxLength(128);
            e.Property(y => y.YankedAt).HasConversion(UtcTicks);
            e.HasIndex(y => new { y.PolicyId, y.Project, y.Version }).IsUnique();
            e.HasOne<RetentionPolicy>().WithMany().HasForeignKey(y => y.PolicyId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ApiToken>(e =>
        {
            e.ToTable("builder_tokens");
            e.HasIndex(t => t.SecretHash).IsUnique();
            e.Property(t => t.SecretHash).HasMaxLength(64);
            e.Property(t => t.Name).HasMaxLength(200);
            e.HasOne(t => t.Owner).WithMany().HasForeignKey(t => t.OwnerId);
            e.HasOne(t => t.TrustedPublisher).WithMany().HasForeignKey(t => t.TrustedPublisherId);
            // UTC ticks, as the audit log's times: compared in queries on SQLite too (it cannot compare DateTimeOffset).
            e.Property(t => t.CreatedAt).HasConversion(UtcTicks);
            e.Property(t => t.ExpiresAt).HasConversion(NullableUtcTicks);
            e.Property(t => t.RevokedAt).HasConversion(NullableUtcTicks);
            e.Property(t => t.FirstUsedAt).HasConversion(NullableUtcTicks);
            e.Property(t => t.LastUsedAt).HasConversion(NullableUtcTicks);
        });

        modelBuilder.Entity<TrustedPublisher>(e =>
        {
            e.ToTable("builder_trusted_publishers");
            e.HasIndex(p => p.Name);
            e.Property(p => p.Name).HasMaxLength(200);
            e.Property(p => p.Issuer).HasMaxLength(500);
            e.Property(p => p.CreatedAt).HasConversion(UtcTicks);
            e.Property(p => p.DeletedAt).HasConversion(NullableUtcTicks);
        });

        modelBuilder.Entity<OidcTokenUse>(e =>
        {
            e.ToTable("builder_oidc_token_uses");
            e.HasKey(u => new { u.Issuer, u.Jti });
            e.Property(u => u.Issuer).HasMaxLength(500);
            e.Property(u => u.Jti).HasMaxLength(200);
            e.HasIndex(u => u.ExpiresAt);
            e.Property(u => u.ExpiresAt).HasConversion(UtcTicks);
            e.Property(u => u.UsedAt).HasConversion(UtcTicks);
        });

        modelBuilder.Entity<PersonSession>(e =>
        {
            e.ToTable("builder_sessions");
            e.HasIndex(t => t.SecretHash).IsUnique();
            e.Property(t => t.SecretHash).HasMaxLength(64);
            e.Property(t => t.UserAgent).HasMaxLength(300);
            e.HasOne(t => t.Person).WithMany().HasForeignKey(t => t.PersonId);
            e.Property(t => t.CreatedAt).HasConversion(UtcTicks);
            e.Property(t => t.ExpiresAt).HasConversion(UtcTicks);
            e.Property(t => t.EndedAt).HasConversion(NullableUtcTicks);
        });

        modelBuilder.Entity<Person>(e =>
        {
            e.ToTable("builder_people");
            e.HasIndex(p => p.UserName).IsUnique();
            e.Property(p => p.UserName).HasMaxLength(256);
            e.Property(p => p.Source).HasMaxLength(16);
        });

        modelBuilder.Entity<AuditEvent>(e =>
        {
            e.ToTable("builder_audit");
            e.Property(a => a.Action).HasMaxLength(64);
            e.Property(a => a.Principal).HasMaxLength(300);
            e.Property(a => a.Outcome).HasMaxLength(16);
            // UTC ticks: filtering by time translates on SQLite too (it cannot compare DateTimeOffset columns).
            e.Property(a => a.At).HasConversion(UtcTicks);
            e.HasIndex(a => a.At);
            e.HasIndex(a => new { a.Principal, a.Id });
            e.HasIndex(a => new { a.Project, a.Id });
            e.HasIndex(a => new { a.Action, a.Id });
        });

        modelBuilder.Entity<InstanceIdentity>(e =>
        {
            e.ToTable("builder_instance");
            e.Property(i => i.Id).ValueGeneratedNever();
        });

        modelBuilder.Entity<DataProtectionKeyRow>(e =>
        {
            e.ToTable("builder_data_protection_keys");
            e.HasIndex(k => k.FriendlyName).IsUnique();
        });
    }
}
