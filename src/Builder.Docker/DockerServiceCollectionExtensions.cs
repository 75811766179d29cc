using Builder.Core.Builds;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Docker;

public static class DockerServiceCollectionExtensions
{
    public static IServiceCollection AddBuilderDocker(this IServiceCollection services)
    {
        services.AddSingleton<IDockerClientFactory, DockerClientFactory>();
        services.AddSingleton<IWheelBuilder, DockerWheelBuilder>();
        return services;
    }
}
