using Builder.Core.Builds;
using Microsoft.EntityFrameworkCore;

namespace Builder.Data;

public sealed class BuilderDbContext(DbContextOptions<BuilderDbContext> options) : DbContext(options)
{
    public DbSet<SourceRepository> Repositories => Set<SourceRepository>();

    public DbSet<Build> Builds => Set<Build>();

    public DbSet<BuildTarget> BuildTargets => Set<BuildTarget>();

    public DbSet<BuildPart> BuildParts => Set<BuildPart>();

    public DbSet<BuildLogChunk> BuildLogChunks => Set<BuildLogChunk>();

    public DbSet<PackageFile> Files => Set<PackageFile>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<SourceRepository>(e =>
        {
            e.ToTable("builder_repositories");
            e.HasIndex(r => r.Name).IsUnique();
            e.Property(r => r.Provider).HasMaxLength(32);
            e.Property(r => r.Name).HasMaxLength(512);
        });

        modelBuilder.Entity<Build>(e =>
        {
            e.ToTable("builder_builds");
            e.Property(b => b.State).HasConversion<string>().HasMaxLength(16);
            // One build per (repository, tag, commit): a redelivered webhook finds the first build (see WebhookEndpoints).
            e.HasIndex(b => new { b.RepositoryId, b.Tag, b.CommitSha }).IsUnique();
            e.HasIndex(b => b.State);
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
    }
}
