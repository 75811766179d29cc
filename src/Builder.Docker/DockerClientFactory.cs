using Builder.Core.Configuration;
using Docker.DotNet;
using Microsoft.Extensions.Options;

namespace Builder.Docker;

public interface IDockerClientFactory
{
    DockerClient Create();
}

/// <summary>Docker clients for the configured endpoint (<c>Builder:Build:DockerEndpoint</c>), else DOCKER_HOST, else the local socket.</summary>
internal sealed class DockerClientFactory(IOptions<BuildOptions> options) : IDockerClientFactory
{
    public DockerClient Create()
    {
        var endpoint = options.Value.DockerEndpoint;
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            endpoint = Environment.GetEnvironmentVariable("DOCKER_HOST");
        }

        var builder = new DockerClientBuilder();
        return (string.IsNullOrWhiteSpace(endpoint) ? builder.WithEndpoint(new Uri("unix:///var/run/docker.sock")) : builder.WithEndpoint(new Uri(endpoint))).Build();
    }
}
