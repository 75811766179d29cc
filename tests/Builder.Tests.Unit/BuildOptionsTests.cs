using System.ComponentModel.DataAnnotations;
using Builder.Core.Configuration;

namespace Builder.Tests.Unit;

public sealed class BuildOptionsTests
{
    private static List<ValidationResult> Validate(object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    [Fact]
    public void Default_options_use_the_local_images_and_are_valid()
    {
        var options = new BuildOptions();

        Assert.Empty(options.Problems());
        Assert.Equal("builder-local/manylinux-x86_64:latest", options.Images["x86_64"]);
        Assert.Equal("builder-local/manylinux-aarch64:latest", options.Images["aarch64"]);
    }

    [Fact]
    public void Options_without_images_name_the_missing_x86_64_image()
    {
        var problem = Assert.Single(new BuildOptions { Images = [] }.Problems());

        Assert.Contains("Builder:Build:Images:x86_64", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_architecture_is_x86_64()
    {
        Assert.Equal(["x86_64"], new BuildOptions().EffectiveArchitectures);
    }

    [Fact]
    public void Valid_default_architecture_has_no_problems()
    {
        var options = new BuildOptions { Images = { ["x86_64"] = "builder/x86_64:1" } };

        Assert.Empty(options.Problems());
    }

    [Fact]
    public void Valid_two_architecture_configuration_has_no_problems()
    {
        var options = new BuildOptions
        {
            Architectures = ["x86_64", "aarch64"],
            Images = { ["x86_64"] = "builder/x86_64:1", ["aarch64"] = "builder/aarch64:1" },
        };

        Assert.Empty(options.Problems());
    }

    [Fact]
    public void Only_the_listed_architectures_need_images()
    {
        var options = new BuildOptions { Architectures = ["aarch64"], Images = { ["aarch64"] = "builder/aarch64:1" } };

        Assert.Empty(options.Problems());
    }

    [Fact]
    public void Missing_image_of_a_second_architecture_is_named()
    {
        var options = new BuildOptions
        {
            Architectures = ["x86_64", "aarch64"],
            Images = new() { ["x86_64"] = "builder/x86_64:1" },
        };

        var problem = Assert.Single(options.Problems());
        Assert.Contains("Builder:Build:Images:aarch64", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Blank_image_is_a_problem(string image)
    {
        var options = new BuildOptions { Images = { ["x86_64"] = image } };

        var problem = Assert.Single(options.Problems());
        Assert.Contains("Builder:Build:Images:x86_64", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("arm64")]
    [InlineData("amd64")]
    [InlineData("X86_64")]
    public void Unknown_architecture_is_named(string arch)
    {
        var options = new BuildOptions { Architectures = [arch], Images = { [arch] = "builder/any:1" } };

        var problem = Assert.Single(options.Problems());
        Assert.Contains($"'{arch}'", problem, StringComparison.Ordinal);
        Assert.Contains("Builder:Build:Architectures", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported()
    {
        var options = new BuildOptions { Architectures = ["x86_64", "riscv64", "aarch64"], Images = [] };

        var problems = options.Problems().ToList();

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains("Builder:Build:Images:x86_64", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'riscv64'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Builder:Build:Images:aarch64", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(9, false)]
    [InlineData(10, true)]
    [InlineData(3600, true)]
    [InlineData(86_400, true)]
    [InlineData(86_401, false)]
    public void Timeout_must_be_between_10_seconds_and_a_day(int seconds, bool valid)
    {
        var results = Validate(new BuildOptions { TimeoutSeconds = seconds });

        Assert.Equal(valid, results.Count == 0);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("fifteen-chars-x", false)]
    [InlineData("sixteen-chars-xx", true)]
    public void Admin_token_must_be_at_least_16_characters(string token, bool valid)
    {
        var results = Validate(new AdminOptions { AdminToken = token });

        Assert.Equal(valid, results.Count == 0);
    }

    [Fact]
    public void Default_pythons_are_cp38_to_cp313_and_sdist_is_on()
    {
        var options = new BuildOptions();

        Assert.Equal(["cp38", "cp39", "cp310", "cp311", "cp312", "cp313"], options.EffectivePythons);
        Assert.True(options.Sdist);
    }

    [Theory]
    [InlineData("3.11")]
    [InlineData("cp311-cp311")]
    [InlineData("pp310")]
    [InlineData("cp2")]
    public void A_python_that_is_not_a_cp3_tag_is_named(string python)
    {
        var problem = Assert.Single(new BuildOptions { Pythons = ["cp311", python] }.Problems());

        Assert.Contains($"Builder:Build:Pythons names '{python}'", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://index.example/")]
    [InlineData("/simple/")]
    [InlineData("http://web:8080/?token=1")]
    public void An_index_url_that_is_not_an_absolute_http_url_is_named(string url)
    {
        var problem = Assert.Single(new BuildOptions { IndexUrl = url }.Problems());

        Assert.StartsWith("Builder:Build:IndexUrl must be an absolute http(s) URL", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://web:8080/")]
    [InlineData("https://builder.example.com/prefix/")]
    public void Http_index_urls_are_valid(string url)
    {
        Assert.Empty(new BuildOptions { IndexUrl = url }.Problems());
    }

    [Fact]
    public void An_index_url_with_credentials_is_refused_builds_present_their_own()
    {
        var problem = Assert.Single(new BuildOptions { IndexUrl = "http://worker:s3cret@web:8080/" }.Problems());

        Assert.StartsWith("Builder:Build:IndexUrl must not carry credentials", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_relay_directory_too_long_for_socket_paths_is_named()
    {
        var problem = Assert.Single(new BuildOptions { RelayDir = "/" + new string('r', 83) }.Problems());

        Assert.StartsWith("Builder:Build:RelayDir '/rrr", problem, StringComparison.Ordinal);
        Assert.Contains("at most 83 bytes", problem, StringComparison.Ordinal);
        Assert.Empty(new BuildOptions { RelayDir = "/" + new string('r', 82) }.Problems());
    }
}
