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
/// What every UI page answers with: a Content-Security-Policy that allows scripts, styles and connections from Builder
/// itself only (no inline script or style, nothing from another origin: a package description or a log line that gets
/// markup past the escaping still runs nothing), no framing, no MIME sniffing, no referrer to other sites, no caching
/// of pages that show private data.
/// </summary>
internal sealed class UiHeaders : IAsyncPageFilter
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var headers = context.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
        return next();
    }
}
