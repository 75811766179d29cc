using Builder.Core.Builds;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Git;

public static class GitServiceCollectionExtensions
{
    public static IServiceCollection AddBuilderGit(this IServiceCollection services)
    {
        services.AddSingleton<ISourceFetcher, LibGit2SharpSourceFetcher>();
        return services;
    }
}
