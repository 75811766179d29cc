using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Builder.Docker;

/// <summary>
/// The only way out of a build container: a Unix socket in a fresh host directory (bind-mounted at
/// <see cref="ContainerDirectory"/>) that answers read requests of Builder's index and refuses everything else. The
/// container keeps network mode "none"; the driver inside forwards a loopback TCP port to this socket for pip.
/// </summary>
/// <remarks>
/// One request per connection (answers carry <c>Connection: close</c>), so no request smuggling across keep-alive.
/// Only a whitelist of request headers goes on: what the container sends as Authorization or Cookie never reaches the
/// index; the relay presents the build's own credentials (see <see cref="Builder.Core.Builds.IBuildCredentialIssuer"/>),
/// which never enter the container, so the index answers with the rights of the repository being built.
/// </remarks>
internal sealed partial class IndexRelay : IAsyncDisposable
{
    public const string ContainerDirectory = "/builder/relay";
    public const string SocketName = "index.sock";

    private const int MaxHeadBytes = 16 * 1024;
    private const int MaxConnections = 32;
    private static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(30);

    // Request headers a package installer needs for reads; everything else (Authorization, Cookie, Host, ...) stays behind.
    private static readonly string[] ForwardedRequestHeaders = ["Accept", "Range", "If-Range", "If-None-Match", "If-Modified-Since", "User-Agent"];

    private static readonly string[] ForwardedResponseHeaders =
        ["Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "ETag", "Last-Modified", "Cache-Control", "Location"];

    private readonly Socket _listener;
    private readonly HttpClient _http;
    private readonly Uri _index;
    private readonly AuthenticationHeaderValue? _credentials;
    private readonly Action<string> _note;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private int _connections;

    private IndexRelay(string hostDirectory, Socket listener, Uri index, string? credential, Action<string> note, ILogger logger)
    {
        HostDirectory = hostDirectory;
        _listener = listener;
        _note = note;
        _logger = logger;
        _index = index;
        _credentials = credential is null
            ? null
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Builder.Core.Builds.IBuildCredentialIssuer.UserName}:{credential}")));
        // Redirects go back to the container (pip follows them through the relay, so they pass the same rules).
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _acceptLoop = AcceptLoopAsync(_stop.Token);
    }

    /// <summary>The host directory bind-mounted into the container; it holds nothing but the socket.</summary>
    public string HostDirectory { get; }

    public string SocketPath => Path.Combine(HostDirectory, SocketName);

    /// <summary>Makes a fresh directory under <paramref name="parentDirectory"/> and listens on its socket.</summary>
    /// <param name="credential">The build's credential for the index (sent as HTTP Basic password with user "__build__"); null: none.</param>
    /// <param name="note">Receives one line per refused request, for the build log.</param>
    public static IndexRelay Start(string parentDirectory, Uri index, string? credential, Action<string> note, ILogger logger)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Builder's index relay needs Unix file modes (bind-mounted Unix sockets for Linux build containers)");
        }

        // The parent is private to this process's user; the per-container directory must be traversable and the socket
        // writable by the container's root, which has no CAP_DAC_OVERRIDE and may not be our uid.
        Directory.CreateDirectory(parentDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var directory = Path.Combine(parentDirectory, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)));
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            var socketPath = Path.Combine(directory, SocketName);
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
                | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
            listener.Listen(MaxConnections);
        }
        catch
        {
            listener.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }

        return new IndexRelay(directory, listener, index, credential, note, logger);
    }

    /// <summary>Null when the request may pass; else the rule it broke, as the one-line body of the 403.</summary>
    internal static string? Refusal(string method, string target)
    {
        if (method is not ("GET" or "HEAD"))
        {
            return $"Builder's index relay allows only GET and HEAD, not {method}";
        }

        var path = target.Split('?', 2)[0];
        if (!path.StartsWith('/') || !TryDecodeSegments(path, out var segments))
        {
            return "Builder's index relay allows only the index's read routes: /simple/, /simple/<project>/, /files/<project>/<file>";
        }

        var allowed = segments switch
        {
            ["simple", ""] => true,
            ["simple", { Length: > 0 }] or ["simple", { Length: > 0 }, ""] => true,
            ["files", { Length: > 0 }, { Length: > 0 }] => true,
            _ => false,
        };
        return allowed ? null : "Builder's index relay allows only the index's read routes: /simple/, /simple/<project>/, /files/<project>/<file>";
    }

    /// <summary>
    /// The path's segments, percent-decoded as the server will decode them; false when any could move the request
    /// elsewhere on the server ("." and ".." also in encoded form, encoded slashes or backslashes, control characters).
    /// </summary>
    private static bool TryDecodeSegments(string path, out string[] segments)
    {
        segments = path[1..].Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            string decoded;
            try
            {
                decoded = Uri.UnescapeDataString(segments[i]);
            }
            catch (UriFormatException)
            {
                return false;
            }

            if (decoded is "." or ".." || decoded.Any(c => c is '/' or '\\' or '%' || char.IsControl(c)))
            {
                return false;
            }

            segments[i] = decoded;
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
            // The loop ends by cancellation.
        }

        _http.Dispose();
        _stop.Dispose();
        try
        {
            Directory.Delete(HostDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone: the goal is reached.
        }
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException && cancellationToken.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client, cancellationToken), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            if (Interlocked.Increment(ref _connections) > MaxConnections)
            {
                await WriteTextAsync(stream, 503, "Builder's index relay is busy (too many open connections); try again", head: false, cancellationToken);
                return;
            }

            await ServeRequestAsync(stream, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The container closed its end, or the relay is stopping with its container: nothing to answer.
            LogConnectionEnded(_logger, ex.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    private async Task ServeRequestAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        RequestHead? head;
        using (var headTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            headTimeout.CancelAfter(HeadTimeout);
            head = await RequestHead.ReadAsync(stream, MaxHeadBytes, headTimeout.Token);
        }

        if (head is null)
        {
            await WriteTextAsync(stream, 400, "Builder's index relay: malformed HTTP request", head: false, cancellationToken);
            return;
        }

        var isHead = head.Method == "HEAD";
        if (Refusal(head.Method, head.Target) is { } rule)
        {
            _note($"[relay] refused {Printable(head.Method)} {Printable(head.Target)}: {rule}");
            await WriteTextAsync(stream, 403, rule, isHead, cancellationToken);
            return;
        }

        using var request = new HttpRequestMessage(isHead ? HttpMethod.Head : HttpMethod.Get, _index.GetLeftPart(UriPartial.Path).TrimEnd('/') + head.Target);
        foreach (var name in ForwardedRequestHeaders)
        {
            if (head.Headers.TryGetValue(name, out var value))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        request.Headers.Authorization = _credentials;
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            await WriteTextAsync(stream, 502, $"Builder's index relay: the index at {_index.GetLeftPart(UriPartial.Authority)} did not answer ({ex.Message})", isHead, cancellationToken);
            return;
        }

        using (response)
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {(int)response.StatusCode} {response.ReasonPhrase}\r\n");
            foreach (var name in ForwardedResponseHeaders)
            {
                var values = response.Headers.TryGetValues(name, out var h) ? h : response.Content.Headers.TryGetValues(name, out var c) ? c : null;
                if (values is null)
                {
                    continue;
                }

                var value = string.Join(", ", values);
                if (name == "Location")
                {
                    value = LocalLocation(value);
                }

                text.Append(name).Append(": ").Append(value).Append("\r\n");
            }

            // Without a Content-Length the body ends where the connection does (RFC 9112 §6.3, rule 8).
            text.Append("Connection: close\r\n\r\n");
            await stream.WriteAsync(Encoding.Latin1.GetBytes(text.ToString()), cancellationToken);
            if (!isHead)
            {
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                await body.CopyToAsync(stream, cancellationToken);
            }
        }
    }

    /// <summary>A redirect to the index itself becomes a path, so the container follows it through the relay.</summary>
    private string LocalLocation(string location)
    {
        if (Uri.TryCreate(location, UriKind.Absolute, out var absolute)
            && string.Equals(absolute.GetLeftPart(UriPartial.Authority), _index.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            var prefix = _index.AbsolutePath.TrimEnd('/');
            var path = absolute.PathAndQuery;
            return path.StartsWith(prefix + "/", StringComparison.Ordinal) ? path[prefix.Length..] : path;
        }

        return location;
    }

    private static async Task WriteTextAsync(Stream stream, int status, string body, bool head, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(body + "\n");
        var reason = ReasonPhrase(status);
        var text = $"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken);
        if (!head)
        {
            await stream.WriteAsync(bytes, cancellationToken);
        }
    }

    private static string ReasonPhrase(int status) => status switch
    {
        400 => "Bad Request",
        403 => "Forbidden",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    };

    private static string Printable(string text)
    {
        var clean = new string([.. text.Select(c => char.IsControl(c) ? '?' : c)]);
        return clean.Length <= 200 ? clean : clean[..200] + "...";
    }

    /// <summary>The request line and headers of one HTTP/1.x request; the body (GET and HEAD have none) is never read.</summary>
    private sealed record RequestHead(string Method, string Target, Dictionary<string, string> Headers)
    {
        public static async Task<RequestHead?> ReadAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
        {
            var buffer = new byte[maxBytes];
            var length = 0;
            int end;
            while ((end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (length == buffer.Length)
                {
                    return null;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    return null;
                }

                length += read;
            }

            var lines = Encoding.Latin1.GetString(buffer, 0, end).Split("\r\n");
            var requestLine = lines[0].Split(' ');
            if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || requestLine[0].Length == 0)
            {
                return null;
            }

            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    return null;
                }

                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }

            return new RequestHead(requestLine[0], requestLine[1], headers);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Index relay connection ended early: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, string reason);
}
