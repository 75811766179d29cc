using Builder.Core.Builds;
using Builder.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Builder.Docker;

/// <summary>The index URL from <c>Builder:Build:IndexUrl</c> (a worker's only source); null when not set.</summary>
internal sealed class ConfiguredIndexAddress(IOptions<BuildOptions> options) : IIndexAddress
{
    public Uri? IndexUrl { get; } = string.IsNullOrWhiteSpace(options.Value.IndexUrl) ? null : new Uri(options.Value.IndexUrl);
}
