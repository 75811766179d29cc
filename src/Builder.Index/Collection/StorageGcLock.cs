namespace Builder.Index.Collection;

/// <summary>
/// One garbage collection at a time across every process of the installation (a scheduled one and an admin's alike),
/// tried rather than waited for: a process that finds it taken leaves the round to the holder.
/// </summary>
public sealed class StorageGcLock(IServiceScopeFactory scopes) : InstallationLock(scopes, AdvisoryKey)
{
    /// <summary>The advisory lock's key ("STORAGEG").</summary>
    public const long AdvisoryKey = 0x53544f5241474547;
}
