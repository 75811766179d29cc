using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Builder.Tests.Timing;

/// <summary>
/// xunit's own framework, plus two things:
/// <list type="bullet">
/// <item>a stopwatch around each test class (its class fixtures included): at the end of the run it writes one line per
/// class to <c>$BUILDER_TEST_TIMES/&lt;assembly&gt;.tsv</c> (default <c>TestResults/times</c> under the checkout), which
/// <c>scripts/test-times.py</c> reads (the slowest classes at the end of <c>./test.sh</c>, the table in
/// <c>tests/TIMES.md</c>);</item>
/// <item>with <see cref="ClassSchedulingAttribute"/> on the assembly, its own scheduler of test collections (see there):
/// so many at a time, the longest first, at most so many heavy ones at once, and a class's
/// <see cref="IClassPrerequisite"/>s waited for before it starts.</item>
/// </list>
/// How tests are found and how the tests of one collection run (one after another) is xunit's.
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

        protected override async Task<RunSummary> RunTestCollectionsAsync(IMessageBus messageBus, CancellationTokenSource cancellationTokenSource)
        {
            var scheduling = ((IReflectionAssemblyInfo)TestAssembly.Assembly).Assembly.GetCustomAttribute<ClassSchedulingAttribute>();
            if (scheduling is null)
            {
                return await base.RunTestCollectionsAsync(messageBus, cancellationTokenSource);
            }

            var scheduler = new CollectionScheduler(scheduling, OrderTestCollections(), (collection, cases) =>
                Task.Run(() => RunTestCollectionAsync(messageBus, collection, cases, cancellationTokenSource)), cancellationTokenSource.Token);
            return await scheduler.RunAsync();
        }

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
            var waited = Stopwatch.StartNew();
            foreach (var prerequisite in Prerequisites.Of(@class.Type))
            {
                // A prerequisite that fails fails the class's tests through the aggregator (with its message), as a
                // class fixture that cannot start does.
                await Aggregator.RunAsync(() => prerequisite.WaitAsync(CancellationTokenSource.Token));
            }

            waited.Stop();
            var started = DateTimeOffset.UtcNow;
            var stopwatch = Stopwatch.StartNew();
            var cpu = MachineCpu.Seconds();
            var summary = await base.RunTestClassAsync(testClass, @class, testCases);
            times.Add(new ClassTime(@class.Name, TestCollection.DisplayName, started, stopwatch.Elapsed, waited.Elapsed, MachineCpu.Seconds() - cpu, summary.Total, summary.Failed, summary.Skipped));
            return summary;
        }
    }

    private sealed record ClassTime(string Class, string Collection, DateTimeOffset Started, TimeSpan Elapsed, TimeSpan Waited, double Cpu, int Tests, int Failed, int Skipped);

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
            var directory = Environment.GetEnvironmentVariable("BUILDER_TEST_TIMES") is { Length: > 0 } configured ? configured : Path.Combine(Checkout.Root, "TestResults", "times");
            Directory.CreateDirectory(directory);
            var lines = new List<string> { "class\tcollection\tstarted\tseconds\twaited\tcpu\ttests\tfailed\tskipped" };
            lock (_times)
            {
                lines.AddRange(_times.OrderBy(t => t.Started).Select(t => string.Join('\t',
                    t.Class,
                    t.Collection,
                    t.Started.ToString("O", CultureInfo.InvariantCulture),
                    t.Elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture),
                    t.Waited.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture),
                    t.Cpu.ToString("F1", CultureInfo.InvariantCulture),
                    t.Tests.ToString(CultureInfo.InvariantCulture),
                    t.Failed.ToString(CultureInfo.InvariantCulture),
                    t.Skipped.ToString(CultureInfo.InvariantCulture))));
            }

            File.WriteAllLines(Path.Combine(directory, assembly + ".tsv"), lines);
        }
    }
}

/// <summary>
/// Runs the assembly's test collections (a class each, unless classes share a <c>[Collection]</c>) side by side under
/// <see cref="TimedTestFramework"/>'s scheduler:
/// <list type="bullet">
/// <item><see cref="Classes"/> collections at a time (<c>$BUILDER_TEST_CLASSES</c> overrides it; 1 runs them one after
/// another);</item>
/// <item>at most <see cref="HeavyClasses"/> of them carrying the trait <see cref="HeavyTrait"/> (<c>Name=Value</c>: the
/// ones that keep the CPUs busy, such as Docker builds), the others filling the remaining places;</item>
/// <item>the longest first by <c>tests/class-times.tsv</c> (a class it does not list counts as longest), so no long class
/// starts last; collections whose <see cref="IClassPrerequisite"/> is not ready yet come after those that can start.</item>
/// </list>
/// The collection fixtures and the tests of one collection still run one after another.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class ClassSchedulingAttribute(int classes, int heavyClasses, string heavyTrait) : Attribute
{
    public int Classes => classes;

    public int HeavyClasses => heavyClasses;

    public string HeavyTrait => heavyTrait;
}

/// <summary>
/// Something a test class needs before it may start (a build image made in the background, say), on an attribute of the
/// class. <see cref="TimedTestFramework"/> waits for it before the class's fixtures, outside the class's time.
/// </summary>
public interface IClassPrerequisite
{
    /// <summary>Whether <see cref="WaitAsync"/> would return at once (a cheap look, for ordering).</summary>
    bool IsReady { get; }

    /// <summary>Returns once the prerequisite holds; throws with a message naming what is missing when it cannot.</summary>
    Task WaitAsync(CancellationToken cancellationToken);
}

internal static class Prerequisites
{
    public static IEnumerable<IClassPrerequisite> Of(Type type) => type.GetCustomAttributes(inherit: true).OfType<IClassPrerequisite>();
}

/// <summary>
/// The CPU seconds the whole machine spent busy since boot (<c>/proc/stat</c>: every process, containers and servers
/// included). The difference over a class is what the class cost when classes run one at a time
/// (<c>BUILDER_TEST_CLASSES=1</c>); side by side, the classes' differences overlap.
/// </summary>
internal static class MachineCpu
{
    public static double Seconds()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // cpu user nice system idle iowait irq softirq steal ...: all but idle and iowait, in USER_HZ (100 a second).
            long[] busy = [.. new[] { 1, 2, 3, 6, 7, 8 }.Where(i => i < fields.Length).Select(i => long.Parse(fields[i], CultureInfo.InvariantCulture))];
            return busy.Sum() / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}

internal static class Checkout
{
    /// <summary>The checkout's root (the folder with Builder.sln), or the test output folder when there is none above it.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Builder.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? AppContext.BaseDirectory;
    }
}

/// <summary>The scheduler <see cref="ClassSchedulingAttribute"/> describes.</summary>
internal sealed class CollectionScheduler
{
    private readonly Lock _gate = new();
    private readonly List<Entry> _pending;
    private readonly int _workers;
    private readonly int _heavyLimit;
    private readonly Func<ITestCollection, List<IXunitTestCase>, Task<RunSummary>> _run;
    private readonly CancellationToken _cancellation;
    private readonly List<RunSummary> _summaries = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _heavyRunning;

    public CollectionScheduler(ClassSchedulingAttribute scheduling, IEnumerable<Tuple<ITestCollection, List<IXunitTestCase>>> collections, Func<ITestCollection, List<IXunitTestCase>, Task<RunSummary>> run, CancellationToken cancellation)
    {
        _workers = int.TryParse(Environment.GetEnvironmentVariable("BUILDER_TEST_CLASSES"), CultureInfo.InvariantCulture, out var classes) && classes > 0 ? classes : scheduling.Classes;
        _heavyLimit = Math.Min(scheduling.HeavyClasses, _workers);
        _run = run;
        _cancellation = cancellation;
        var weights = ClassWeights.Load();
        var (traitName, traitValue) = scheduling.HeavyTrait.Split('=', 2) is [var name, var value] ? (name, value) : (scheduling.HeavyTrait, string.Empty);
        _pending = collections
            .Select(c => new Entry(
                c.Item1,
                c.Item2,
                c.Item2.Select(t => t.TestMethod.TestClass.Class.Name).Distinct(StringComparer.Ordinal).Sum(weights.Of),
                c.Item2.Any(t => t.Traits.TryGetValue(traitName, out var values) && values.Contains(traitValue, StringComparer.Ordinal)),
                c.Item2.Select(t => t.TestMethod.TestClass.Class).OfType<IReflectionTypeInfo>().DistinctBy(t => t.Name).All(t => Prerequisites.Of(t.Type).All(p => p.IsReady))))
            .OrderByDescending(e => e.Ready)
            .ThenByDescending(e => e.Weight)
            .ToList();
    }

    public async Task<RunSummary> RunAsync()
    {
        await Task.WhenAll(Enumerable.Range(0, _workers).Select(_ => WorkAsync()));
        return new RunSummary
        {
            Total = _summaries.Sum(s => s.Total),
            Failed = _summaries.Sum(s => s.Failed),
            Skipped = _summaries.Sum(s => s.Skipped),
            Time = _summaries.Sum(s => s.Time),
        };
    }

    private async Task WorkAsync()
    {
        while (true)
        {
            Entry? next;
            Task changed;
            lock (_gate)
            {
                if (_pending.Count == 0 || _cancellation.IsCancellationRequested)
                {
                    return;
                }

                next = _pending.FirstOrDefault(e => !e.Heavy || _heavyRunning < _heavyLimit);
                changed = _changed.Task;
                if (next is not null)
                {
                    _pending.Remove(next);
                    _heavyRunning += next.Heavy ? 1 : 0;
                }
            }

            if (next is null)
            {
                await changed; // only heavy collections are left and their places are taken: wait for one to end
                continue;
            }

            try
            {
                var summary = await _run(next.Collection, next.TestCases);
                lock (_gate)
                {
                    _summaries.Add(summary);
                }
            }
            finally
            {
                lock (_gate)
                {
                    _heavyRunning -= next.Heavy ? 1 : 0;
                    var ended = _changed;
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    ended.SetResult();
                }
            }
        }
    }

    private sealed record Entry(ITestCollection Collection, List<IXunitTestCase> TestCases, double Weight, bool Heavy, bool Ready);
}

/// <summary>Each class's seconds in a representative run: <c>tests/class-times.tsv</c> (<c>scripts/test-times.py --save</c> writes it).</summary>
internal sealed class ClassWeights(Dictionary<string, double> seconds)
{
    /// <summary>A class the file does not name (new since) counts as the longest, so it is never the one that starts last.</summary>
    private const double Unknown = 1e6;

    public static ClassWeights Load()
    {
        var path = Path.Combine(Checkout.Root, "tests", "class-times.tsv");
        var seconds = new Dictionary<string, double>(StringComparer.Ordinal);
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path).Skip(1))
            {
                if (line.Split('\t') is [var name, var value, ..] && double.TryParse(value, CultureInfo.InvariantCulture, out var s))
                {
                    seconds[name] = s;
                }
            }
        }

        return new ClassWeights(seconds);
    }

    public double Of(string className) => seconds.TryGetValue(className, out var s) ? s : Unknown;
}
