namespace Builder.Web.Catalog;

public static class CatalogServiceCollectionExtensions
{
    /// <summary>
    /// The catalog's query services, shared by the JSON API and the web UI: <see cref="ProjectCatalog"/> (which keeps
    /// per-rights views of the index's published snapshot, with each project's latest build) and <see cref="BuildCatalog"/>.
    /// Both are singletons that use a database context (a scope) per call. Needs the index's read model.
    /// </summary>
    public static IServiceCollection AddBuilderCatalog(this IServiceCollection services)
    {
        services.AddSingleton<BuildCatalog>();
        services.AddSingleton<ProjectCatalog>();
        return services;
    }
}
