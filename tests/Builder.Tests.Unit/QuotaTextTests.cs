using Builder.Core.Builds;
using Builder.Index;

namespace Builder.Tests.Unit;

/// <summary>How a quota's messages write bytes, and the project a source tree names before it is built.</summary>
public sealed class QuotaTextTests
{
    [Theory]
    [InlineData(0, "0 bytes")]
    [InlineData(1, "1 byte")]
    [InlineData(1023, "1023 bytes")]
    [InlineData(1024, "1024 bytes (1 KiB)")]
    [InlineData(1536, "1536 bytes (1.5 KiB)")]
    [InlineData(40_000, "40000 bytes (39.1 KiB)")]
    [InlineData(10L * 1024 * 1024 * 1024, "10737418240 bytes (10 GiB)")]
    [InlineData(long.MaxValue, "9223372036854775807 bytes (8 EiB)")]
    public void Bytes_are_written_exactly_beside_a_binary_unit(long bytes, string expected) =>
        Assert.Equal(expected, ProjectQuotas.Describe(bytes));

    [Theory]
    [InlineData("[project]\nname = \"Acme_Billing\"\nversion = \"1.0\"\n", "acme-billing")]
    [InlineData("[project]\nname = \" acme.billing \"\n", "acme-billing")]
    [InlineData("[project]\ndynamic = [\"name\"]\n", null)]
    [InlineData("[project]\nname = \"-bad-\"\n", null)]
    [InlineData("[project]\nname = 3\n", null)]
    [InlineData("project = \"acme\"\n", null)]
    [InlineData("[tool.cibuildwheel]\nbuild = \"cp312-*\"\n", null)]
    [InlineData("[project\nname = \"acme\"", null)]
    [InlineData(null, null)]
    public void A_pyproject_names_its_project_only_in_a_valid_static_project_name(string? pyproject, string? expected) =>
        Assert.Equal(expected, PyprojectName.Read(pyproject));
}
