using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// Every line the app logs in the test host, formatted as the console would write its message (with the exception's
/// text), for tests about what reaches an operator's log: register it with <c>services.AddSingleton&lt;ILoggerProvider&gt;(log)</c>.
/// </summary>
internal sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? string.Empty : Environment.NewLine + exception)}");
    }
}
