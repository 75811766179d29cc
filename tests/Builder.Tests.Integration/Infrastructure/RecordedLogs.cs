using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>One log entry a test host wrote: its level, category, message and exception.</summary>
internal sealed record LogEntry(LogLevel Level, string Category, string Message, Exception? Exception)
{
    public override string ToString() => $"{Level} {Category}: {Message}{(Exception is null ? string.Empty : " " + Exception.GetType().Name + ": " + Exception.Message)}";

    /// <summary>The entry as the console would write it: its message, and the exception's whole text.</summary>
    public string Line => $"{Level} {Category}: {Message}{(Exception is null ? string.Empty : Environment.NewLine + Exception)}";
}

/// <summary>
/// What a test host logs (every level), kept for the test to read: what reaches an operator's log, and its failures
/// (the console logger prints an Error or Critical entry as a <c>fail:</c> line, which an operator reads as "something is
/// broken").
/// </summary>
public sealed class RecordedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    internal IReadOnlyList<LogEntry> Entries => [.. _entries];

    /// <summary>Entries at Error or Critical level: the console's <c>fail:</c> and <c>crit:</c> lines.</summary>
    internal IReadOnlyList<LogEntry> Failures => [.. _entries.Where(e => e.Level >= LogLevel.Error)];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(RecordedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                logs._entries.Enqueue(new LogEntry(logLevel, category, formatter(state, exception), exception));
            }
        }
    }
}
