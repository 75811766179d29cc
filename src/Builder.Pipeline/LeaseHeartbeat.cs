namespace Builder.Pipeline;

/// <summary>
/// Keeps a run's lease alive while it works: every heartbeat interval it calls <c>beat</c>; the first time that says the
/// lease is gone (taken over, or the build ended), <see cref="Lost"/> fires, so the run stops its containers and ends.
/// A beat that fails (the database briefly gone) is tried again next interval: a lease survives two missed beats.
/// </summary>
public sealed class LeaseHeartbeat : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly Task _loop;

    public LeaseHeartbeat(TimeSpan interval, Func<CancellationToken, Task<bool>> beat, TimeProvider time)
    {
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(interval, time);
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token))
                {
                    bool held;
                    try
                    {
                        held = await beat(_stop.Token);
                    }
                    catch (Exception) when (!_stop.IsCancellationRequested)
                    {
                        continue; // a fault is not a lost lease: the next beat tries again
                    }

                    if (!held)
                    {
                        await _lost.CancelAsync();
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        });
    }

    /// <summary>Fires when the lease is no longer this run's.</summary>
    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _lost.Dispose();
    }
}

/// <summary>A run found that its lease is no longer its own (taken over, or the build ended): it stops, nothing is recorded.</summary>
public sealed class LeaseLostException : OperationCanceledException
{
    public LeaseLostException(string message)
        : base(message)
    {
    }

    public LeaseLostException()
    {
    }

    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
