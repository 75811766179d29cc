using System.Globalization;
using Builder.Core.Packaging;
using Builder.Data;
using Builder.Index;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Import;

/// <summary>What one import did; <see cref="Skipped"/> files were each reported with their reason.</summary>
internal sealed record ImportReport(int Imported, int AlreadyPresent, int Skipped, TimeSpan Elapsed)
{
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"imported {Imported}, already present {AlreadyPresent}, skipped {Skipped}{(Skipped > 0 ? " (see above)" : "")} in {Elapsed.TotalSeconds:0.0} s");
}

/// <summary>
/// Loads existing distribution files into the index the way uploads arrive: each file checked by
/// <see cref="DistributionInspector"/>, then published by <see cref="ReleasePublisher"/>, which copies it into the store
/// (the import directory is only read), writes its metadata sidecar, records it and tells the index caches.
/// </summary>
/// <remarks>
/// Files are inspected in parallel (one per core). A project is published as soon as its last file is inspected, in one
/// <see cref="ReleasePublisher.PublishAsync(IReadOnlyList{CheckedFile}, long?, CancellationToken)"/> call per project (chunks of <see cref="MaxBatch"/> for huge projects) and
/// a fresh DI scope each, so EF's change tracker never outlives a batch. A refused batch (a name published with other
/// bytes, or deleted) is retried file by file, so one bad file keeps only itself out.
/// </remarks>
internal sealed class DistributionImporter(IServiceScopeFactory scopes, TimeProvider time, TextWriter output)
{
    // Bounds one transaction and the IN list of the publisher's existence query.
    private const int MaxBatch = 500;

    private readonly Lock _gate = new();
    private int _imported;
    private int _alreadyPresent;
    private int _skipped;

    public async Task<ImportReport> ImportAsync(IReadOnlyList<ImportCandidate> candidates, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        // A file name that does not parse gets its own batch; the inspector will say what is wrong with it.
        var batches = candidates
            .GroupBy(c => DistributionFilename.TryParse(c.FileName, out var name) && name is not null ? name.NormalizedName : "/" + c.RelativePath, StringComparer.Ordinal)
            .Select(g => new ProjectBatch(g.ToList()))
            .ToList();
        var work = batches.SelectMany(b => Enumerable.Range(0, b.Candidates.Count).Select(i => (Batch: b, Index: i)));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(work, parallel, async (item, ct) =>
        {
            item.Batch.Inspected[item.Index] = await InspectAsync(item.Batch.Candidates[item.Index], ct);
            // The worker that inspects a project's last file publishes the project; the others move on.
            if (Interlocked.Decrement(ref item.Batch.Remaining) == 0)
            {
                await PublishAsync(item.Batch, ct);
            }
        });

        return new ImportReport(_imported, _alreadyPresent, _skipped, time.GetElapsedTime(started));
    }

    private async Task<CheckedFile?> InspectAsync(ImportCandidate candidate, CancellationToken cancellationToken)
    {
        try
        {
            return await DistributionInspector.InspectAsync(candidate.FullPath, candidate.FileName, cancellationToken);
        }
        catch (InvalidDistributionException ex)
        {
            Skip(candidate, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Skip(candidate, "cannot read the file: " + ex.Message);
        }

        return null;
    }

    private async Task PublishAsync(ProjectBatch batch, CancellationToken cancellationToken)
    {
        // The same file name in two places (a pypiserver root beside a simple/ tree): imported once; a copy with other
        // bytes cannot be, since a file name stands for one content forever.
        var unique = new Dictionary<string, (ImportCandidate Candidate, CheckedFile File)>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Candidates.Count; i++)
        {
            if (batch.Inspected[i] is not { } file)
            {
                continue;
            }

            var candidate = batch.Candidates[i];
            if (!unique.TryGetValue(file.Name.Filename, out var first))
            {
                unique.Add(file.Name.Filename, (candidate, file));
            }
            else if (first.File.Sha256 == file.Sha256)
            {
                Interlocked.Increment(ref _alreadyPresent);
            }
            else
            {
                Skip(candidate, $"{first.Candidate.RelativePath} has the same file name with other contents (sha256 {first.File.Sha256}, this one {file.Sha256}); only that one is imported, as a file name never stands for two contents");
            }
        }

        foreach (var chunk in unique.Values.Chunk(MaxBatch))
        {
            await PublishChunkAsync(chunk, cancellationToken);
        }
    }

    private async Task PublishChunkAsync((ImportCandidate Candidate, CheckedFile File)[] files, CancellationToken cancellationToken)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            // Only to tell "imported" from "already present" in the report; the publisher makes its own checks.
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            var names = files.Select(f => f.File.Name.Filename).ToList();
            var present = await db.Files.AsNoTracking()
                .Where(f => names.Contains(f.Filename) && f.DeletedAt == null)
                .Select(f => new { f.Filename, f.Sha256 })
                .ToDictionaryAsync(f => f.Filename, f => f.Sha256, StringComparer.Ordinal, cancellationToken);
            try
            {
                await scope.ServiceProvider.GetRequiredService<ReleasePublisher>().PublishAsync(files.Select(f => f.File).ToList(), buildId: null, cancellationToken);
                foreach (var (_, file) in files)
                {
                    if (present.GetValueOrDefault(file.Name.Filename) == file.Sha256)
                    {
                        Interlocked.Increment(ref _alreadyPresent);
                    }
                    else
                    {
                        Interlocked.Increment(ref _imported);
                    }
                }

                return;
            }
            catch (PublishConflictException ex) when (files.Length == 1)
            {
                Skip(files[0].Candidate, ex.Message);
                return;
            }
            catch (PublishConflictException)
            {
                // Nothing of the batch was recorded; find the bad files one by one below.
            }
        }

        foreach (var (candidate, file) in files)
        {
            await using var scope = scopes.CreateAsyncScope();
            try
            {
                var outcome = await scope.ServiceProvider.GetRequiredService<ReleasePublisher>().PublishAsync([file], buildId: null, cancellationToken);
                Interlocked.Increment(ref outcome == PublishOutcome.Published ? ref _imported : ref _alreadyPresent);
            }
            catch (PublishConflictException ex)
            {
                Skip(candidate, ex.Message);
            }
        }
    }

    private void Skip(ImportCandidate candidate, string reason)
    {
        Interlocked.Increment(ref _skipped);
        lock (_gate)
        {
            output.WriteLine($"skipped {candidate.RelativePath}: {reason}");
        }
    }

    /// <summary>One project's candidates (or one unparseable name) and their inspection results, filled in parallel.</summary>
    private sealed class ProjectBatch(List<ImportCandidate> candidates)
    {
        public List<ImportCandidate> Candidates { get; } = candidates;

        public CheckedFile?[] Inspected { get; } = new CheckedFile?[candidates.Count];

        public int Remaining = candidates.Count;
    }
}
