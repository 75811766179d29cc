namespace Builder.Core.Forges;

/// <summary>
/// Where a repository's forge is: its instance (the host a webhook payload names) and its API base. The one place
/// that knows GitHub's API lives at api.github.com or {host}/api/v3, GitLab's at {host}/api/v4, Gitea's at {host}/api/v1.
/// </summary>
public static class ForgeAddress
{
    public const string GitHubDotCom = "github.com";
    public const string GitLabDotCom = "gitlab.com";

    private static readonly Uri GitHubApi = new("https://api.github.com/");

    /// <summary>The forge's API base for a repository: <paramref name="apiUrl"/> when set, else the provider's default for the clone URL's host.</summary>
    public static Uri ApiUrl(string provider, string cloneUrl, string? apiUrl)
    {
        if (!string.IsNullOrEmpty(apiUrl))
        {
            return WithSlash(new Uri(apiUrl, UriKind.Absolute));
        }

        var web = WebOrigin(cloneUrl);
        return provider switch
        {
            ForgeProviders.GitHub => web is null || IsGitHubDotCom(web.Authority) ? GitHubApi : new Uri(web, "api/v3/"),
            ForgeProviders.GitLab => new Uri(web ?? new Uri("https://" + GitLabDotCom + "/"), "api/v4/"),
            ForgeProviders.Gitea => new Uri(web ?? throw new ArgumentException("a Gitea repository needs an http(s) clone URL or an apiUrl"), "api/v1/"),
            _ => throw new ArgumentException($"unknown provider '{provider}'", nameof(provider)),
        };
    }

    /// <summary>
    /// The forge instance (lower-case host, with a non-default port): from the API URL when set (api.github.com is
    /// github.com), else from the clone URL, else the provider's public instance.
    /// </summary>
    public static string Instance(string provider, string cloneUrl, string? apiUrl)
    {
        if (!string.IsNullOrEmpty(apiUrl) && Uri.TryCreate(apiUrl, UriKind.Absolute, out var api))
        {
            return InstanceOf(api);
        }

        if (WebOrigin(cloneUrl) is { } web)
        {
            return InstanceOf(web);
        }

        return provider == ForgeProviders.GitLab ? GitLabDotCom : provider == ForgeProviders.GitHub ? GitHubDotCom : string.Empty;
    }

    /// <summary>The instance a payload's web URL (<c>repository.html_url</c>, <c>project.web_url</c>) names; null when it names none.</summary>
    public static string? InstanceOf(string? webUrl) =>
        Uri.TryCreate(webUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? InstanceOf(uri) : null;

    /// <summary>The lower-case authority; github.com for api.github.com too.</summary>
    private static string InstanceOf(Uri uri) => IsGitHubDotCom(uri.Authority) ? GitHubDotCom : uri.Authority.ToLowerInvariant();

    private static Uri? WebOrigin(string cloneUrl) =>
        Uri.TryCreate(cloneUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? new Uri(uri.GetLeftPart(UriPartial.Authority) + "/")
            : null;

    private static bool IsGitHubDotCom(string authority) =>
        authority.Equals(GitHubDotCom, StringComparison.OrdinalIgnoreCase) || authority.Equals("api.github.com", StringComparison.OrdinalIgnoreCase);

    private static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
