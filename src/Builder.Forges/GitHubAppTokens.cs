using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Octokit;

namespace Builder.Forges;

/// <summary>
/// Mints a GitHub App's installation tokens through Octokit: a JWT signed with the App's private key (RS256, valid
/// ten minutes, as GitHub asks) buys an installation token valid an hour, which is reused until five minutes before
/// it expires, so every build clones with a token that outlives its clone.
/// </summary>
public sealed class GitHubAppTokens(TimeProvider time) : IGitHubAppTokens
{
    private static readonly TimeSpan RefreshBefore = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<(string Api, long App, long Installation), (CloneCredentials Credentials, DateTimeOffset Expires)> _cache = new();

    public async Task<CloneCredentials> InstallationTokenAsync(Uri apiUrl, GitHubAppCredentials app, long installationId, CancellationToken cancellationToken)
    {
        var key = (apiUrl.AbsoluteUri, app.AppId, installationId);
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.Expires - RefreshBefore > now)
        {
            return cached.Credentials;
        }

        var client = GitHubClients.Create(apiUrl, new Credentials(AppJwt(app, now), AuthenticationType.Bearer));
        AccessToken token;
        try
        {
            token = await client.GitHubApps.CreateInstallationToken(installationId).WaitAsync(cancellationToken);
        }
        catch (ApiException ex)
        {
            throw new ForgeCredentialsException(
                $"GitHub refused an installation token for app {app.AppId}, installation {installationId} ({(int)ex.StatusCode}: {ex.Message})", ex);
        }

        var credentials = new CloneCredentials("x-access-token", token.Token);
        _cache[key] = (credentials, token.ExpiresAt);
        return credentials;
    }

    /// <summary>The App's JWT: issued a minute in the past (clock drift), expiring after nine more (GitHub's limit is ten).</summary>
    internal static string AppJwt(GitHubAppCredentials app, DateTimeOffset now)
    {
        using var rsa = ImportPrivateKey(app.PrivateKeyPem, out var problem)
            ?? throw new ForgeCredentialsException($"the private key of GitHub App {app.AppId} {problem}");

        var header = Base64Url("""{"alg":"RS256","typ":"JWT"}"""u8);
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new
        {
            iat = now.AddSeconds(-60).ToUnixTimeSeconds(),
            exp = now.AddMinutes(9).ToUnixTimeSeconds(),
            iss = app.AppId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));
        var signature = rsa.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return header + "." + payload + "." + Base64Url(signature);
    }

    /// <summary>
    /// The App's private key from the PEM text GitHub lets one download (PKCS#1 <c>RSA PRIVATE KEY</c>, or PKCS#8
    /// <c>PRIVATE KEY</c>), or null and why it is not one (never quoting the text: it may be a secret pasted in the wrong place).
    /// </summary>
    public static RSA? ImportPrivateKey(string pem, out string? problem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            // A public key imports too, and would only fail when the first build signs with it.
            rsa.ExportParameters(includePrivateParameters: true);
            problem = null;
            return rsa;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            problem = ex is ArgumentException
                ? "is not a PEM RSA private key (GitHub's download starts with -----BEGIN RSA PRIVATE KEY-----)"
                : "is PEM but not an RSA private key (a public key, another kind of key, or damaged base64 between its BEGIN and END lines)";
            return null;
        }
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
