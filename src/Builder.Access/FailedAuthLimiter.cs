using System.Collections.Concurrent;
using System.Net;
using Builder.Core.Access;
using Microsoft.Extensions.Options;

namespace Builder.Access;

/// <summary>
/// Counts failed authentications per source address in fixed windows: after <c>Builder:Access:FailedAuthLimit</c>
/// failures within <c>FailedAuthWindowSeconds</c>, the address gets 429 until the window ends, whatever it sends. Other
/// addresses are not affected. Per process (each web replica counts its own). Refused credentials, refused sign-ins and
/// refused webhook deliveries (no repository's secret signed them) count alike.
/// </summary>
public sealed class FailedAuthLimiter(IOptions<AccessOptions> options, AuditLog audit, TimeProvider time)
{
    private const int MaxAddresses = 100_000;

    private readonly ConcurrentDictionary<IPAddress, Window> _windows = new();

    /// <summary>Whether the address is blocked now; <paramref name="retryAfter"/> is when it may try again.</summary>
    public bool IsBlocked(IPAddress? address, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        // TryGetValue reads without a lock (IsEmpty or Count would take every lock of the dictionary on each request).
        if (!_windows.TryGetValue(address ?? IPAddress.None, out var window))
        {
            return false;
        }

        var now = time.GetUtcNow();
        lock (window)
        {
            if (window.Failures < options.Value.FailedAuthLimit || now >= window.Ends)
            {
                return false;
            }

            retryAfter = window.Ends - now;
            return true;
        }
    }

    /// <summary>
    /// Counts a failure of <paramref name="actor"/>'s <paramref name="address"/>; the one that reaches the limit is
    /// recorded in the audit log (<see cref="AuditActions.RateLimited"/>).
    /// </summary>
    public async Task RecordFailureAsync(IPAddress? address, AuditActor actor, CancellationToken cancellationToken)
    {
        if (RecordFailure(address))
        {
            await audit.RecordAsync(actor, AuditActions.RateLimited, AuditOutcomes.Refused,
                detail: $"{options.Value.FailedAuthLimit} failed authentications within {options.Value.FailedAuthWindowSeconds} s: this address gets 429 until the window ends",
                cancellationToken: cancellationToken);
        }
    }

    /// <summary>Counts a failure; true when this one reached the limit (the address is blocked from now on).</summary>
    public bool RecordFailure(IPAddress? address)
    {
        // No address (a Unix socket listener): all such requests share one count rather than escape it.
        address ??= IPAddress.None;
        var now = time.GetUtcNow();
        if (_windows.Count >= MaxAddresses)
        {
            foreach (var (key, old) in _windows)
            {
                if (old.Ends <= now)
                {
                    _windows.TryRemove(key, out _);
                }
            }
        }

        var window = _windows.GetOrAdd(address, _ => new Window());
        lock (window)
        {
            if (now >= window.Ends)
            {
                window.Ends = now + TimeSpan.FromSeconds(options.Value.FailedAuthWindowSeconds);
                window.Failures = 0;
            }

            window.Failures++;
            return window.Failures == options.Value.FailedAuthLimit;
        }
    }

    private sealed class Window
    {
        public DateTimeOffset Ends { get; set; }

        public int Failures { get; set; }
    }
}
