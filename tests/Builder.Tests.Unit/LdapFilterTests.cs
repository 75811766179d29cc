using Builder.Ldap;

namespace Builder.Tests.Unit;

public sealed class LdapFilterTests
{
    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("*", @"\2a")]
    [InlineData("(", @"\28")]
    [InlineData(")", @"\29")]
    [InlineData(@"\", @"\5c")]
    [InlineData("\0", @"\00")]
    [InlineData("alice)(uid=*", @"alice\29\28uid=\2a")]
    [InlineData(@"a\2a", @"a\5c2a")] // an already-escaped-looking value is escaped again: the backslash is literal
    [InlineData("cn=Frank (Ops) *,ou=people", @"cn=Frank \28Ops\29 \2a,ou=people")]
    [InlineData("Érin Ümlaut", "Érin Ümlaut")] // RFC 4515 §3: other UTF-8 characters may stay as they are
    [InlineData("", "")]
    public void EscapeFilterValue_escapes_the_five_characters_of_RFC_4515(string value, string expected) =>
        Assert.Equal(expected, LdapPeopleDirectory.EscapeFilterValue(value));

    [Fact]
    public void The_user_filter_gets_the_escaped_name_and_keeps_its_other_braces()
    {
        Assert.Equal(@"(&(objectClass=user)(sAMAccountName=\2a))", LdapPeopleDirectory.UserFilter("(&(objectClass=user)(sAMAccountName={0}))", "*"));
        Assert.Equal("(&(uid=bob)(description={x}))", LdapPeopleDirectory.UserFilter("(&(uid={0})(description={x}))", "bob"));
    }

    [Fact]
    public void The_group_filter_escapes_the_DN_and_the_uid()
    {
        Assert.Equal(
            @"(|(member=cn=Frank \28Ops\29 \2a,dc=t)(uniqueMember=cn=Frank \28Ops\29 \2a,dc=t)(memberUid=fr\2a))",
            LdapPeopleDirectory.GroupFilter("cn=Frank (Ops) *,dc=t", "fr*"));
    }

    [Theory]
    [InlineData("ldap://ldap.example.com", "ldap.example.com", 389, false)]
    [InlineData("ldaps://ldap.example.com", "ldap.example.com", 636, true)]
    [InlineData("ldap://127.0.0.1:3899", "127.0.0.1", 3899, false)]
    [InlineData("LDAPS://dc1.corp.example:3269/", "dc1.corp.example", 3269, true)]
    [InlineData("ldap://[::1]:10389", "[::1]", 10389, false)]
    public void An_ldap_or_ldaps_URL_gives_host_port_and_TLS(string url, string host, int port, bool secure)
    {
        Assert.True(LdapEndpoint.TryParse(url, out var endpoint, out _));
        Assert.Equal(new LdapEndpoint(host, port, secure), endpoint);
        Assert.Equal($"{host}:{port}", endpoint.Server);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ldap.example.com")]
    [InlineData("http://ldap.example.com")]
    public void Anything_else_is_refused_with_a_reason(string? url)
    {
        Assert.False(LdapEndpoint.TryParse(url, out _, out var problem));
        Assert.Contains("Builder:Access:Ldap:Url", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Credentials_in_the_URL_never_reach_the_logged_form()
    {
        Assert.True(LdapEndpoint.TryParse("ldap://admin:hunter2@ldap.example.com", out var endpoint, out _));
        Assert.Equal("ldap://ldap.example.com:389", endpoint.ToString());
    }
}
