using Builder.Core.Builds;
using Builder.Core.Forges;
using Microsoft.Extensions.DependencyInjection;
using static Builder.Tests.Integration.Forges.ForgeTestKit;

namespace Builder.Tests.Integration.Forges;

/// <summary>What git clones with: a token as it is, a GitHub App's installation token minted from the fake GitHub.</summary>
public sealed class CloneCredentialSourceTests : IAsyncLifetime
{
    private FakeForgeServer _forge = null!;

    public async Task InitializeAsync() => _forge = await FakeForgeServer.StartAsync();

    public async Task DisposeAsync() => await _forge.DisposeAsync();

    [Fact]
    public async Task A_GitHub_App_clones_as_x_access_token_with_a_minted_installation_token()
    {
        var (pem, publicKey) = AppKey();
        _forge.App = (42, publicKey);
        using var services = Services();
        var source = services.GetRequiredService<ICloneCredentialSource>();
        var repository = new ForgeRepository(ForgeProviders.GitHub, "acme/billing", _forge.GitHubApi, new GitHubAppCredentials(42, null, pem), InstallationId: 7);

        var credentials = await source.ForCloneAsync(repository, CancellationToken.None);

        Assert.NotNull(credentials);
        Assert.Equal("x-access-token", credentials.Username);
        Assert.StartsWith("ghs_", credentials.Token, StringComparison.Ordinal);
        Assert.Equal(["POST /api/v3/app/installations/7/access_tokens auth=jwt"], _forge.Calls.Select(c => c.ToString()));
        Assert.DoesNotContain(credentials.Token, credentials.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_GitHub_App_without_an_installation_throws_ForgeCredentialsException()
    {
        var (pem, _) = AppKey();
        using var services = Services();
        var source = services.GetRequiredService<ICloneCredentialSource>();
        var repository = new ForgeRepository(ForgeProviders.GitHub, "acme/billing", _forge.GitHubApi, new GitHubAppCredentials(42, null, pem));

        var ex = await Assert.ThrowsAsync<ForgeCredentialsException>(() => source.ForCloneAsync(repository, CancellationToken.None));

        Assert.Contains("no installation", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_forge.Calls);
    }

    [Fact]
    public async Task A_token_is_cloned_with_as_it_is()
    {
        using var services = Services();
        var token = new CloneCredentials("oauth2", "glpat-xyz");

        var credentials = await services.GetRequiredService<ICloneCredentialSource>().ForCloneAsync(
            new ForgeRepository(ForgeProviders.GitLab, "g/p", _forge.GitLabApi, token), CancellationToken.None);

        Assert.Same(token, credentials);
    }

    [Fact]
    public void AddBuilderForges_registers_one_client_per_provider()
    {
        using var services = Services();

        Assert.Equal(ForgeProviders.All.Order(StringComparer.Ordinal), services.GetServices<IForgeClient>().Select(c => c.Provider).Order(StringComparer.Ordinal));
    }
}
