using Octokit;
using Octokit.Internal;

namespace Builder.Forges;

/// <summary>Octokit clients for a repository's API base (github.com's, or a GitHub Enterprise Server's).</summary>
internal static class GitHubClients
{
    private static readonly ProductHeaderValue Product = new("Builder");

    /// <summary>
    /// A client on <paramref name="apiUrl"/> exactly as given (a <see cref="Connection"/> does not add <c>/api/v3/</c>
    /// as <c>new GitHubClient(product, host)</c> would), so it must be the API base <see cref="Core.Forges.ForgeAddress.ApiUrl"/>
    /// gives: https://api.github.com/ or https://ghe.example/api/v3/. Uploads go to the absolute <c>upload_url</c>
    /// GitHub names in each release. <paramref name="timeout"/> bounds every request (HttpClient.Timeout, 100 s when null).
    /// </summary>
    public static GitHubClient Create(Uri apiUrl, Credentials credentials, TimeSpan? timeout = null)
    {
        var connection = new Connection(Product, apiUrl, new InMemoryCredentialStore(credentials));
        if (timeout is { } t)
        {
            connection.SetRequestTimeout(t);
        }

        return new GitHubClient(connection);
    }
}
