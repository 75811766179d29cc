using System.Diagnostics.CodeAnalysis;

namespace Builder.Ldap;

/// <summary>The server named by <c>Builder:Access:Ldap:Url</c>: <c>ldap://host[:port]</c> or <c>ldaps://host[:port]</c>.</summary>
internal sealed record LdapEndpoint(string Host, int Port, bool Secure)
{
    /// <summary>
    /// What <see cref="System.DirectoryServices.Protocols.LdapDirectoryIdentifier"/> gets. On Linux it appends its own
    /// port only to a name without a colon, so the port goes in the name; that is also what an IPv6 literal
    /// (<c>[::1]</c>, which has colons) needs.
    /// </summary>
    public string Server => $"{Host}:{Port}";

    /// <summary>The URL as logged: scheme, host and port only, so credentials someone put in the URL never reach a log.</summary>
    public override string ToString() => $"{(Secure ? "ldaps" : "ldap")}://{Host}:{Port}";

    public static bool TryParse(string? url, [NotNullWhen(true)] out LdapEndpoint? endpoint, [NotNullWhen(false)] out string? problem)
    {
        endpoint = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            problem = "Builder:Access:Ldap:Url is not set";
            return false;
        }

        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            problem = "Builder:Access:Ldap:Url is not an absolute URL like ldap://host:389 or ldaps://host:636";
            return false;
        }

        bool secure;
        if (string.Equals(uri.Scheme, "ldap", StringComparison.OrdinalIgnoreCase))
        {
            secure = false;
        }
        else if (string.Equals(uri.Scheme, "ldaps", StringComparison.OrdinalIgnoreCase))
        {
            secure = true;
        }
        else
        {
            problem = $"Builder:Access:Ldap:Url has the scheme '{uri.Scheme}'; it must be ldap or ldaps";
            return false;
        }

        // RFC 4516 §2: 389 when the URL names no port; 636 is the registered port of LDAP over TLS (ldaps).
        // System.Uri knows ldap's default but not ldaps', for which Port is -1.
        var port = uri.IsDefaultPort || uri.Port <= 0 ? (secure ? 636 : 389) : uri.Port;
        endpoint = new LdapEndpoint(uri.Host, port, secure);
        problem = null;
        return true;
    }
}
