using Builder.Web.Http;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Builder.Web.Ui;

/// <summary>The web UI: server-rendered Razor Pages (<c>src/Builder.Web/Pages</c>) and their hashed static assets.</summary>
internal static class UiServiceCollectionExtensions
{
    /// <summary>The anti-forgery field every UI form carries (and the header a script may send it in).</summary>
    public const string AntiforgeryField = "__csrf";

    public static IServiceCollection AddBuilderUi(this IServiceCollection services)
    {
        services.AddRazorPages(options => options.Conventions.ConfigureFilter(new UiHeaders()));
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "builder_antiforgery";
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.FormFieldName = AntiforgeryField;
            options.HeaderName = "X-CSRF-Token";
        });
        services.AddSingleton<UiAssets>();
        services.AddSingleton<UiAddress>();
        services.AddSingleton<ReleaseMetadata>();
        services.AddSingleton<FileProvenanceReader>();
        return services;
    }

    public static void MapBuilderUi(this WebApplication app)
    {
        var assets = app.Services.GetRequiredService<UiAssets>();
        app.MapMethods(UiAssets.Route, [HttpMethods.Get, HttpMethods.Head], (string file, HttpContext context) => assets.Serve(file, context));
        app.MapRazorPages().WithMetadata(UiForms.Instance);
    }
}

/// <summary>
/// What every UI page answers with: the frame and content policies of every HTML page (<see cref="SecurityHeaders"/>),
/// no referrer to other sites, no caching of pages that show private data.
/// </summary>
internal sealed class UiHeaders : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var headers = context.HttpContext.Response.Headers;
        SecurityHeaders.ApplyPagePolicies(headers);
        headers["Referrer-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
        return next();
    }
}
