using System.Globalization;
using System.Security.Cryptography;
using Builder.Core.Builds;
using Microsoft.AspNetCore.DataProtection;

namespace Builder.Access;

/// <summary>
/// The credentials of a build's index relay: the build's id, encrypted and authenticated with Data Protection and
/// limited in time. Any process of the installation can issue them (they share the key ring) and the web process
/// verifies them without a shared secret of their own.
/// </summary>
public sealed class BuildCredentials(IDataProtectionProvider protection) : IBuildCredentialIssuer
{
    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("Builder.Relay.BuildCredential.v1").ToTimeLimitedDataProtector();

    public string Issue(long buildId, TimeSpan lifetime) =>
        _protector.Protect(buildId.ToString(CultureInfo.InvariantCulture), lifetime);

    /// <summary>The build the credential was issued for; false when it is forged, damaged or expired.</summary>
    public bool TryRead(string credential, out long buildId, out DateTimeOffset expires)
    {
        buildId = 0;
        expires = default;
        try
        {
            var text = _protector.Unprotect(credential, out expires);
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out buildId);
        }
        catch (CryptographicException)
        {
            return false;
        }
        catch (FormatException)
        {
            // Not base64url at all.
            return false;
        }
    }
}
