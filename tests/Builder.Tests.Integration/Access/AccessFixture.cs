using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Builder.Core.Access;
using Builder.Data;
using Builder.Index;
using Builder.Tests.Integration.Host;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Builder.Tests.Integration.Access;

/// <summary>The system clock plus an offset the test moves forward (expiry, rate-limit windows), instead of sleeping.</summary>
internal sealed class MovableClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}

/// <summary>One HTTP answer, read whole: status, reason phrase (what pip and twine print), headers and body.</summary>
internal sealed record Answer(HttpStatusCode Status, string? ReasonPhrase, string Body, HttpResponseHeaders Headers, HttpContentHeaders ContentHeaders)
{
    public int Code => (int)Status;

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    /// <summary>The problem details' detail, or null when the body is not a problem.</summary>
    public string? Detail
    {
        get
        {
            if (ContentHeaders.ContentType?.MediaType != "application/problem+json" || Body.Length == 0)
            {
                return null;
            }

            return Json.TryGetProperty("detail", out var detail) ? detail.GetString() : null;
        }
    }

    public string? Challenge => Headers.WwwAuthenticate.Count == 0 ? null : Headers.WwwAuthenticate.ToString();

    public override string ToString() => $"{Code} {ReasonPhrase}: {(Body.Length > 400 ? Body[..400] + "…" : Body)}";
}

/// <summary>A token as POST /api/tokens answered: its id, the secret (shown once) and the whole answer.</summary>
internal sealed record IssuedToken(long Id, string Secret, JsonElement Json)
{
    public AuthenticationHeaderValue Bearer => AccessHost.BearerOf(Secret);

    /// <summary>As pip, twine and poetry send it: HTTP Basic, user __token__, the token as password.</summary>
    public AuthenticationHeaderValue Basic => AccessHost.BasicOf("__token__", Secret);
}

/// <summary>
/// The real app (private by default) with its own data directory and a movable clock, in the test host or on a
/// loopback Kestrel port (when the client's address matters: ipRanges, the failed-authentication limit, the audit
/// log's addresses), with helpers that publish real wheels and create tokens and people through the API.
/// </summary>
internal sealed class AccessHost : IDisposable
{
    public const string UserAgent = "builder-access-tests/1.0";

    private int _published;

    public AccessHost(bool kestrel = false, Dictionary<string, string?>? settings = null, string? postgres = null, string? dataDir = null)
    {
        Factory = new BuilderWebFactory(dataDir, postgres)
        {
            Settings = settings ?? [],
            TestServices = services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(Clock)),
        };
        if (kestrel)
        {
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }

            Factory.UseKestrel(Port);
            Factory.StartServer();
            Http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{Port}/"),
                Timeout = TimeSpan.FromSeconds(60),
            };
        }
        else
        {
            Http = Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        }

        Http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        Work = TestPaths.NewTempDirectory("access");
    }

    public BuilderWebFactory Factory { get; }

    public MovableClock Clock { get; } = new();

    public HttpClient Http { get; }

    /// <summary>The Kestrel port (0 in the test host).</summary>
    public int Port { get; }

    /// <summary>Scratch space for distribution files.</summary>
    public string Work { get; }

    public string DataDir => Factory.DataDir;

    public static AuthenticationHeaderValue Admin => BuilderInstance.AdminAuthorization;

    public static AuthenticationHeaderValue BearerOf(string secret) => new("Bearer", secret);

    public static AuthenticationHeaderValue BasicOf(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    public async Task<Answer> SendAsync(
        HttpMethod method, string path, AuthenticationHeaderValue? auth = null, HttpContent? content = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = auth;
        configure?.Invoke(request);
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return new Answer(response.StatusCode, response.ReasonPhrase, body, response.Headers, response.Content.Headers);
    }

    public Task<Answer> GetAsync(string path, AuthenticationHeaderValue? auth = null, string? accept = null) =>
        SendAsync(HttpMethod.Get, path, auth, configure: accept is null ? null : r => r.Headers.TryAddWithoutValidation("Accept", accept));

    public Task<Answer> PostJsonAsync(string path, object body, AuthenticationHeaderValue? auth = null) =>
        SendAsync(HttpMethod.Post, path, auth, JsonContent.Create(body));

    public Task<Answer> PatchJsonAsync(string path, object body, AuthenticationHeaderValue? auth = null) =>
        SendAsync(HttpMethod.Patch, path, auth, JsonContent.Create(body));

    /// <summary>Creates a token (as the bootstrap admin unless <paramref name="by"/> says otherwise); fails the test unless 201.</summary>
    public async Task<IssuedToken> CreateTokenAsync(object body, AuthenticationHeaderValue? by = null)
    {
        var answer = await PostJsonAsync("/api/tokens", body, by ?? Admin);
        Assert.True(answer.Status == HttpStatusCode.Created, $"create token: {answer}");
        var json = answer.Json;
        return new IssuedToken(json.GetProperty("id").GetInt64(), json.GetProperty("token").GetString()!, json);
    }

    /// <summary>A local account with the given roles (e.g. <c>new { role = "reader", projects = new[] { "acme-*" } }</c>).</summary>
    public async Task CreatePersonAsync(string userName, string password, params object[] roles)
    {
        var answer = await PostJsonAsync("/api/people", new { userName, password, roles }, Admin);
        Assert.True(answer.Status == HttpStatusCode.Created, $"create person {userName}: {answer}");
    }

    /// <summary>
    /// Waits until this process's access serial watcher has read the serial as it is now: seeing it move (a person
    /// created, a token revoked), the watcher forgets every verified credential. A login after this stays verified
    /// until the next change, rather than being forgotten by a tick that was still due.
    /// </summary>
    public async Task AccessChangesHeardAsync()
    {
        var watcher = Factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<Builder.Access.AccessSerialWatcher>().Single();
        long serial;
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            serial = await db.Instance.AsNoTracking().Where(i => i.Id == 1).Select(i => i.AccessSerial ?? 0).FirstOrDefaultAsync();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (watcher.Seen != serial)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the access serial watcher did not read serial {serial} within 30 s (it read {watcher.Seen?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"})");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Writes a real wheel (and optionally an sdist) and publishes it through the app's own publisher; returns the wheel's
    /// file name. <paramref name="markdown"/> is the wheel's description, as text/markdown.
    /// </summary>
    public async Task<string> PublishAsync(string project, string version, bool sdist = false, string? markdown = null)
    {
        var directory = Path.Combine(Work, "dist-" + Interlocked.Increment(ref _published).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        var paths = new List<string>
        {
            Distributions.Wheel(directory, project, version, description: markdown, descriptionContentType: markdown is null ? null : "text/markdown"),
        };
        if (sdist)
        {
            paths.Add(Distributions.Sdist(directory, project, version));
        }

        await using var scope = Factory.Services.CreateAsyncScope();
        var publisher = scope.ServiceProvider.GetRequiredService<ReleasePublisher>();
        var files = new List<CheckedFile>();
        foreach (var path in paths)
        {
            files.Add(await DistributionInspector.InspectAsync(path, Path.GetFileName(path), CancellationToken.None));
        }

        var outcome = await publisher.PublishAsync(files, buildId: null, CancellationToken.None);
        Assert.Equal(PublishOutcome.Published, outcome);
        return Path.GetFileName(paths[0]);
    }

    /// <summary>A wheel file for an upload through /legacy/ (not published).</summary>
    public string WheelFile(string project, string version)
    {
        var directory = Path.Combine(Work, "upload-" + Interlocked.Increment(ref _published).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        return Distributions.Wheel(directory, project, version);
    }

    /// <summary>Uploads <paramref name="wheel"/> through the legacy API as twine does.</summary>
    public Task<Answer> UploadAsync(string wheel, string project, string version, AuthenticationHeaderValue? auth) =>
        SendAsync(HttpMethod.Post, "/legacy/", auth, LegacyUpload.Twine(wheel, project, version).ToContent());

    /// <summary>Registers a GitHub repository with a known webhook secret; returns its id.</summary>
    public async Task<long> RegisterRepositoryAsync(string name, string webhookSecret, string cloneUrl = "https://git.example.invalid/acme/app.git")
    {
        var answer = await PostJsonAsync("/api/repositories", new { provider = "github", name, cloneUrl, webhookSecret }, Admin);
        Assert.True(answer.Status == HttpStatusCode.Created, $"register {name}: {answer}");
        return answer.Json.GetProperty("id").GetInt64();
    }

    /// <summary>Sends a GitHub push event signed with <paramref name="secret"/> (null: unsigned), with optional credentials.</summary>
    public Task<Answer> SendWebhookAsync(string repository, string tag, string? secret, AuthenticationHeaderValue? auth = null, string sha = "0123456789abcdef0123456789abcdef01234567")
    {
        var payload = Encoding.UTF8.GetBytes(BuilderClient.PushPayload(repository, "refs/tags/" + tag, new string('0', 40), sha));
        var content = new ByteArrayContent(payload);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return SendAsync(HttpMethod.Post, "/webhooks/github", auth, content, r =>
        {
            r.Headers.Add("X-GitHub-Event", "push");
            r.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
            if (secret is not null)
            {
                r.Headers.Add("X-Hub-Signature-256", Builder.Core.Webhooks.WebhookSignature.Compute(secret, payload));
            }
        });
    }

    /// <summary>A build of <paramref name="project"/> <paramref name="version"/> as a webhook records it, with its release planned.</summary>
    public async Task<long> CreateBuildAsync(string repository, string secret, string tag, string project, string version)
    {
        var accepted = await SendWebhookAsync(repository, tag, secret);
        Assert.True(accepted.Status == HttpStatusCode.Accepted, $"webhook: {accepted}");
        var id = accepted.Json.GetProperty("id").GetInt64();
        await WithDbAsync(db => db.Builds.Where(b => b.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Project, project).SetProperty(b => b.Version, version)));
        return id;
    }

    public async Task<T> WithDbAsync<T>(Func<BuilderDbContext, Task<T>> action)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<BuilderDbContext>());
    }

    public Task<List<AuditEvent>> AuditAsync() => WithDbAsync(db => db.Audit.AsNoTracking().OrderBy(a => a.Id).ToListAsync());

    /// <summary>The embedded database file, for SQL the app would never run.</summary>
    public Microsoft.Data.Sqlite.SqliteConnection OpenSqlite()
    {
        var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(DataDir, "builder.db")};Pooling=False");
        connection.Open();
        return connection;
    }

    /// <summary>The bytes of the embedded database (main file and write-ahead log), to show a secret is nowhere in them.</summary>
    public byte[] DatabaseBytes()
    {
        using var bytes = new MemoryStream();
        foreach (var name in new[] { "builder.db", "builder.db-wal" })
        {
            var path = Path.Combine(DataDir, name);
            if (File.Exists(path))
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                file.CopyTo(bytes);
            }
        }

        return bytes.ToArray();
    }

    /// <summary>
    /// One request written byte by byte on a new connection to Kestrel, so the request target reaches the server exactly
    /// as written (HttpClient would resolve "..", and re-encode what it does not like).
    /// </summary>
    public async Task<RawAnswer> RawGetAsync(string target, string? authorization = null)
    {
        Assert.True(Port != 0, "raw requests need the Kestrel host");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        await using var stream = client.GetStream();
        var request = new StringBuilder($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{Port}\r\nUser-Agent: {UserAgent}\r\nConnection: close\r\n");
        if (authorization is not null)
        {
            request.Append("Authorization: ").Append(authorization).Append("\r\n");
        }

        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));
        using var received = new MemoryStream();
        await stream.CopyToAsync(received);
        return RawAnswer.Parse(received.ToArray());
    }

    public void Dispose()
    {
        Http.Dispose();
        Factory.Dispose();
        TestPaths.DeleteDirectory(Work);
    }
}

/// <summary>An HTTP/1.1 answer read off a socket.</summary>
internal sealed record RawAnswer(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Detail
    {
        get
        {
            if (!Headers.TryGetValue("content-type", out var type) || !type.StartsWith("application/problem+json", StringComparison.Ordinal))
            {
                return null;
            }

            return JsonDocument.Parse(Body).RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : null;
        }
    }

    public static RawAnswer Parse(byte[] bytes)
    {
        var text = Encoding.Latin1.GetString(bytes);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end > 0, "no complete HTTP head in: " + text);
        var lines = text[..end].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var body = text[(end + 4)..];
        if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var decoded = new StringBuilder();
            var at = 0;
            while (true)
            {
                var lineEnd = body.IndexOf("\r\n", at, StringComparison.Ordinal);
                var size = Convert.ToInt32(body[at..lineEnd].Split(';')[0], 16);
                if (size == 0)
                {
                    break;
                }

                decoded.Append(body, lineEnd + 2, size);
                at = lineEnd + 2 + size + 2;
            }

            body = decoded.ToString();
        }

        return new RawAnswer(status, headers, Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(body)));
    }

    public override string ToString() => $"{Status}: {(Body.Length > 300 ? Body[..300] + "…" : Body)}";
}
