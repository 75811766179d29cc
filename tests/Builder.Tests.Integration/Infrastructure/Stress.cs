using System.Globalization;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// How hard the stress loops push (the race of a tag deletion with the publication, the fan-out of releases to two
/// workers): their CI size, which still catches the bug each was written for, times <c>$BUILDER_TEST_STRESS</c>
/// (a whole number, default 1) for deeper runs by hand, e.g. <c>BUILDER_TEST_STRESS=10 ./test.sh --filter
/// FullyQualifiedName~WorkerFaultTests</c>.
/// </summary>
internal static class Stress
{
    public static int Factor { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("BUILDER_TEST_STRESS"), CultureInfo.InvariantCulture, out var factor) && factor > 0 ? factor : 1;

    /// <summary>The rounds of a loop whose CI size is <paramref name="ciSize"/>.</summary>
    public static int Rounds(int ciSize) => ciSize * Factor;
}
