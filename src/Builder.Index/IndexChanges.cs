using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Builder.Index;

/// <summary>
/// The index's one "project changed" signal, whatever changed the project (a build's publication, an upload, an import,
/// a yank, an unyank, a delete, an upstream rule). It is written into the transaction that makes the change, so every
/// other process that caches index pages hears of it when that transaction commits and never when it rolls back
/// (PostgreSQL NOTIFY; nothing to send in the embedded default), and it is raised in this process once the commit
/// returned: the next request here already reads the change.
/// </summary>
public sealed class ProjectChanges(IChangeNotifier notifier, ChangeFeed feed)
{
    /// <summary>Saves <paramref name="db"/>'s pending changes to <paramref name="project"/> in one transaction with the signal.</summary>
    public async Task SaveAsync(BuilderDbContext db, string project, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await CommitAsync(db, transaction, project, cancellationToken);
    }

    /// <summary>Commits <paramref name="transaction"/> (open on <paramref name="db"/>) with the signal that <paramref name="project"/> changed.</summary>
    public async Task CommitAsync(BuilderDbContext db, IDbContextTransaction transaction, string project, CancellationToken cancellationToken)
    {
        await notifier.NotifyOnCommitAsync(db.Database.GetDbConnection(), ChangeTopics.Index, project, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        feed.Raise(ChangeTopics.Index, project);
    }
}
