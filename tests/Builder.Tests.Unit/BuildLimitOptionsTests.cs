using System.ComponentModel.DataAnnotations;
using Builder.Core.Configuration;

namespace Builder.Tests.Unit;

public sealed class BuildLimitOptionsTests
{
    private static List<string> Errors(BuildOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage ?? ""), .. options.Problems()];
    }

    [Fact]
    public void Defaults_are_4_GiB_2_CPUs_4096_pids_and_the_machine_name()
    {
        var options = new BuildOptions();

        Assert.Empty(Errors(options));
        Assert.Equal(4096, options.MemoryMiB);
        Assert.Equal(2.0, options.Cpus);
        Assert.Equal(4096, options.PidsLimit);
        Assert.Equal(Environment.MachineName, options.WorkerName);
    }

    [Theory]
    [InlineData(63, "Builder:Build:MemoryMiB")]
    [InlineData(0, "Builder:Build:MemoryMiB")]
    public void Too_little_memory_names_the_setting(int mib, string expected)
    {
        Assert.Contains(Errors(new BuildOptions { MemoryMiB = mib }), e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(2000.0)]
    public void Cpus_out_of_range_name_the_setting(double cpus)
    {
        Assert.Contains(Errors(new BuildOptions { Cpus = cpus }), e => e.Contains("Builder:Build:Cpus", StringComparison.Ordinal));
    }

    [Fact]
    public void Fractional_cpus_are_valid()
    {
        Assert.Empty(Errors(new BuildOptions { Cpus = 1.5 }));
    }

    [Fact]
    public void A_tiny_pids_limit_names_the_setting()
    {
        Assert.Contains(Errors(new BuildOptions { PidsLimit = 5 }), e => e.Contains("Builder:Build:PidsLimit", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("a\nb")]
    public void A_blank_worker_name_names_the_setting(string name)
    {
        Assert.Contains(Errors(new BuildOptions { WorkerName = name }), e => e.Contains("Builder:Build:WorkerName", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(2048, "2 GiB")]
    [InlineData(1024, "1 GiB")]
    [InlineData(256, "256 MiB")]
    [InlineData(1536, "1536 MiB")]
    [InlineData(4096, "4 GiB")]
    public void Memory_is_shown_in_whole_GiB_else_MiB(long mib, string expected)
    {
        Assert.Equal(expected, BuildOptions.FormatMemory(mib));
    }
}
