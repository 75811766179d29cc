using System.Text;
using Builder.Core.Builds;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Pipeline;

/// <summary>
/// Build output kept in the database (so any web process can serve it, whichever worker built), written in chunks
/// about twice a second so readers see lines while the build runs.
/// </summary>
/// <remarks>
/// Disposing writes the attempt's last chunk and then an empty one (<see cref="BuildLogChunk.IsEndOfAttempt"/>).
/// The job disposes the log after recording the final state, so a follower that sees a finished build needs that
/// marker to know the closing lines ("[builder] published ...") are stored: one marker per attempt.
/// </remarks>
public sealed class DbBuildLog : IBuildLog, IAsyncDisposable
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(500);

    private readonly IDbContextFactory<BuilderDbContext> _contexts;
    private readonly long _buildId;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _flusher;
    private StringBuilder _pending = new();

    public DbBuildLog(IDbContextFactory<BuilderDbContext> contexts, long buildId)
    {
        _contexts = contexts;
        _buildId = buildId;
        _flusher = Task.Run(FlushLoopAsync);
    }

    public void WriteLine(string line)
    {
        lock (_gate)
        {
            _pending.Append(line).Append('\n');
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _flusher;
        }
        catch (OperationCanceledException)
        {
            // The loop ends by cancellation; the final flush below writes what is left.
        }

        // The last lines, then the marker (a reader that has the marker has every line of the attempt). The database
        // may be away right now (a restart): both are tried a few times, and never fail the job that wrote them.
        for (var attempt = 1; attempt <= FinalAttempts; attempt++)
        {
            try
            {
                await FlushAsync(CancellationToken.None);
                await SaveAsync(string.Empty, CancellationToken.None);
                break;
            }
            catch (Exception) when (attempt < FinalAttempts)
            {
                await Task.Delay(RetryDelay);
            }
            catch (Exception)
            {
                // Lost after every attempt: a reader takes the log as complete SettleTime after the build ended.
            }
        }

        _stop.Dispose();
    }

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private const int FinalAttempts = 8;

    private async Task FlushLoopAsync()
    {
        using var timer = new PeriodicTimer(FlushInterval);
        while (await timer.WaitForNextTickAsync(_stop.Token))
        {
            try
            {
                // Only the wait is cancelled: lines taken for a save are saved, not lost to a stop in the middle of it.
                await FlushAsync(CancellationToken.None);
            }
            catch (Exception)
            {
                // The database is away: the lines went back to the front of the queue; the next tick tries again.
            }
        }
    }

    /// <summary>Saves the pending lines as one chunk; when that fails they go back in front of lines written since.</summary>
    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        StringBuilder chunk;
        lock (_gate)
        {
            if (_pending.Length == 0)
            {
                return;
            }

            chunk = _pending;
            _pending = new StringBuilder();
        }

        try
        {
            await SaveAsync(chunk.ToString(), cancellationToken);
        }
        catch
        {
            lock (_gate)
            {
                _pending = chunk.Append(_pending);
            }

            throw;
        }
    }

    // One chunk at a time per writer. A build has several writers (its plan and parts), so chunk ids of a build may
    // commit out of order; BuildLogStream looks back for late ones.
    private async Task SaveAsync(string text, CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        db.BuildLogChunks.Add(new BuildLogChunk { BuildId = _buildId, Text = text });
        await db.SaveChangesAsync(cancellationToken);
    }
}
