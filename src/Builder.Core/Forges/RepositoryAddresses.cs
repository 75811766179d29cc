using System.Net;
using System.Net.Sockets;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Builder.Core.Forges;

/// <summary>Which hosts repositories may be cloned from and their forges' APIs called at (<c>Builder:Repositories</c>).</summary>
public sealed class RepositoryOptions : ISelfValidating
{
    public const string SectionName = "Builder:Repositories";

    /// <summary>
    /// Host names (<c>github.com</c>, <c>git.internal.example</c>) or <c>*.example.com</c> (any name under it, not
    /// example.com itself) a repository's <c>cloneUrl</c> and <c>apiUrl</c> may name; empty: any host but those
    /// <see cref="RepositoryAddresses"/> always refuses.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    public IEnumerable<string> Problems()
    {
        for (var i = 0; i < AllowedHosts.Count; i++)
        {
            var entry = AllowedHosts[i]?.Trim() ?? string.Empty;
            var host = entry.StartsWith("*.", StringComparison.Ordinal) ? entry[2..] : entry;
            if (Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown)
            {
                yield return $"Builder:Repositories:AllowedHosts:{i} ('{entry}') must be a host name (git.example.com), '*.example.com' or an IP address, without scheme, port or path";
            }
        }
    }
}

/// <summary>
/// The one owner of which addresses Builder reaches for a repository: asked when a repository is registered or
/// changed, and again before every forge action (ls-remote, clone, a GitHub App token, a commit status, release
/// files), since a name can resolve differently later. Always refused: link-local addresses (169.254.0.0/16,
/// fe80::/10, where clouds answer instance metadata), the metadata services' other addresses and host names, and URLs
/// that are over-long or carry control characters; with <see cref="RepositoryOptions.AllowedHosts"/>, any host not
/// listed. Loopback and private addresses stay allowed: a forge in the same network is the common case.
/// </summary>
/// <remarks>
/// The check resolves the name just before the action, which then resolves it again: a DNS answer that changes within
/// that moment is not caught. An HTTP redirect that git follows on its first request is not checked either.
/// </remarks>
public sealed class RepositoryAddresses(IOptions<RepositoryOptions> options, IHostNameResolver names)
{
    public const int MaxUrlLength = 2048;

    /// <summary>Cloud instance metadata services by name (GCP, AWS); their addresses are link-local or listed below.</summary>
    private static readonly HashSet<string> MetadataNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
    };

    /// <summary>Metadata services outside the link-local ranges: AWS's IPv6 endpoint, Alibaba Cloud's.</summary>
    private static readonly IPAddress[] MetadataAddresses = [IPAddress.Parse("fd00:ec2::254"), IPAddress.Parse("100.100.100.200")];

    /// <summary>
    /// What is wrong with <paramref name="url"/> as a repository's <paramref name="field"/> (cloneUrl, apiUrl) without
    /// asking DNS: its length, control characters, a refused address or metadata name, a host not allowed. Null when
    /// none; a URL that is not absolute is left to the caller's own check.
    /// </summary>
    public string? Problem(string field, string url)
    {
        if (StoredText.Problem(field, url, MaxUrlLength) is { } textProblem)
        {
            return textProblem;
        }

        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri))
        {
            return null;
        }

        var host = HostOf(uri);
        if (host.Length == 0)
        {
            // file:// (a repository on the server's own disk): no host to reach, nothing to allow.
            return options.Value.AllowedHosts.Count == 0 ? null : $"'{field}': a URL without a host is refused while Builder:Repositories:AllowedHosts is set";
        }

        if (IPAddress.TryParse(host, out var address) && Refused(address) is { } why)
        {
            return $"'{field}': {host} is {why}; Builder does not reach it";
        }

        if (MetadataNames.Contains(host))
        {
            return $"'{field}': {host} is a cloud metadata host name; Builder does not reach it";
        }

        if (options.Value.AllowedHosts is { Count: > 0 } allowed && !allowed.Any(pattern => Matches(pattern, host)))
        {
            return $"'{field}': host {host} is not in Builder:Repositories:AllowedHosts ({string.Join(", ", allowed)})";
        }

        return null;
    }

    /// <summary><see cref="Problem"/>, then the host's addresses as DNS gives them now: each must be one Builder may reach.</summary>
    public async Task<string?> RefusalAsync(string field, string url, CancellationToken cancellationToken)
    {
        if (Problem(field, url) is { } problem)
        {
            return problem;
        }

        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || HostOf(uri) is not { Length: > 0 } host || IPAddress.TryParse(host, out _))
        {
            return null;
        }

        IPAddress[] addresses;
        try
        {
            addresses = await names.ResolveAsync(uri.IdnHost, cancellationToken);
        }
        catch (Exception ex) when (ex is SocketException or ArgumentException)
        {
            // Unknown name: nothing is reached, and the action says it could not resolve it.
            return null;
        }

        return ResolvedProblem(field, host, addresses);
    }

    /// <summary>
    /// Before a forge action on <paramref name="repository"/>: its clone URL and its API URL (when one is set; the
    /// default is the clone URL's host, or api.github.com) as at registration, their names resolved now. Null: go on.
    /// </summary>
    public async Task<string?> RefusalAsync(SourceRepository repository, CancellationToken cancellationToken) =>
        await RefusalAsync("cloneUrl", repository.CloneUrl, cancellationToken)
        ?? (string.IsNullOrEmpty(repository.ApiUrl) ? null : await RefusalAsync("apiUrl", repository.ApiUrl, cancellationToken));

    /// <summary>
    /// <see cref="RefusalAsync(SourceRepository, CancellationToken)"/> for git (an ls-remote, a clone): a refusal is a
    /// <see cref="BuildStepException"/> that names the address, so the build or the request says why.
    /// </summary>
    public async Task EnsureGitMayReachAsync(SourceRepository repository, CancellationToken cancellationToken)
    {
        if (await RefusalAsync(repository, cancellationToken) is { } refusal)
        {
            throw new BuildStepException($"git: {repository.Name} is not read from a refused address: {refusal}");
        }
    }

    /// <summary>The refusal for <paramref name="host"/> resolving to <paramref name="addresses"/>; null when every one may be reached.</summary>
    internal static string? ResolvedProblem(string field, string host, IEnumerable<IPAddress> addresses)
    {
        foreach (var address in addresses)
        {
            if (Refused(address) is { } why)
            {
                return $"'{field}': {host} resolves to {address}, {why}; Builder does not reach it";
            }
        }

        return null;
    }

    /// <summary>Why Builder never connects to <paramref name="address"/>; null when it may.</summary>
    internal static string? Refused(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (MetadataAddresses.Contains(address))
        {
            return "a cloud metadata address";
        }

        var linkLocal = address.AddressFamily == AddressFamily.InterNetwork
            ? address.GetAddressBytes() is [169, 254, _, _]
            : address.IsIPv6LinkLocal;
        return linkLocal ? "a link-local address (where clouds answer instance metadata)" : null;
    }

    /// <summary>The host as it is compared and shown: lower case, without IPv6 brackets or a trailing dot.</summary>
    private static string HostOf(Uri uri) => uri.Host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();

    private static bool Matches(string pattern, string host)
    {
        var entry = pattern.Trim().Trim('[', ']').TrimEnd('.');
        return entry.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(entry[1..], StringComparison.OrdinalIgnoreCase) && host.Length > entry.Length - 1
            : string.Equals(entry, host, StringComparison.OrdinalIgnoreCase);
    }
}
