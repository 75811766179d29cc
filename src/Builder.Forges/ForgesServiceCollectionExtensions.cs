using Builder.Core.Forges;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Builder.Forges;

public static class ForgesServiceCollectionExtensions
{
    /// <summary>The forge adapters: clone credentials (GitHub App tokens) and the clients that report back, one per provider.</summary>
    public static IServiceCollection AddBuilderForges(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(GitLabForgeClient.HttpClientName);
        services.AddHttpClient(GiteaForgeClient.HttpClientName);
        services.AddSingleton<IGitHubAppTokens, GitHubAppTokens>();
        services.AddSingleton<ICloneCredentialSource, CloneCredentialSource>();
        services.AddSingleton<IForgeClient, GitHubForgeClient>();
        services.AddSingleton<IForgeClient, GitLabForgeClient>();
        services.AddSingleton<IForgeClient, GiteaForgeClient>();
        return services;
    }
}
