using Builder.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Builder.Web.Ui;

/// <summary>
/// The index URL the UI tells people to install from: <c>Builder:PublicUrl</c> when set, else the address the browser
/// used (scheme and host, through a known proxy's forwarded headers). Never with credentials in it.
/// </summary>
public sealed class UiAddress(IOptions<PublicUrlOptions> options)
{
    public Uri Base(HttpRequest request) =>
        options.Value.BaseUri ?? new Uri($"{request.Scheme}://{request.Host}{request.PathBase}/", UriKind.Absolute);

    public string IndexUrl(HttpRequest request) => new Uri(Base(request), "simple/").ToString();

    /// <summary>The host name alone, as ~/.netrc names machines (pip, uv and poetry match it without the port).</summary>
    public string Host(HttpRequest request) => Base(request).Host;
}
