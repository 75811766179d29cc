using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Builder.Tests.Integration.Forges;

/// <summary>One call the fake forge received. <see cref="Auth"/> names the credential by its label, never its value.</summary>
internal sealed record ForgeCall(string Method, string Path, string Query, string Auth, string Body)
{
    public override string ToString() => $"{Method} {Path}{Query} auth={Auth}";
}

/// <summary>A scripted answer: wait <see cref="Delay"/>, then answer <see cref="Status"/> (0: answer as usual after the delay).</summary>
internal sealed record ForgeFault(int Status, string Body = "", IReadOnlyDictionary<string, string>? Headers = null, TimeSpan Delay = default)
{
    public static ForgeFault GitHubUnauthorized { get; } = new(401, """{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}""");

    /// <summary>GitHub's answer to a status description over 140 characters.</summary>
    public static ForgeFault GitHubDescriptionTooLong { get; } = new(422, """{"message":"Validation Failed","errors":[{"resource":"Status","code":"custom","field":"description","message":"description is too long (maximum is 140 characters)"}],"documentation_url":"https://docs.github.com/rest/commits/statuses#create-a-commit-status","status":"422"}""");

    /// <summary>GitHub's secondary rate limit: 403 with Retry-After.</summary>
    public static ForgeFault GitHubSecondaryRateLimit { get; } = new(403, """{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}""", new Dictionary<string, string> { ["Retry-After"] = "1" });

    public static ForgeFault GitHubServerError { get; } = new(500, """{"message":"Server Error"}""");

    public static ForgeFault GitLabUnauthorized { get; } = new(401, """{"message":"401 Unauthorized"}""");

    public static ForgeFault GitLabRateLimit { get; } = new(429, "Retry later\n", new Dictionary<string, string> { ["Retry-After"] = "1", ["RateLimit-Reset"] = "0" });

    public static ForgeFault GitLabServerError { get; } = new(500, """{"message":"500 Internal Server Error"}""");

    public static ForgeFault Slow(TimeSpan delay) => new(0, Delay: delay);
}

/// <summary>
/// GitHub's (as an Enterprise Server: /api/v3/, uploads at /api/uploads/), GitLab's (/api/v4/) and Gitea's (/api/v1/)
/// REST APIs on loopback, as far as Builder's forge clients use them, answering with the documented shapes. Records
/// every call in order; answers scripted faults for the next calls to a path; verifies GitHub App JWTs (RS256) against
/// a public key the test gives it.
/// </summary>
internal sealed class FakeForgeServer : IAsyncDisposable
{
    private const string GitHubDocs = "https://docs.github.com/rest";

    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly List<ForgeCall> _calls = [];
    private readonly List<(string Method, string Path, Queue<ForgeFault> Faults)> _faults = [];
    private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _githubReleases = [];
    private readonly List<GitHubAsset> _githubAssets = [];
    private readonly Dictionary<string, JsonObject> _gitlabReleases = [];
    private readonly List<JsonObject> _gitlabLinks = [];
    private readonly Dictionary<(string Project, string Sha, string Name), string> _gitlabStatuses = [];
    private int _nextId = 1000;
    private int _halfUploads;
    private int _minted;

    private FakeForgeServer(WebApplication app, string url)
    {
        _app = app;
        Url = url.TrimEnd('/') + "/";
    }

    /// <summary>The server's base, http://127.0.0.1:PORT/.</summary>
    public string Url { get; }

    public Uri GitHubApi => new(Url + "api/v3/");

    public Uri GitLabApi => new(Url + "api/v4/");

    public Uri GiteaApi => new(Url + "api/v1/");

    /// <summary>The GitHub App whose JWTs the server accepts: its id and public key.</summary>
    public (long AppId, RSA PublicKey)? App { get; set; }

    /// <summary>
    /// The token every installation token request is answered with (null: a fresh random one each time), so a test can
    /// make another server (a private git host) accept the token Builder is given.
    /// </summary>
    public string? InstallationToken { get; set; }

    /// <summary>How long a minted installation token lives (GitHub: an hour).</summary>
    public TimeSpan InstallationTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The calls so far, in the order they arrived.</summary>
    public IReadOnlyList<ForgeCall> Calls
    {
        get
        {
            lock (_lock)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>The GitHub release assets (id, name, state, size, bytes).</summary>
    public IReadOnlyList<GitHubAsset> GitHubAssets
    {
        get
        {
            lock (_lock)
            {
                return [.. _githubAssets];
            }
        }
    }

    public IReadOnlyList<JsonObject> GitLabLinks
    {
        get
        {
            lock (_lock)
            {
                return [.. _gitlabLinks];
            }
        }
    }

    public static async Task<FakeForgeServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeForgeServer? server = null;
        app.Run(context => server!.HandleAsync(context));
        await app.StartAsync();
        server = new FakeForgeServer(app, app.Urls.Single());
        return server;
    }

    /// <summary>A token the server accepts; calls with it are recorded as <c>token(label)</c>.</summary>
    public void AcceptToken(string token, string label)
    {
        lock (_lock)
        {
            _tokens[token] = label;
        }
    }

    /// <summary>The next calls with <paramref name="method"/> whose path ends with <paramref name="pathSuffix"/> answer these faults, one each.</summary>
    public void Fail(string method, string pathSuffix, params ForgeFault[] faults)
    {
        lock (_lock)
        {
            _faults.Add((method, pathSuffix, new Queue<ForgeFault>(faults)));
        }
    }

    /// <summary>The next <paramref name="count"/> uploads store half the bytes with state "new" and answer 502, as a broken upload leaves GitHub.</summary>
    public void BreakUploads(int count)
    {
        lock (_lock)
        {
            _halfUploads = count;
        }
    }

    public int MintedTokens => Volatile.Read(ref _minted);

    public void ClearCalls()
    {
        lock (_lock)
        {
            _calls.Clear();
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var question = raw.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? raw : raw[..question];
        var query = question < 0 ? string.Empty : raw[question..];
        var method = context.Request.Method;

        byte[] body;
        using (var buffer = new MemoryStream())
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            body = buffer.ToArray();
        }

        var isUpload = path.StartsWith("/api/uploads/", StringComparison.Ordinal);
        var call = new ForgeCall(method, path, query, AuthOf(context.Request), isUpload ? $"<{body.Length} bytes>" : Encoding.UTF8.GetString(body));
        ForgeFault? fault;
        lock (_lock)
        {
            _calls.Add(call);
            var scripted = _faults.FirstOrDefault(f => f.Method == method && path.EndsWith(f.Path, StringComparison.Ordinal) && f.Faults.Count > 0);
            fault = scripted.Faults?.Dequeue();
        }

        if (fault is not null)
        {
            if (fault.Delay > TimeSpan.Zero)
            {
                await Task.Delay(fault.Delay, context.RequestAborted);
            }

            if (fault.Status != 0)
            {
                foreach (var (name, value) in fault.Headers ?? new Dictionary<string, string>())
                {
                    context.Response.Headers[name] = value;
                }

                await AnswerAsync(context, fault.Status, fault.Body);
                return;
            }
        }

        var (status, json) = path switch
        {
            _ when path.StartsWith("/api/v3/", StringComparison.Ordinal) => GitHub(context.Request, method, path["/api/v3/".Length..], body),
            _ when isUpload => GitHubUpload(method, path["/api/uploads/".Length..], query, body),
            _ when path.StartsWith("/api/v4/", StringComparison.Ordinal) => GitLab(context.Request, method, path["/api/v4/".Length..], body),
            _ when path.StartsWith("/api/v1/", StringComparison.Ordinal) => Gitea(context.Request, method, path["/api/v1/".Length..], body),
            _ => (404, """{"message":"Not Found"}"""),
        };
        await AnswerAsync(context, status, json);
    }

    private static async Task AnswerAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        if (status != 204)
        {
            context.Response.ContentType = body.StartsWith('{') || body.StartsWith('[') ? "application/json; charset=utf-8" : "text/plain";
            await context.Response.WriteAsync(body, context.RequestAborted);
        }
    }

    private string AuthOf(HttpRequest request)
    {
        string? token = null;
        string kind;
        var authorization = request.Headers.Authorization.ToString();
        if (request.Headers.TryGetValue("PRIVATE-TOKEN", out var privateToken))
        {
            (kind, token) = ("private-token", privateToken.ToString());
        }
        else if (authorization.StartsWith("Bearer ", StringComparison.Ordinal) && authorization.Count(c => c == '.') == 2)
        {
            return "jwt";
        }
        else if (authorization.StartsWith("token ", StringComparison.OrdinalIgnoreCase) || authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            (kind, token) = ("token", authorization[(authorization.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        }
        else
        {
            return authorization.Length == 0 ? "none" : "other";
        }

        lock (_lock)
        {
            return $"{kind}({(_tokens.TryGetValue(token, out var label) ? label : "unknown")})";
        }
    }

    private bool KnownToken(HttpRequest request, string header, string prefix)
    {
        var value = request.Headers[header].ToString();
        // Authorization schemes are case-insensitive (RFC 9110 §11.1): Octokit sends "Token", Builder's own clients "token".
        if (!value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        lock (_lock)
        {
            return _tokens.ContainsKey(value[prefix.Length..]);
        }
    }

    // ---- GitHub (REST API v3, https://docs.github.com/rest) ----

    private (int, string) GitHub(HttpRequest request, string method, string path, byte[] body)
    {
        var parts = path.Split('/');
        if (method == "POST" && parts is ["app", "installations", var installation, "access_tokens"])
        {
            return MintInstallationToken(request, installation);
        }

        if (!KnownToken(request, "Authorization", "token ") && !KnownToken(request, "Authorization", "Bearer "))
        {
            return (401, GitHubError("Bad credentials"));
        }

        lock (_lock)
        {
            switch (method, parts)
            {
                case ("POST", ["repos", var o, var r, "statuses", var sha]):
                    {
                        var input = JsonNode.Parse(body)!.AsObject();
                        var description = (string?)input["description"];
                        if (description is { Length: > 140 })
                        {
                            return (422, ForgeFault.GitHubDescriptionTooLong.Body);
                        }

                        var state = (string?)input["state"];
                        if (state is not ("pending" or "success" or "failure" or "error"))
                        {
                            return (422, GitHubError("Validation Failed"));
                        }

                        var id = ++_nextId;
                        return (201, new JsonObject
                        {
                            ["url"] = $"{Url}api/v3/repos/{o}/{r}/statuses/{sha}",
                            ["avatar_url"] = null,
                            ["id"] = id,
                            ["node_id"] = $"SC_{id}",
                            ["state"] = state,
                            ["description"] = description,
                            ["target_url"] = (string?)input["target_url"],
                            ["context"] = (string?)input["context"] ?? "default",
                            ["created_at"] = Now(),
                            ["updated_at"] = Now(),
                            ["creator"] = GitHubUser(),
                        }.ToJsonString());
                    }

                case ("GET", ["repos", var o, var r, "releases", "tags", var tag]):
                    return _githubReleases.TryGetValue($"{o}/{r}@{Uri.UnescapeDataString(tag)}", out var found)
                        ? (200, found.ToJsonString())
                        : (404, GitHubError("Not Found"));

                case ("POST", ["repos", var o, var r, "releases"]):
                    {
                        var input = JsonNode.Parse(body)!.AsObject();
                        var tag = (string)input["tag_name"]!;
                        if (_githubReleases.ContainsKey($"{o}/{r}@{tag}"))
                        {
                            return (422, """{"message":"Validation Failed","errors":[{"resource":"Release","code":"already_exists","field":"tag_name"}]}""");
                        }

                        var id = ++_nextId;
                        var release = new JsonObject
                        {
                            ["url"] = $"{Url}api/v3/repos/{o}/{r}/releases/{id}",
                            ["html_url"] = $"{Url}{o}/{r}/releases/tag/{tag}",
                            ["assets_url"] = $"{Url}api/v3/repos/{o}/{r}/releases/{id}/assets",
                            ["upload_url"] = $"{Url}api/uploads/repos/{o}/{r}/releases/{id}/assets{{?name,label}}",
                            ["tarball_url"] = $"{Url}api/v3/repos/{o}/{r}/tarball/{tag}",
                            ["zipball_url"] = $"{Url}api/v3/repos/{o}/{r}/zipball/{tag}",
                            ["id"] = id,
                            ["node_id"] = $"RE_{id}",
                            ["tag_name"] = tag,
                            ["target_commitish"] = "main",
                            ["name"] = (string?)input["name"],
                            ["body"] = null,
                            ["draft"] = false,
                            ["prerelease"] = false,
                            ["created_at"] = Now(),
                            ["published_at"] = Now(),
                            ["author"] = GitHubUser(),
                            ["assets"] = new JsonArray(),
                        };
                        _githubReleases[$"{o}/{r}@{tag}"] = release;
                        return (201, release.ToJsonString());
                    }

                case ("GET", ["repos", _, _, "releases", var id, "assets"]):
                    return (200, new JsonArray([.. _githubAssets.Where(a => a.ReleaseId.ToString(CultureInfo.InvariantCulture) == id).Select(a => AssetJson(a))]).ToJsonString());

                case ("DELETE", ["repos", _, _, "releases", "assets", var id]):
                    return _githubAssets.RemoveAll(a => a.Id.ToString(CultureInfo.InvariantCulture) == id) > 0 ? (204, string.Empty) : (404, GitHubError("Not Found"));

                default:
                    return (404, GitHubError("Not Found"));
            }
        }
    }

    private (int, string) GitHubUpload(string method, string path, string query, byte[] body)
    {
        if (method != "POST" || path.Split('/') is not ["repos", _, _, "releases", var releaseId, "assets"])
        {
            return (404, GitHubError("Not Found"));
        }

        var name = Uri.UnescapeDataString(query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).First(p => p[0] == "name")[1]);
        lock (_lock)
        {
            if (_githubAssets.Any(a => a.Name == name && a.ReleaseId.ToString(CultureInfo.InvariantCulture) == releaseId))
            {
                return (422, """{"message":"Validation Failed","request_id":"0:0","documentation_url":"https://docs.github.com/rest","errors":[{"resource":"ReleaseAsset","code":"already_exists","field":"name"}]}""");
            }

            var asset = new GitHubAsset(++_nextId, long.Parse(releaseId, CultureInfo.InvariantCulture), name, "uploaded", body);
            if (_halfUploads > 0)
            {
                _halfUploads--;
                _githubAssets.Add(asset with { State = "new", Bytes = body[..(body.Length / 2)] });
                return (502, """{"message":"Bad Gateway"}""");
            }

            _githubAssets.Add(asset);
            return (201, AssetJson(asset).ToJsonString());
        }
    }

    private (int, string) MintInstallationToken(HttpRequest request, string installation)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (App is not { } app || !authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !ValidJwt(authorization["Bearer ".Length..], app.AppId, app.PublicKey))
        {
            return (401, GitHubError("A JSON web token could not be decoded"));
        }

        var token = InstallationToken ?? "ghs_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(18));
        var number = Interlocked.Increment(ref _minted);
        AcceptToken(token, $"installation-{installation}-{number}");
        return (201, new JsonObject
        {
            ["token"] = token,
            ["expires_at"] = DateTimeOffset.UtcNow.Add(InstallationTokenLifetime).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["permissions"] = new JsonObject { ["contents"] = "write", ["statuses"] = "write" },
            ["repository_selection"] = "selected",
        }.ToJsonString());
    }

    /// <summary>RFC 7519 with RS256: the signature over "header.payload" checks out, <c>iss</c> is the App, and it has not expired.</summary>
    private static bool ValidJwt(string jwt, long appId, RSA publicKey)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        var header = JsonNode.Parse(Base64UrlDecode(parts[0]))!;
        var payload = JsonNode.Parse(Base64UrlDecode(parts[1]))!;
        var signed = publicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64UrlDecode(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signed
            && (string?)header["alg"] == "RS256"
            && (string?)payload["iss"] == appId.ToString(CultureInfo.InvariantCulture)
            && (long)payload["exp"]! > DateTimeOffset.UtcNow.ToUnixTimeSeconds()
            && (long)payload["exp"]! - (long)payload["iat"]! <= 600;
    }

    internal static byte[] Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }

    private JsonObject AssetJson(GitHubAsset asset) => new()
    {
        ["url"] = $"{Url}api/v3/repos/o/r/releases/assets/{asset.Id}",
        ["browser_download_url"] = $"{Url}o/r/releases/download/{asset.Name}",
        ["id"] = asset.Id,
        ["node_id"] = $"RA_{asset.Id}",
        ["name"] = asset.Name,
        ["label"] = string.Empty,
        ["state"] = asset.State,
        ["content_type"] = "application/octet-stream",
        ["size"] = asset.Bytes.Length,
        ["download_count"] = 0,
        ["created_at"] = Now(),
        ["updated_at"] = Now(),
        ["uploader"] = GitHubUser(),
    };

    private JsonObject GitHubUser() => new()
    {
        ["login"] = "builder[bot]",
        ["id"] = 1,
        ["node_id"] = "U_1",
        ["avatar_url"] = $"{Url}avatars/u/1",
        ["url"] = $"{Url}api/v3/users/builder%5Bbot%5D",
        ["html_url"] = $"{Url}apps/builder",
        ["type"] = "Bot",
        ["site_admin"] = false,
    };

    private static string GitHubError(string message) =>
        new JsonObject { ["message"] = message, ["documentation_url"] = GitHubDocs }.ToJsonString();

    // ---- GitLab (REST API v4, https://docs.gitlab.com/api/) ----

    private (int, string) GitLab(HttpRequest request, string method, string path, byte[] body)
    {
        if (!KnownToken(request, "PRIVATE-TOKEN", string.Empty))
        {
            return (401, """{"message":"401 Unauthorized"}""");
        }

        var parts = path.Split('/').Select(Uri.UnescapeDataString).ToArray();
        lock (_lock)
        {
            switch (method, parts)
            {
                case ("POST", ["projects", var project, "statuses", var sha]):
                    {
                        var input = Input(request, body);
                        if (!input.TryGetValue("state", out var state))
                        {
                            return (400, """{"error":"state is missing"}""");
                        }

                        if (state is not ("pending" or "running" or "success" or "failed" or "canceled" or "skipped"))
                        {
                            return (400, """{"error":"state does not have a valid value"}""");
                        }

                        var name = input.GetValueOrDefault("name") ?? input.GetValueOrDefault("context") ?? "default";
                        if (_gitlabStatuses.TryGetValue((project, sha, name), out var previous) && previous == state)
                        {
                            // GitLab's answer when a status is set to the state it has.
                            var verb = state switch { "running" => "run", "success" => "succeed", "failed" => "drop", "canceled" => "cancel", _ => "enqueue" };
                            return (400, new JsonObject { ["message"] = $"Cannot transition status via :{verb} from :{state} (Reason(s): Status cannot transition via \"{verb}\")" }.ToJsonString());
                        }

                        _gitlabStatuses[(project, sha, name)] = state;
                        var id = ++_nextId;
                        return (201, new JsonObject
                        {
                            ["id"] = id,
                            ["sha"] = sha,
                            ["ref"] = "v1.0.0",
                            ["status"] = state,
                            ["name"] = name,
                            ["target_url"] = input.GetValueOrDefault("target_url"),
                            ["description"] = input.GetValueOrDefault("description"),
                            ["created_at"] = Now(),
                            ["started_at"] = null,
                            ["finished_at"] = null,
                            ["allow_failure"] = false,
                            ["coverage"] = null,
                            ["author"] = new JsonObject { ["id"] = 1, ["username"] = "builder", ["name"] = "Builder", ["state"] = "active" },
                        }.ToJsonString());
                    }

                case ("GET", ["projects", var project, "releases", var tag]):
                    return _gitlabReleases.TryGetValue($"{project}@{tag}", out var release)
                        ? (200, WithLinks(release, project, tag).ToJsonString())
                        : (404, """{"message":"404 Not Found"}""");

                case ("POST", ["projects", var project, "releases"]):
                    {
                        var input = JsonNode.Parse(body)!.AsObject();
                        var tag = (string)input["tag_name"]!;
                        if (_gitlabReleases.ContainsKey($"{project}@{tag}"))
                        {
                            return (409, """{"message":"Release already exists"}""");
                        }

                        var created = new JsonObject
                        {
                            ["tag_name"] = tag,
                            ["name"] = (string?)input["name"] ?? tag,
                            ["description"] = null,
                            ["created_at"] = Now(),
                            ["released_at"] = Now(),
                            ["upcoming_release"] = false,
                        };
                        _gitlabReleases[$"{project}@{tag}"] = created;
                        return (201, WithLinks(created, project, tag).ToJsonString());
                    }

                case ("GET", ["projects", var project, "releases", var tag, "assets", "links"]):
                    return _gitlabReleases.ContainsKey($"{project}@{tag}")
                        ? (200, new JsonArray([.. Links(project, tag).Select(l => l.DeepClone())]).ToJsonString())
                        : (404, """{"message":"404 Not Found"}""");

                case ("POST", ["projects", var project, "releases", var tag, "assets", "links"]):
                    {
                        if (!_gitlabReleases.ContainsKey($"{project}@{tag}"))
                        {
                            return (404, """{"message":"404 Not Found"}""");
                        }

                        var input = JsonNode.Parse(body)!.AsObject();
                        var name = (string)input["name"]!;
                        if (Links(project, tag).Any(l => (string?)l["name"] == name))
                        {
                            return (400, """{"message":{"name":["has already been taken"]}}""");
                        }

                        var id = ++_nextId;
                        var link = new JsonObject
                        {
                            ["id"] = id,
                            ["name"] = name,
                            ["url"] = (string?)input["url"],
                            ["direct_asset_url"] = (string?)input["url"],
                            ["link_type"] = (string?)input["link_type"] ?? "other",
                            ["project"] = project,
                            ["tag"] = tag,
                        };
                        _gitlabLinks.Add(link);
                        return (201, Public(link).ToJsonString());
                    }

                case ("DELETE", ["projects", var project, "releases", var tag, "assets", "links", var id]):
                    {
                        var link = Links(project, tag).FirstOrDefault(l => l["id"]!.ToJsonString() == id);
                        if (link is null)
                        {
                            return (404, """{"message":"404 Not found"}""");
                        }

                        _gitlabLinks.Remove(link);
                        return (200, Public(link).ToJsonString());
                    }

                default:
                    return (404, """{"message":"404 Not Found"}""");
            }
        }
    }

    private IEnumerable<JsonObject> Links(string project, string tag) =>
        _gitlabLinks.Where(l => (string?)l["project"] == project && (string?)l["tag"] == tag);

    private static JsonObject Public(JsonObject link)
    {
        var copy = link.DeepClone().AsObject();
        copy.Remove("project");
        copy.Remove("tag");
        return copy;
    }

    private JsonObject WithLinks(JsonObject release, string project, string tag)
    {
        var copy = release.DeepClone().AsObject();
        copy["assets"] = new JsonObject
        {
            ["count"] = Links(project, tag).Count(),
            ["sources"] = new JsonArray(),
            ["links"] = new JsonArray([.. Links(project, tag).Select(Public)]),
        };
        return copy;
    }

    /// <summary>A form or a JSON body, as GitLab's API takes either.</summary>
    private static Dictionary<string, string> Input(HttpRequest request, byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        if (request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) == true)
        {
            return JsonNode.Parse(text)!.AsObject().Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!.ToString());
        }

        return text.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p.ElementAtOrDefault(1)?.Replace('+', ' ') ?? string.Empty));
    }

    // ---- Gitea (REST API v1) ----

    private (int, string) Gitea(HttpRequest request, string method, string path, byte[] body)
    {
        if (!KnownToken(request, "Authorization", "token "))
        {
            return (401, """{"message":"token is required","url":"https://gitea.example/api/swagger"}""");
        }

        if (method != "POST" || path.Split('/') is not ["repos", _, _, "statuses", var sha])
        {
            return (404, """{"message":"The target couldn't be found.","url":"https://gitea.example/api/swagger","errors":[]}""");
        }

        var input = JsonNode.Parse(body)!.AsObject();
        var id = Interlocked.Increment(ref _nextId);
        return (201, new JsonObject
        {
            ["id"] = id,
            ["status"] = (string?)input["state"],
            ["target_url"] = (string?)input["target_url"],
            ["description"] = (string?)input["description"],
            ["context"] = (string?)input["context"],
            ["url"] = $"{Url}api/v1/repos/o/r/statuses/{sha}",
            ["created_at"] = Now(),
            ["updated_at"] = Now(),
        }.ToJsonString());
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}

/// <summary>A GitHub release asset as the fake keeps it.</summary>
internal sealed record GitHubAsset(long Id, long ReleaseId, string Name, string State, byte[] Bytes);
