namespace Builder.Index.Retention;

/// <summary>
/// One retention run at a time across every process of the installation (several web processes each run the schedule,
/// and an admin may ask for a run meanwhile), held for the whole run.
/// </summary>
public sealed class RetentionLock(IServiceScopeFactory scopes) : InstallationLock(scopes, LockKey)
{
    /// <summary>The PostgreSQL advisory lock key ("builder-retention" in ASCII, folded into 64 bits).</summary>
    private const long LockKey = 0x7265_7465_6e74_696f;
}
