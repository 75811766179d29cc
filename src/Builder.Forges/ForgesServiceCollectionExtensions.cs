using Builder.Core.Forges;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Forges;

public static class ForgesServiceCollectionExtensions
{
    /// <summary>The forge adapters: clone credentials (GitHub App tokens) and the clients that report back.</summary>
    public static IServiceCollection AddBuilderForges(this IServiceCollection services)
    {
        services.AddSingleton<IGitHubAppTokens, GitHubAppTokens>();
        services.AddSingleton<ICloneCredentialSource, CloneCredentialSource>();
        return services;
    }
}
