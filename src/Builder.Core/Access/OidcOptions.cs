using System.ComponentModel.DataAnnotations;
using System.Net;
using Builder.Core.Configuration;

namespace Builder.Core.Access;

/// <summary>
/// Trusted publishing and reading (<c>Builder:Oidc</c>): the OpenID Connect issuers whose ID tokens a CI job may exchange
/// for a short-lived Builder token at <c>POST /api/oidc/mint-token</c>, for a trusted publisher an admin made.
/// </summary>
public sealed class OidcOptions : ISelfValidating
{
    public const string SectionName = "Builder:Oidc";

    /// <summary>The audience (<c>aud</c>) Builder expects in an ID token unless configured otherwise.</summary>
    public const string DefaultAudience = "builder";

    /// <summary>
    /// Issuers trusted to vouch for CI jobs (<c>Builder:Oidc:Issuers:0</c>), each exactly as its tokens' <c>iss</c> says:
    /// <c>https://token.actions.githubusercontent.com</c>, <c>https://gitlab.com</c>, a GitHub Enterprise or self-managed
    /// GitLab URL. <c>https://</c> only, but for <c>http://</c> on a loopback address (tests).
    /// </summary>
    public List<string> Issuers { get; set; } = [];

    /// <summary>What an ID token's <c>aud</c> must contain (<c>Builder:Oidc:Audience</c>).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Builder:Oidc:Audience must not be empty (default: builder).")]
    public string Audience { get; set; } = DefaultAudience;

    /// <summary>How long a minted token is valid (<c>Builder:Oidc:TokenMinutes</c>).</summary>
    [Range(1, 60, ErrorMessage = "Builder:Oidc:TokenMinutes must be between 1 and 60 (minutes a minted token is valid).")]
    public int TokenMinutes { get; set; } = 15;

    /// <summary>Whether <paramref name="issuer"/> is one of <see cref="Issuers"/> (exactly, as <c>iss</c> is compared).</summary>
    public bool Trusts(string issuer) => Issuers.Contains(issuer, StringComparer.Ordinal);

    public IEnumerable<string> Problems()
    {
        for (var i = 0; i < Issuers.Count; i++)
        {
            if (IssuerProblem(Issuers[i]) is { } problem)
            {
                yield return $"Builder:Oidc:Issuers:{i}: {problem}";
            }
        }
    }

    /// <summary>Why <paramref name="issuer"/> cannot be trusted, or null.</summary>
    public static string? IssuerProblem(string issuer)
    {
        if (!Uri.TryCreate(issuer, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http") || url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
        {
            return $"'{issuer}' is not an issuer URL (https://host[/path], no query, e.g. https://token.actions.githubusercontent.com)";
        }

        if (issuer.EndsWith('/'))
        {
            return $"'{issuer}' ends with '/': write the issuer exactly as its tokens' 'iss' claim does (e.g. https://gitlab.com)";
        }

        if (url.Scheme == "http" && !IsLoopback(url))
        {
            return $"'{issuer}' is plain http: an issuer's keys must come over https (http is accepted only on a loopback address)";
        }

        return null;
    }

    /// <summary>Whether <paramref name="url"/> names this machine by a loopback address (or localhost).</summary>
    public static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.IdnHost, out var address) && IPAddress.IsLoopback(address));
}
