using System.Globalization;
using System.Runtime.InteropServices;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// A thread of this test process that waits in poll(2) on a TCP connection, found through /proc (Linux): the connection's
/// socket inode in /proc/net/tcp, its descriptor in /proc/self/fd, and the thread whose current system call
/// (/proc/self/task/N/syscall) is poll or ppoll over that descriptor. For tests of what native code does when a signal
/// interrupts its wait.
/// </summary>
internal sealed partial class WaitingThread
{
    public const int SigChld = 17;

    private WaitingThread(int id) => Id = id;

    public int Id { get; }

    /// <summary>Waits (up to <paramref name="timeout"/>) until a thread polls the loopback connection whose local port is <paramref name="localPort"/>.</summary>
    public static async Task<WaitingThread> InPollOnAsync(int localPort, TimeSpan timeout)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("WaitingThread reads /proc");
        }

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            // Nothing announces that a native call entered poll: look until it has.
            if (SocketDescriptor(localPort) is { } descriptor && ThreadPolling(descriptor) is { } thread)
            {
                return new WaitingThread(thread);
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no thread of this process polled the connection from port {localPort} within {timeout}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Sends <paramref name="signal"/> to this thread alone (tgkill(2)).</summary>
    public void Signal(int signal)
    {
        if (TgKill(Environment.ProcessId, Id, signal) != 0)
        {
            throw new InvalidOperationException($"tgkill({Environment.ProcessId}, {Id}, {signal}) failed: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    private static int? SocketDescriptor(int localPort)
    {
        var port = localPort.ToString("X4", CultureInfo.InvariantCulture);
        // "sl local_address rem_address st ... uid timeout inode": addresses are HEXIP:HEXPORT.
        var inode = File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length > 9 && fields[1].EndsWith($":{port}", StringComparison.Ordinal))
            .Select(fields => fields[9])
            .FirstOrDefault();
        if (inode is null)
        {
            return null;
        }

        foreach (var link in Directory.EnumerateFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(link).LinkTarget == $"socket:[{inode}]")
                {
                    return int.Parse(Path.GetFileName(link), CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
                // Closed while we looked.
            }
        }

        return null;
    }

    private static int? ThreadPolling(int descriptor)
    {
        // poll and ppoll on x86_64, ppoll on aarch64 (which has no poll).
        int[] pollCalls = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? [73] : [7, 271];
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string[] call;
            try
            {
                // "NR arg1 arg2 ... sp pc" while in a system call; "running" or "-1 ..." otherwise.
                call = File.ReadAllText(Path.Combine(task, "syscall")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (IOException)
            {
                continue;
            }

            if (call.Length < 3 || !int.TryParse(call[0], CultureInfo.InvariantCulture, out var number) || !pollCalls.Contains(number))
            {
                continue;
            }

            // The first two arguments: struct pollfd *fds (int fd; short events; short revents) and its length, read
            // through /proc/self/mem (an address that is gone by then is an IOException there, not a crash).
            var fds = Convert.ToInt64(call[1], 16);
            var count = (int)Math.Min(Convert.ToInt64(call[2], 16), 64);
            var pollFds = new byte[count * 8];
            try
            {
                using var memory = new FileStream("/proc/self/mem", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
                memory.Seek(fds, SeekOrigin.Begin);
                memory.ReadExactly(pollFds);
            }
            catch (IOException)
            {
                continue;
            }

            for (var i = 0; i < count; i++)
            {
                if (BitConverter.ToInt32(pollFds, i * 8) == descriptor)
                {
                    return int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
                }
            }
        }

        return null;
    }

    [LibraryImport("libc", EntryPoint = "tgkill", SetLastError = true)]
    private static partial int TgKill(int processId, int threadId, int signal);
}
