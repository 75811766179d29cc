using Builder.Core.Builds;
using Builder.Core.Forges;

namespace Builder.Forges;

/// <summary>A token is cloned with as it is; a GitHub App's credentials become an installation token for the build.</summary>
public sealed class CloneCredentialSource(IGitHubAppTokens appTokens) : ICloneCredentialSource
{
    public async Task<CloneCredentials?> ForCloneAsync(ForgeRepository repository, CancellationToken cancellationToken) =>
        repository.Credentials switch
        {
            null => null,
            CloneCredentials token => token,
            GitHubAppCredentials app => await appTokens.InstallationTokenAsync(
                repository.ApiUrl,
                app,
                app.InstallationId ?? repository.InstallationId
                    ?? throw new ForgeCredentialsException(
                        $"GitHub App {app.AppId} has no installation for {repository.Name}: set credentials.githubApp.installationId, or let a webhook delivery from the App name it"),
                cancellationToken),
            _ => throw new ForgeCredentialsException($"unknown credentials {repository.Credentials.GetType().Name}"),
        };
}
