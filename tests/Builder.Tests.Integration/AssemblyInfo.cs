using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Timing;

// xunit's own parallelism stays off: TimedTestFramework schedules the classes (see ClassSchedulingAttribute): four at a
// time, at most two of them running Docker builds ([DockerBuild]), the longest first. Most classes wait on processes,
// servers and containers rather than on the two CPUs; the builds are what keep the CPUs busy.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
[assembly: ClassScheduling(classes: 4, heavyClasses: 2, heavyTrait: DockerBuildAttribute.Trait + "=" + DockerBuildAttribute.Value)]

// Times each test class (fixtures included) for scripts/test-times.py.
[assembly: TestFramework("Builder.Tests.Timing.TimedTestFramework", "Builder.Tests.Integration")]
