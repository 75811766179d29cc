using System.Net;
using Builder.Core.Forges;
using Microsoft.Extensions.Options;

namespace Builder.Tests.Unit;

public sealed class RepositoryAddressesTests
{
    private static RepositoryAddresses Policy(params string[] allowedHosts) => new(Options.Create(new RepositoryOptions { AllowedHosts = [.. allowedHosts] }), new DnsHostNameResolver());

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("169.254.0.1")]
    [InlineData("fe80::1")]
    [InlineData("febf::1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("fd00:ec2::254")]
    [InlineData("100.100.100.200")]
    public void Link_local_and_metadata_addresses_are_refused(string address) =>
        Assert.NotNull(RepositoryAddresses.Refused(IPAddress.Parse(address)));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("10.0.0.7")]
    [InlineData("192.168.1.20")]
    [InlineData("169.253.255.255")]
    [InlineData("169.255.0.1")]
    [InlineData("fec0::1")]
    [InlineData("140.82.112.3")]
    public void Loopback_private_and_public_addresses_are_allowed(string address) =>
        Assert.Null(RepositoryAddresses.Refused(IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/", "'cloneUrl': 169.254.169.254 is a link-local address")]
    [InlineData("http://2852039166/a.git", "'cloneUrl': 169.254.169.254 is a link-local address")]
    [InlineData("http://0xA9FEA9FE/a.git", "'cloneUrl': 169.254.169.254 is a link-local address")]
    [InlineData("http://[fe80::1%25eth0]/a.git", "'cloneUrl': fe80::1 is a link-local address")]
    [InlineData("http://[::ffff:169.254.169.254]/a.git", "'cloneUrl': ::ffff:169.254.169.254 is a link-local address")]
    [InlineData("http://metadata.google.internal./computeMetadata/v1/", "'cloneUrl': metadata.google.internal is a cloud metadata host name")]
    [InlineData("http://INSTANCE-DATA/latest/", "'cloneUrl': instance-data is a cloud metadata host name")]
    public void Urls_naming_a_refused_address_or_metadata_name_are_refused(string url, string problem) =>
        Assert.StartsWith(problem, Policy().Problem("cloneUrl", url), StringComparison.Ordinal);

    [Theory]
    [InlineData("https://github.com/acme/app.git")]
    [InlineData("http://127.0.0.1:8080/acme/app.git")]
    [InlineData("http://[::1]:3000/acme/app.git")]
    [InlineData("https://git.internal.example/acme/app.git")]
    [InlineData("file:///srv/git/app.git")]
    public void Other_urls_are_allowed_when_no_hosts_are_listed(string url) => Assert.Null(Policy().Problem("cloneUrl", url));

    [Fact]
    public void Oversized_urls_and_control_characters_are_refused_naming_the_field()
    {
        Assert.Equal("'apiUrl' is longer than 2048 characters", Policy().Problem("apiUrl", "https://gitlab.example/" + new string('a', 2040)));
        Assert.Equal("'cloneUrl' has control characters", Policy().Problem("cloneUrl", "https://github.com/acme/\u0000app.git"));
    }

    [Theory]
    [InlineData("https://github.com/acme/app.git", true)]
    [InlineData("https://GitHub.com./acme/app.git", true)]
    [InlineData("https://git.example.com/acme/app.git", true)]
    [InlineData("https://a.b.example.com/acme/app.git", true)]
    [InlineData("https://example.com/acme/app.git", false)]
    [InlineData("https://evilexample.com/acme/app.git", false)]
    [InlineData("https://github.com.evil.test/acme/app.git", false)]
    [InlineData("http://127.0.0.1/acme/app.git", false)]
    [InlineData("file:///srv/git/app.git", false)]
    public void Allowed_hosts_are_exact_names_or_any_name_under_a_star_pattern(string url, bool allowed)
    {
        var problem = Policy("github.com", "*.example.com").Problem("cloneUrl", url);
        Assert.True(allowed == (problem is null), problem ?? "allowed");
    }

    [Fact]
    public void A_name_that_resolves_to_a_refused_address_is_refused()
    {
        Assert.Equal(
            "'cloneUrl': git.internal resolves to 169.254.169.254, a link-local address (where clouds answer instance metadata); Builder does not reach it",
            RepositoryAddresses.ResolvedProblem("cloneUrl", "git.internal", [IPAddress.Parse("10.0.0.5"), IPAddress.Parse("169.254.169.254")]));
        Assert.Null(RepositoryAddresses.ResolvedProblem("cloneUrl", "git.internal", [IPAddress.Parse("10.0.0.5"), IPAddress.Loopback]));
    }

    [Fact]
    public void Allowed_hosts_that_are_not_host_names_stop_the_start_naming_the_entry()
    {
        var problems = new RepositoryOptions { AllowedHosts = ["github.com", "https://gitlab.example/", "*.example.com", "git example"] }.Problems().ToList();

        Assert.Equal(2, problems.Count);
        Assert.StartsWith("Builder:Repositories:AllowedHosts:1 ('https://gitlab.example/')", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("Builder:Repositories:AllowedHosts:3 ('git example')", problems[1], StringComparison.Ordinal);
    }
}
