using System.Runtime.InteropServices;

namespace Builder.Storage;

/// <summary>link(2): a second name for a file's bytes on the same file system, made without copying them.</summary>
internal static partial class HardLink
{
    /// <summary>True when <paramref name="link"/> now names <paramref name="existing"/>'s bytes; false where the system refuses (another file system, no hard links, not Unix).</summary>
    public static bool TryCreate(string existing, string link) => !OperatingSystem.IsWindows() && Link(existing, link) == 0;

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string link);
}
