using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Builder.Tests.Timing;

/// <summary>
/// xunit's own framework, plus a stopwatch around each test class (its class fixtures included): at the end of the run it
/// writes one line per class to <c>$BUILDER_TEST_TIMES/&lt;assembly&gt;.tsv</c> (default <c>TestResults/times</c> under the
/// checkout), which <c>scripts/test-times.py</c> reads (the slowest classes at the end of <c>./test.sh</c>, the table in
/// <c>tests/TIMES.md</c>). It changes nothing about how tests are found, ordered or run.
/// </summary>
public sealed class TimedTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new Executor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Executor(AssemblyName assemblyName, ISourceInformationProvider sourceInformationProvider, IMessageSink diagnosticMessageSink)
        : XunitTestFrameworkExecutor(assemblyName, sourceInformationProvider, diagnosticMessageSink)
    {
        protected override async void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
        {
            using var runner = new AssemblyRunner(TestAssembly, testCases, DiagnosticMessageSink, executionMessageSink, executionOptions);
            await runner.RunAsync();
        }
    }

    private sealed class AssemblyRunner(ITestAssembly testAssembly, IEnumerable<IXunitTestCase> testCases, IMessageSink diagnosticMessageSink, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
        : XunitTestAssemblyRunner(testAssembly, testCases, diagnosticMessageSink, executionMessageSink, executionOptions)
    {
        private readonly ClassTimes _times = new();

        protected override Task<RunSummary> RunTestCollectionAsync(IMessageBus messageBus, ITestCollection testCollection, IEnumerable<IXunitTestCase> testCases, CancellationTokenSource cancellationTokenSource) =>
            new CollectionRunner(_times, testCollection, testCases, DiagnosticMessageSink, messageBus, TestCaseOrderer, new ExceptionAggregator(Aggregator), cancellationTokenSource).RunAsync();

        protected override async Task BeforeTestAssemblyFinishedAsync()
        {
            await base.BeforeTestAssemblyFinishedAsync();
            _times.Write(TestAssembly.Assembly.Name.Split(',')[0]);
        }
    }

    private sealed class CollectionRunner(ClassTimes times, ITestCollection testCollection, IEnumerable<IXunitTestCase> testCases, IMessageSink diagnosticMessageSink, IMessageBus messageBus, ITestCaseOrderer testCaseOrderer, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
        : XunitTestCollectionRunner(testCollection, testCases, diagnosticMessageSink, messageBus, testCaseOrderer, aggregator, cancellationTokenSource)
    {
        protected override async Task<RunSummary> RunTestClassAsync(ITestClass testClass, IReflectionTypeInfo @class, IEnumerable<IXunitTestCase> testCases)
        {
            var started = DateTimeOffset.UtcNow;
            var stopwatch = Stopwatch.StartNew();
            var summary = await base.RunTestClassAsync(testClass, @class, testCases);
            times.Add(new ClassTime(@class.Name, TestCollection.DisplayName, started, stopwatch.Elapsed, summary.Total, summary.Failed, summary.Skipped));
            return summary;
        }
    }

    private sealed record ClassTime(string Class, string Collection, DateTimeOffset Started, TimeSpan Elapsed, int Tests, int Failed, int Skipped);

    private sealed class ClassTimes
    {
        private readonly List<ClassTime> _times = [];

        public void Add(ClassTime time)
        {
            lock (_times)
            {
                _times.Add(time);
            }
        }

        public void Write(string assembly)
        {
            var directory = Environment.GetEnvironmentVariable("BUILDER_TEST_TIMES") is { Length: > 0 } configured ? configured : Path.Combine(RepositoryRoot(), "TestResults", "times");
            Directory.CreateDirectory(directory);
            var lines = new List<string> { "class\tcollection\tstarted\tseconds\ttests\tfailed\tskipped" };
            lock (_times)
            {
                lines.AddRange(_times.OrderBy(t => t.Started).Select(t => string.Join('\t',
                    t.Class,
                    t.Collection,
                    t.Started.ToString("O", CultureInfo.InvariantCulture),
                    t.Elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture),
                    t.Tests.ToString(CultureInfo.InvariantCulture),
                    t.Failed.ToString(CultureInfo.InvariantCulture),
                    t.Skipped.ToString(CultureInfo.InvariantCulture))));
            }

            File.WriteAllLines(Path.Combine(directory, assembly + ".tsv"), lines);
        }

        private static string RepositoryRoot()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Builder.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? AppContext.BaseDirectory;
        }
    }
}
