// The end-to-end tests share one Docker engine and two cores: run test classes one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

// Times each test class (fixtures included) for scripts/test-times.py.
[assembly: TestFramework("Builder.Tests.Timing.TimedTestFramework", "Builder.Tests.Integration")]
