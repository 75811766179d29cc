using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Builder.Core.Index;
using Builder.Core.Packaging;

namespace Builder.Web.Provenance;

/// <summary>
/// <c>Builder.Web verify --url URL [--ca FILE] FILE...</c>: checks local files against the provenance an index serves
/// for them (PEP 740), the way a user checks what they installed: the index is asked only for where the provenance is
/// and for the provenance itself; every check is <see cref="AttestationVerifier"/>'s, offline, against the CA pinned
/// with <c>--ca</c> (or, with a warning, the one the same server serves). The token (<c>BUILDER_TOKEN</c>, never an
/// argument) goes as pip sends it, HTTP Basic <c>__token__:TOKEN</c>, and only to the index's own origin.
/// Prints one line per file, <c>OK</c> or <c>FAILED</c> with the reason. Exit code 0: every file verified; 1: some did
/// not; 2: usage error.
/// </summary>
internal static class VerifyCommand
{
    public const string Name = "verify";
    public const int Success = 0;
    public const int Failed = 1;
    public const int UsageError = 2;

    /// <summary>PEP 740 §Provenance objects: the Integrity API's media type.</summary>
    public const string IntegrityContentType = "application/vnd.pypi.integrity.v1+json";

    /// <summary>Where Builder publishes its CA certificate (PEM), relative to the index's base URL.</summary>
    public const string CaPath = "api/provenance/ca.pem";

    public const string NoProvenance = "no provenance (uploaded or imported)";

    private const string Usage = """
        usage: [BUILDER_TOKEN=...] Builder.Web verify --url https://builder.example [--ca ca.pem] FILE...
        """;

    public static async Task<int> RunAsync(string[] args, string? token, TextWriter output, TextWriter error, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        string? url = null, caFile = null;
        var files = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--url" when value is not null:
                    url = value;
                    i++;
                    break;
                case "--ca" when value is not null:
                    caFile = value;
                    i++;
                    break;
                case var option when option.StartsWith("--", StringComparison.Ordinal):
                    await error.WriteLineAsync($"verify: unexpected argument '{option}'\n{Usage}");
                    return UsageError;
                default:
                    files.Add(args[i]);
                    break;
            }
        }

        if (url is null || !Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var index) || index.Scheme is not ("http" or "https") || files.Count == 0)
        {
            await error.WriteLineAsync("verify: give the index's --url (http or https) and at least one FILE\n" + Usage);
            return UsageError;
        }

        X509Certificate2? pinned = null;
        if (caFile is not null)
        {
            try
            {
                pinned = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(caFile, cancellationToken));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                await error.WriteLineAsync($"verify: --ca {caFile} is not a readable PEM certificate: {e.Message}\n{Usage}");
                return UsageError;
            }
        }

        using var http = (handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false));
        http.Timeout = TimeSpan.FromMinutes(2);
        using var client = new IndexClient(http, index, token);
        var ca = pinned;
        if (ca is null)
        {
            var served = await client.GetCaAsync(cancellationToken);
            if (served.Problem is not null)
            {
                await error.WriteLineAsync($"verify: cannot get the CA: {served.Problem}");
                return Failed;
            }

            ca = served.Certificate!;
            await error.WriteLineAsync($"verify: warning: the CA was not pinned (--ca FILE): trusting the CA {new Uri(index, CaPath)} serves, the same server that serves the files");
        }

        using (ca)
        {
            var verifier = new AttestationVerifier(ca);
            var allVerified = true;
            foreach (var file in files)
            {
                var name = Path.GetFileName(file);
                var outcome = await VerifyFileAsync(client, verifier, file, cancellationToken);
                allVerified &= outcome is FileOutcome.Verified;
                await output.WriteLineAsync(outcome switch
                {
                    FileOutcome.Verified ok =>
                        $"OK {name}: {ok.Project} {ok.Version} from {ok.Origin.Repository}@{ok.Origin.Tag} ({ok.Origin.Commit}) built by {BuildAddress(index, ok.Origin.Build)}",
                    FileOutcome.Refused failed => $"FAILED {name}: {failed.Reason}",
                    _ => throw new InvalidOperationException(outcome.GetType().Name),
                });
            }

            return allVerified ? Success : Failed;
        }
    }

    /// <summary>The build's address as a link: a server without <c>Builder:PublicUrl</c> signs it relative to its root (<c>/builds/12</c>).</summary>
    private static string BuildAddress(Uri index, string build) =>
        Uri.TryCreate(build, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https" ? build
        : build.StartsWith('/') ? new Uri(index, build).AbsoluteUri : build;

    private static async Task<FileOutcome> VerifyFileAsync(IndexClient client, AttestationVerifier verifier, string path, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(path);
        if (!DistributionFilename.TryParse(name, out var distribution))
        {
            return new FileOutcome.Refused("not a wheel or sdist file name");
        }

        string sha256;
        try
        {
            await using var stream = File.OpenRead(path);
            sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new FileOutcome.Refused($"cannot be read: {e.Message}");
        }

        var project = distribution!.NormalizedName;
        var provenanceUrl = await client.FindProvenanceAsync(project, name, cancellationToken);
        if (provenanceUrl.Problem is not null)
        {
            return new FileOutcome.Refused(provenanceUrl.Problem);
        }

        var provenance = await client.GetJsonAsync(provenanceUrl.Url!, IntegrityContentType, cancellationToken);
        if (provenance.Problem is not null)
        {
            return new FileOutcome.Refused(provenance.Problem);
        }

        using (provenance.Document)
        {
            return verifier.VerifyProvenance(provenance.Document!.RootElement, name, sha256) switch
            {
                AttestationOutcome.Verified verified => new FileOutcome.Verified(project, distribution.Version, verified.Origin),
                AttestationOutcome.Failed failed => new FileOutcome.Refused(failed.Reason),
                var other => throw new InvalidOperationException(other.GetType().Name),
            };
        }
    }

    private abstract record FileOutcome
    {
        public sealed record Verified(string Project, string Version, BuildOrigin Origin) : FileOutcome;

        public sealed record Refused(string Reason) : FileOutcome;
    }

    /// <summary>The index as the command reads it: PEP 691 pages (one request per project), provenance objects and the CA.</summary>
    private sealed class IndexClient(HttpClient http, Uri index, string? token) : IDisposable
    {
        private readonly Dictionary<string, (JsonDocument? Page, string? Problem)> _pages = new(StringComparer.Ordinal);

        public void Dispose()
        {
            foreach (var (page, _) in _pages.Values)
            {
                page?.Dispose();
            }
        }

        public async Task<(X509Certificate2? Certificate, string? Problem)> GetCaAsync(CancellationToken cancellationToken)
        {
            var url = new Uri(index, CaPath);
            var (status, body, problem) = await SendAsync(url, "application/x-pem-file", cancellationToken);
            if (problem is not null || status != HttpStatusCode.OK)
            {
                return (null, problem ?? $"{url} answered {(int)status}");
            }

            try
            {
                return (X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(body)), null);
            }
            catch (CryptographicException e)
            {
                return (null, $"{url} is not a PEM certificate: {e.Message}");
            }
        }

        /// <summary>The provenance URL the project's page gives the file (PEP 740 §Index changes), resolved against the page's URL.</summary>
        public async Task<(Uri? Url, string? Problem)> FindProvenanceAsync(string project, string filename, CancellationToken cancellationToken)
        {
            var pageUrl = new Uri(index, $"simple/{project}/");
            if (!_pages.TryGetValue(project, out var page))
            {
                var answer = await GetJsonAsync(pageUrl, SimpleContentType.JsonV1, cancellationToken);
                _pages[project] = page = (answer.Document, answer.Problem);
            }

            if (page.Problem is not null)
            {
                return (null, page.Problem);
            }

            var root = page.Page!.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Array)
            {
                return (null, $"{pageUrl} is not a PEP 691 project page");
            }

            var entry = files.EnumerateArray().FirstOrDefault(f => f.ValueKind == JsonValueKind.Object && f.TryGetProperty("filename", out var n)
                && n.ValueKind == JsonValueKind.String && n.GetString() == filename);
            if (entry.ValueKind == JsonValueKind.Undefined)
            {
                return (null, $"not on the index ({pageUrl} does not list it)");
            }

            if (!entry.TryGetProperty("provenance", out var provenance) || provenance.ValueKind != JsonValueKind.String)
            {
                return (null, NoProvenance);
            }

            return Uri.TryCreate(pageUrl, provenance.GetString(), out var url) && url.Scheme is "http" or "https"
                ? (url, null)
                : (null, $"the index gives it a provenance URL that is not one: {provenance.GetString()}");
        }

        public async Task<(JsonDocument? Document, string? Problem)> GetJsonAsync(Uri url, string accept, CancellationToken cancellationToken)
        {
            var (status, body, problem) = await SendAsync(url, accept, cancellationToken);
            if (problem is not null)
            {
                return (null, problem);
            }

            if (status != HttpStatusCode.OK)
            {
                var hint = status switch
                {
                    HttpStatusCode.Unauthorized => string.IsNullOrEmpty(token) ? ": set BUILDER_TOKEN to a token that may read it" : ": the token was refused",
                    // An index answers 404 alike for what does not exist and what the principal may not read.
                    HttpStatusCode.NotFound => string.IsNullOrEmpty(token) ? " (unknown, or not readable without a token)" : " (unknown, or not readable with this token)",
                    _ => string.Empty,
                };
                return (null, $"{url} answered {(int)status}{hint}");
            }

            try
            {
                return (JsonDocument.Parse(body), null);
            }
            catch (JsonException)
            {
                return (null, $"{url} did not answer JSON");
            }
        }

        private async Task<(HttpStatusCode Status, byte[] Body, string? Problem)> SendAsync(Uri url, string accept, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            // The token is the index's: a provenance URL on another origin does not get it (pip sends credentials only to
            // the index's host too).
            if (!string.IsNullOrEmpty(token) && Uri.Compare(url, index, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("__token__:" + token)));
            }

            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(cancellationToken), null);
            }
            catch (HttpRequestException e)
            {
                return (default, [], $"{url} cannot be reached: {e.Message}");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (default, [], $"{url} did not answer within {http.Timeout.TotalSeconds:0} s");
            }
        }
    }
}
