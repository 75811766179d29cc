// Times each test class (fixtures included) for scripts/test-times.py.
[assembly: TestFramework("Builder.Tests.Timing.TimedTestFramework", "Builder.Tests.Unit")]
