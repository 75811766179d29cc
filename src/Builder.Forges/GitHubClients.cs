using Octokit;
using Octokit.Internal;

namespace Builder.Forges;

/// <summary>Octokit clients for a repository's API base (github.com's, or a GitHub Enterprise Server's).</summary>
internal static class GitHubClients
{
    private static readonly ProductHeaderValue Product = new("Builder");

    /// <summary>
    /// Octokit takes the server's address and adds <c>/api/v3/</c> itself for anything but api.github.com, so an
    /// Enterprise API base (https://ghe.example/api/v3/) and its host both work.
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
