using Builder.Pipeline;

namespace Builder.Web.Upstream;

public static class UpstreamServiceCollectionExtensions
{
    /// <summary>The upstream proxy (<c>Builder:Upstream</c>); with no <c>Url</c> set it answers nothing and asks nothing.</summary>
    public static IServiceCollection AddBuilderUpstream(this IServiceCollection services)
    {
        services.AddOptions<UpstreamOptions>().BindConfiguration(UpstreamOptions.SectionName).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<UpstreamOptions>, ProblemsValidator<UpstreamOptions>>();
        services.AddSingleton<UpstreamClient>();
        services.AddSingleton<UpstreamPages>();
        services.AddSingleton<UpstreamGuard>();
        services.AddSingleton<UpstreamProxy>();
        return services;
    }
}
