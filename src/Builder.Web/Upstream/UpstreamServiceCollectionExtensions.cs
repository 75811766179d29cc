using Builder.Core.Configuration;

namespace Builder.Web.Upstream;

public static class UpstreamServiceCollectionExtensions
{
    /// <summary>The upstream proxy (<c>Builder:Upstream</c>); with no <c>Url</c> set it answers nothing and asks nothing.</summary>
    public static IServiceCollection AddBuilderUpstream(this IServiceCollection services)
    {
        services.AddBuilderOptions<UpstreamOptions>(UpstreamOptions.SectionName);
        services.AddSingleton<UpstreamClient>();
        services.AddSingleton<UpstreamPages>();
        services.AddSingleton<UpstreamGuard>();
        services.AddSingleton<UpstreamProxy>();
        return services;
    }
}
