using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Builder.Docker;
using Builder.Tests.Integration.Infrastructure;
using Builder.Web.Index;
using Microsoft.Extensions.Logging.Abstractions;

namespace Builder.Tests.Integration.Docker;

/// <summary>
/// The host side of the relay, spoken to over its Unix socket the way the container's forwarder does, in front of a
/// stand-in index on loopback that records what reaches it.
/// </summary>
public sealed class IndexRelayTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDirectory("relay");
    private readonly ConcurrentQueue<string> _notes = new();
    private StandInIndex _index = null!;

    private ConcurrentQueue<string> Reached => _index.Reached;

    public async Task InitializeAsync() => _index = await StandInIndex.StartAsync();

    public async Task DisposeAsync()
    {
        await _index.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    private IndexRelay StartRelay(Uri? index = null, string? credential = null) =>
        IndexRelay.Start(Path.Combine(_root, "relays"), index ?? _index.Url, credential, _notes.Enqueue, NullLogger.Instance);

    /// <summary>An HTTP client whose every connection goes to the relay's socket (as the forwarder's do).</summary>
    private static HttpClient Through(IndexRelay relay) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(relay.SocketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://127.0.0.1:9/") };

    [Fact]
    public async Task Index_reads_pass_with_their_body_and_content_type_and_without_the_containers_credentials()
    {
        await using var relay = StartRelay();
        using var http = Through(relay);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/simple/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "stolen-token");
        request.Headers.Add("Cookie", "session=stolen");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("<a href=\"acme-helper/\">acme-helper</a>", await response.Content.ReadAsStringAsync());
        Assert.Equal(["GET /simple/ auth= cookie="], Reached);
    }

    [Theory]
    [InlineData("/simple/acme-helper/", "page of acme-helper")]
    [InlineData("/files/acme-helper/acme_helper-1.0-py3-none-any.whl", "bytes of acme_helper-1.0-py3-none-any.whl")]
    [InlineData("/files/acme-helper/acme_helper-1.0-py3-none-any.whl.metadata", "bytes of acme_helper-1.0-py3-none-any.whl.metadata")]
    [InlineData("/files/acme-helper/acme_helper-1.0%2Blocal-py3-none-any.whl", "bytes of acme_helper-1.0+local-py3-none-any.whl")]
    public async Task Project_pages_files_and_metadata_sidecars_pass(string path, string body)
    {
        await using var relay = StartRelay();
        using var http = Through(relay);

        using var response = await http.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_redirect_to_the_index_itself_comes_back_as_a_path_the_container_can_follow()
    {
        await using var relay = StartRelay();
        using var http = Through(relay);

        using var response = await http.GetAsync("/simple/Acme_Helper/");

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("/simple/acme-helper/", response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("POST", "/legacy/", "Builder's index relay allows only GET and HEAD, not POST")]
    [InlineData("PUT", "/simple/acme-helper/", "Builder's index relay allows only GET and HEAD, not PUT")]
    [InlineData("GET", "/api/builds/1", "Builder's index relay allows only the index's read routes: /simple/, /simple/<project>/, /files/<project>/<file>")]
    [InlineData("GET", "/simple/../api/builds/1", "Builder's index relay allows only the index's read routes: /simple/, /simple/<project>/, /files/<project>/<file>")]
    [InlineData("GET", "/simple/%2e%2e/api/builds/1", "Builder's index relay allows only the index's read routes: /simple/, /simple/<project>/, /files/<project>/<file>")]
    [InlineData("GET", "/files/acme-helper/..%2F..%2Fapi", "Builder's index relay allows only the index's read routes: /simple/, /simple/<project>/, /files/<project>/<file>")]
    [InlineData("GET", "/", "Builder's index relay allows only the index's read routes: /simple/, /simple/<project>/, /files/<project>/<file>")]
    public async Task Everything_else_is_refused_with_403_naming_the_rule_and_never_reaches_the_index(string method, string path, string rule)
    {
        await using var relay = StartRelay();

        // Raw bytes: HttpClient would normalize the dot segments away before sending.
        var (status, body) = await RawRequestAsync(relay, $"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");

        Assert.Equal("HTTP/1.1 403 Forbidden", status);
        Assert.Equal(rule + "\n", body);
        Assert.Empty(Reached);
        Assert.Contains($"[relay] refused {method} {path}: {rule}", _notes);
    }

    [Fact]
    public async Task The_relay_presents_the_builds_own_credentials_instead_of_the_containers()
    {
        await using var relay = StartRelay(credential: "credential-of-build-7");
        using var http = Through(relay);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/simple/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("__token__:stolen")));

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = Convert.ToBase64String(Encoding.UTF8.GetBytes("__build__:credential-of-build-7"));
        Assert.Equal([$"GET /simple/ auth=Basic {expected} cookie="], Reached);
    }

    [Fact]
    public async Task An_index_that_does_not_answer_is_a_502_with_a_reason()
    {
        await using var relay = StartRelay(new Uri("http://127.0.0.1:1/"));

        var (status, body) = await RawRequestAsync(relay, "GET /simple/ HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.Equal("HTTP/1.1 502 Bad Gateway", status);
        Assert.StartsWith("Builder's index relay: the index at http://127.0.0.1:1 did not answer", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_directory_holds_only_the_socket_and_is_gone_after_dispose()
    {
        var relay = StartRelay();
        var directory = relay.HostDirectory;
        Assert.Equal([IndexRelay.SocketName], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));

        await relay.DisposeAsync();

        Assert.False(Directory.Exists(directory));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5123", "http://127.0.0.1:5123/")]
    [InlineData("http://[::]:8080", "http://127.0.0.1:8080/")]
    [InlineData("http://+:8080", "http://127.0.0.1:8080/")]
    [InlineData("http://*:80", "http://127.0.0.1/")]
    [InlineData("http://0.0.0.0:5000", "http://127.0.0.1:5000/")]
    [InlineData("http://localhost:5000", "http://localhost:5000/")]
    public void The_embedded_servers_listening_address_becomes_a_loopback_index_url(string address, string expected)
    {
        Assert.Equal(expected, ServerIndexAddress.Loopback(address)?.AbsoluteUri);
    }

    private static async Task<(string Status, string Body)> RawRequestAsync(IndexRelay relay, string request)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(relay.SocketPath));
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        var split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (response[..response.IndexOf("\r\n", StringComparison.Ordinal)], response[(split + 4)..]);
    }
}
