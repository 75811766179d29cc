using System.Globalization;
using System.Text;
using System.Text.Json;
using Builder.Core.Access;
using Microsoft.Extensions.Options;

namespace Builder.Access.Oidc;

/// <summary>An ID token whose signature, issuer, audience and times were checked: who the CI job is.</summary>
/// <param name="Claims">Every top-level claim with a text, number or boolean value, as text ("true" for true).</param>
public sealed record VerifiedIdToken(string Issuer, string Subject, string Jti, DateTimeOffset ExpiresAt, IReadOnlyDictionary<string, string> Claims);

/// <summary>The outcome of <see cref="IdTokens.VerifyAsync"/>: the token, or the status and the reason (which check failed).</summary>
public sealed record IdTokenCheck(VerifiedIdToken? Token, int Status, string? Problem)
{
    public static IdTokenCheck Refused(string problem) => new(null, 401, problem);
}

/// <summary>
/// Checks a CI platform's OpenID Connect ID token (a JWT): its algorithm (RS256 or ES256; <c>none</c> and HMAC are
/// refused), its issuer (exactly one of <see cref="OidcOptions.Issuers"/>), its signature (with the issuer's published
/// keys, <see cref="IssuerKeys"/>), its audience (<see cref="OidcOptions.Audience"/>) and its times (<c>exp</c>,
/// <c>nbf</c>, <c>iat</c>, each with at most a minute of skew). Every refusal starts with the check that failed and never
/// repeats the token. Whether the token was used before is the caller's check (it needs the database).
/// </summary>
public sealed class IdTokens(IOptions<OidcOptions> options, IssuerKeys keys, TimeProvider time)
{
    public const string RS256 = "RS256";
    public const string ES256 = "ES256";

    /// <summary>How far a token's times may disagree with Builder's clock.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromSeconds(60);

    /// <summary>Longer than any ID token a CI platform issues (GitHub's are about 1 KB), short enough to parse cheaply.</summary>
    public const int MaxLength = 16 * 1024;

    public async Task<IdTokenCheck> VerifyAsync(string jwt, CancellationToken cancellationToken)
    {
        if (jwt.Length > MaxLength)
        {
            return IdTokenCheck.Refused($"malformed: the token is longer than {MaxLength} characters");
        }

        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return IdTokenCheck.Refused("malformed: an ID token is a JWT, three base64url parts separated by '.'");
        }

        using var header = ParseJson(parts[0]);
        using var payload = ParseJson(parts[1]);
        var signature = DecodeBase64Url(parts[2]);
        if (header is null || payload is null || signature is null)
        {
            return IdTokenCheck.Refused("malformed: the token's header and claims must be base64url-encoded JSON objects");
        }

        var alg = Text(header.RootElement, "alg");
        if (alg is null || alg.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return IdTokenCheck.Refused("signature: the token is not signed (alg 'none'); Builder accepts RS256 and ES256 only");
        }

        if (alg is not (RS256 or ES256))
        {
            return IdTokenCheck.Refused($"signature: algorithm '{Shown(alg)}' is not accepted; Builder accepts RS256 and ES256 only");
        }

        if (header.RootElement.TryGetProperty("crit", out _))
        {
            return IdTokenCheck.Refused("signature: the token's header has critical extensions ('crit'), which Builder does not understand");
        }

        var claims = payload.RootElement;
        var issuer = Text(claims, "iss");
        if (issuer is null)
        {
            return IdTokenCheck.Refused("malformed: the token has no issuer ('iss')");
        }

        var settings = options.Value;
        if (!settings.Trusts(issuer))
        {
            return IdTokenCheck.Refused($"issuer: '{Shown(issuer)}' is not a trusted issuer (Builder__Oidc__Issuers)");
        }

        var kid = Text(header.RootElement, "kid");
        var lookup = await keys.FindAsync(issuer, kid, alg, cancellationToken);
        if (lookup.IssuerUnreachable)
        {
            return new IdTokenCheck(null, 503, lookup.Problem);
        }

        if (lookup.Problem is { } keyProblem)
        {
            return IdTokenCheck.Refused("signature: " + keyProblem);
        }

        var signedPart = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        if (!lookup.Keys.Any(k => k.Verify(signedPart, signature)))
        {
            return IdTokenCheck.Refused($"signature: the token does not verify with the issuer's {(kid is null ? alg + " keys" : $"key '{Shown(kid)}'")}");
        }

        var audiences = Audiences(claims);
        if (!audiences.Contains(settings.Audience, StringComparer.Ordinal))
        {
            return IdTokenCheck.Refused(audiences.Count == 0
                ? $"audience: the token names no audience ('aud'); request it for '{settings.Audience}'"
                : $"audience: the token is for {string.Join(", ", audiences.Select(a => $"'{Shown(a)}'"))}, not for '{settings.Audience}' (request the ID token with audience '{settings.Audience}')");
        }

        foreach (var name in (string[])["exp", "nbf", "iat"])
        {
            if (claims.TryGetProperty(name, out _) && Time(claims, name) is null)
            {
                return IdTokenCheck.Refused($"malformed: the token's '{name}' is not a time (seconds since 1970)");
            }
        }

        var now = time.GetUtcNow();
        if (Time(claims, "exp") is not { } expires)
        {
            return IdTokenCheck.Refused("malformed: the token has no expiry ('exp')");
        }

        if (now - MaxSkew >= expires)
        {
            return IdTokenCheck.Refused($"expired: the token expired at {Iso(expires)} (it is {Iso(now)} here)");
        }

        if (Time(claims, "nbf") is { } notBefore && now + MaxSkew < notBefore)
        {
            return IdTokenCheck.Refused($"not yet valid: the token is valid from {Iso(notBefore)} ('nbf'; it is {Iso(now)} here)");
        }

        if (Time(claims, "iat") is { } issued && now + MaxSkew < issued)
        {
            return IdTokenCheck.Refused($"not yet valid: the token says it was issued at {Iso(issued)} ('iat'), in the future (it is {Iso(now)} here)");
        }

        var subject = Text(claims, "sub");
        var jti = Text(claims, "jti");
        if (subject is null || jti is null || jti.Length > 200)
        {
            return IdTokenCheck.Refused("malformed: the token needs a subject ('sub') and an identifier ('jti', at most 200 characters)");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var claim in claims.EnumerateObject())
        {
            switch (claim.Value.ValueKind)
            {
                case JsonValueKind.String:
                    values[claim.Name] = claim.Value.GetString()!;
                    break;
                case JsonValueKind.Number:
                    values[claim.Name] = claim.Value.GetRawText();
                    break;
                case JsonValueKind.True or JsonValueKind.False:
                    values[claim.Name] = claim.Value.GetBoolean() ? "true" : "false";
                    break;
            }
        }

        return new IdTokenCheck(new VerifiedIdToken(issuer, subject, jti, expires, values), 200, null);
    }

    /// <summary>base64url without padding (RFC 7515), or null when it is not.</summary>
    public static byte[]? DecodeBase64Url(string text)
    {
        if (text.Length % 4 == 1)
        {
            return null;
        }

        var padded = text.Replace('-', '+').Replace('_', '/') + new string('=', (4 - (text.Length % 4)) % 4);
        var bytes = new byte[padded.Length * 3 / 4];
        return Convert.TryFromBase64String(padded, bytes, out var written) ? bytes[..written] : null;
    }

    /// <summary>A value from the token, cut short and stripped of control characters, to name it in a message.</summary>
    public static string Shown(string value)
    {
        var clean = new string([.. value.Where(c => !char.IsControl(c))]);
        return clean.Length > 100 ? clean[..100] + "…" : clean;
    }

    private static JsonDocument? ParseJson(string part)
    {
        if (DecodeBase64Url(part) is not { } bytes)
        {
            return null;
        }

        try
        {
            var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<string> Audiences(JsonElement claims)
    {
        if (!claims.TryGetProperty("aud", out var aud))
        {
            return [];
        }

        return aud.ValueKind switch
        {
            JsonValueKind.String => [aud.GetString()!],
            JsonValueKind.Array => [.. aud.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!)],
            _ => [],
        };
    }

    private static DateTimeOffset? Time(JsonElement claims, string name)
    {
        if (!claims.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var seconds)
            || seconds is < 0 or > 253_402_300_799)
        {
            return null;
        }

        return DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
    }

    /// <summary>A member's value when it is a JSON string; else null (the token's and the issuer's documents alike).</summary>
    internal static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
