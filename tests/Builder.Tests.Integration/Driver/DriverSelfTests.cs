using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Driver;

/// <summary>
/// Runs build-images/driver/test_builder_driver.py (the driver's own unit tests: identifiers, environment evaluation,
/// auditwheel detection and repair with a fake auditwheel) with the oldest and newest Python the driver supports.
/// </summary>
public sealed class DriverSelfTests
{
    [Theory]
    [InlineData("3.8")]
    [InlineData("3.13")]
    public async Task The_driver_unit_tests_pass(string python)
    {
        var driverDirectory = Path.Combine(TestPaths.RepositoryRoot, "build-images", "driver");
        var result = await Shell.RunAsync(Pip.PythonExecutable(python),
            ["-B", "-m", "unittest", "discover", "-v", "-s", driverDirectory, "-p", "test_*.py"], driverDirectory);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Matches(@"Ran \d{2,} tests", result.Output);
    }
}
