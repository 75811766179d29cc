using System.Security.Cryptography;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Microsoft.AspNetCore.DataProtection;

namespace Builder.Access;

/// <summary>
/// Reads and writes a repository's secrets (webhook secret, clone credentials or GitHub App key), encrypted at rest with ASP.NET Core
/// Data Protection. The key ring is in the data directory (embedded default) or in PostgreSQL (production), so a copy
/// of the database alone reveals no secret. Nothing else decrypts them.
/// </summary>
public sealed class RepositorySecrets(IDataProtectionProvider protection) : IRepositorySecrets
{
    private readonly IDataProtector _webhook = protection.CreateProtector("Builder.Repository.WebhookSecret.v1");
    private readonly IDataProtector _credentials = protection.CreateProtector("Builder.Repository.CloneCredentials.v1");

    public string? WebhookSecret(SourceRepository repository)
    {
        if (repository.ProtectedWebhookSecret is { } protectedSecret)
        {
            try
            {
                return _webhook.Unprotect(protectedSecret);
            }
            catch (CryptographicException)
            {
                // The key ring lost the key (a new data directory, another installation's database): no signature can match.
                return null;
            }
        }

        return string.IsNullOrEmpty(repository.PlaintextWebhookSecret) ? null : repository.PlaintextWebhookSecret;
    }

    public RepositoryCredentials? Credentials(SourceRepository repository)
    {
        if (repository.ProtectedCredentials is not { } protectedCredentials)
        {
            return null;
        }

        var stored = JsonSerializer.Deserialize<StoredCredentials>(_credentials.Unprotect(protectedCredentials))
            ?? throw new CryptographicException("the stored clone credentials are empty");
        return stored.AppId is { } appId
            ? new GitHubAppCredentials(appId, stored.InstallationId, stored.PrivateKey ?? string.Empty)
            : new CloneCredentials(stored.Username ?? string.Empty, stored.Token ?? string.Empty);
    }

    public ForgeRepository Forge(SourceRepository repository) => new(
        repository.Provider,
        repository.Name,
        ForgeAddress.ApiUrl(repository.Provider, repository.CloneUrl, repository.ApiUrl),
        Credentials(repository),
        repository.GitHubInstallationId);

    public void SetWebhookSecret(SourceRepository repository, string secret)
    {
        repository.ProtectedWebhookSecret = _webhook.Protect(secret);
        repository.PlaintextWebhookSecret = string.Empty;
    }

    public void SetCredentials(SourceRepository repository, RepositoryCredentials? credentials) =>
        repository.ProtectedCredentials = credentials switch
        {
            null => null,
            CloneCredentials token => _credentials.Protect(JsonSerializer.Serialize(new StoredCredentials(token.Username, token.Token))),
            GitHubAppCredentials app => _credentials.Protect(JsonSerializer.Serialize(
                new StoredCredentials(null, null) { AppId = app.AppId, InstallationId = app.InstallationId, PrivateKey = app.PrivateKeyPem })),
            _ => throw new ArgumentException($"unknown credentials {credentials.GetType().Name}", nameof(credentials)),
        };

    /// <summary>
    /// A clone URL with user info ("https://x-access-token:TOKEN@github.com/acme/billing.git") as the URL without it and
    /// the credentials it carried (a URL with only a user name carries it as the token, as git does for GitHub tokens).
    /// </summary>
    public static (string Url, CloneCredentials? Credentials) SplitCloneUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.UserInfo))
        {
            return (url, null);
        }

        var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
        var credentials = colon < 0
            ? new CloneCredentials("x-access-token", Uri.UnescapeDataString(uri.UserInfo))
            : new CloneCredentials(Uri.UnescapeDataString(uri.UserInfo[..colon]), Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]));
        var bare = new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri.AbsoluteUri;
        return (bare, credentials);
    }

    /// <summary>The stored form: a user name and token, or a GitHub App (AppId set).</summary>
    private sealed record StoredCredentials(string? Username, string? Token)
    {
        public long? AppId { get; init; }

        public long? InstallationId { get; init; }

        public string? PrivateKey { get; init; }
    }
}
