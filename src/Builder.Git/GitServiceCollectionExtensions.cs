using Builder.Core.Builds;
using Builder.Core.Forges;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Git;

public static class GitServiceCollectionExtensions
{
    public static IServiceCollection AddBuilderGit(this IServiceCollection services)
    {
        services.AddSingleton<ISourceFetcher, LibGit2SharpSourceFetcher>();
        return services.AddBuilderTagResolver();
    }

    /// <summary>Only the tag resolver (the manual build trigger), for a host that does not build.</summary>
    public static IServiceCollection AddBuilderTagResolver(this IServiceCollection services)
    {
        services.AddSingleton<ITagResolver, LibGit2SharpTagResolver>();
        return services;
    }
}
