using System.Collections.Concurrent;
using Builder.Core.Index;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Index.Upstream;

/// <summary>
/// Records when each file kept from upstream was last read (<see cref="UpstreamRead"/>), for the cache's trimming least
/// recently read first (<c>StorageCollector</c>). A read is written at most once per <see cref="Interval"/> per file and
/// process: the order of reads a minute apart is what matters, not every request.
/// </summary>
public sealed class UpstreamReads(IServiceScopeFactory scopes, TimeProvider time)
{
    /// <summary>How often one process writes a read of one file.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private const int MaxRemembered = 100_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _written = new(StringComparer.Ordinal);

    /// <summary>Notes a read of <paramref name="artifact"/> (an upstream file or sidecar) now.</summary>
    public async Task RecordAsync(ServedArtifact artifact, CancellationToken cancellationToken)
    {
        var key = PackageArtifacts.UpstreamKey(artifact);
        var now = time.GetUtcNow();
        if (_written.TryGetValue(key, out var written) && now - written < Interval && now >= written)
        {
            return;
        }

        if (_written.Count >= MaxRemembered)
        {
            _written.Clear();
        }

        _written[key] = now;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        if (await db.UpstreamReads.Where(r => r.Key == key).ExecuteUpdateAsync(s => s.SetProperty(r => r.LastReadAt, now), cancellationToken) > 0)
        {
            return;
        }

        db.UpstreamReads.Add(new UpstreamRead { Key = key, LastReadAt = now });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another process recorded its first read at the same moment: the row is there; this read is as recent.
            db.ChangeTracker.Clear();
            await db.UpstreamReads.Where(r => r.Key == key).ExecuteUpdateAsync(s => s.SetProperty(r => r.LastReadAt, now), cancellationToken);
        }
    }
}
