using System.Collections.Concurrent;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Ui;

/// <summary>
/// The provenance of a page's files (<see cref="ProvenanceSummary"/>), for the project and release pages: the rows a
/// page needs are read in one query, and each file's summary is kept (up to <see cref="MaxEntries"/> files). A
/// published file's provenance is written in the transaction that publishes it and never changes, and a file name is
/// never used twice, so what was read for a name, its absence included, stays true.
/// </summary>
public sealed class FileProvenanceReader(IServiceScopeFactory scopes)
{
    private const int MaxEntries = 20_000;

    // A file name → its summary, or null: published without provenance (uploaded, imported, or built before Builder signed).
    private readonly ConcurrentDictionary<string, ProvenanceSummary?> _known = new(StringComparer.Ordinal);

    /// <summary>The summaries of those of <paramref name="filenames"/> (published files) that have provenance, by file name.</summary>
    public async Task<IReadOnlyDictionary<string, ProvenanceSummary>> ReadAsync(IEnumerable<string> filenames, CancellationToken cancellationToken)
    {
        var summaries = new Dictionary<string, ProvenanceSummary>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var filename in filenames.Distinct(StringComparer.Ordinal))
        {
            if (!_known.TryGetValue(filename, out var known))
            {
                unknown.Add(filename);
            }
            else if (known is not null)
            {
                summaries[filename] = known;
            }
        }

        if (unknown.Count == 0)
        {
            return summaries;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        // One parameter however many names (EF's default would send one per name).
        var rows = await db.Provenance.AsNoTracking().Where(p => EF.Parameter(unknown).Contains(p.Filename))
            .Select(p => new { p.Filename, p.Json }).ToListAsync(cancellationToken);
        var read = rows.ToDictionary(r => r.Filename, r => ProvenanceSummary.Parse(r.Json), StringComparer.Ordinal);
        if (_known.Count + unknown.Count > MaxEntries)
        {
            _known.Clear();
        }

        foreach (var filename in unknown)
        {
            var summary = read.GetValueOrDefault(filename);
            _known[filename] = summary;
            if (summary is not null)
            {
                summaries[filename] = summary;
            }
        }

        return summaries;
    }
}
