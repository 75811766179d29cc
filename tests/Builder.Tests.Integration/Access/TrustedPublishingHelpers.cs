using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Access;

/// <summary>A Builder token minted for a CI job's ID token: the secret and the whole answer of <c>POST /api/oidc/mint-token</c>.</summary>
internal sealed record MintedToken(long Id, string Secret, string Publisher, DateTimeOffset ExpiresAt, JsonElement Json)
{
    public AuthenticationHeaderValue Basic => AccessClientHelpers.TokenBasic(Secret);
}

/// <summary>Trusted publishing through HTTP only: publishers made by the admin, ID tokens exchanged by anyone.</summary>
internal static class TrustedPublishingHelpers
{
    public const string PublishersRoute = "/api/trusted-publishers";
    public const string MintRoute = "/api/oidc/mint-token";

    /// <summary>The settings that trust <paramref name="issuers"/>, as environment variables (<c>Builder__Oidc__Issuers__N</c>).</summary>
    public static Dictionary<string, string> ProcessSettings(IDictionary<string, string> settings, params LocalOidcProvider[] issuers)
    {
        var all = new Dictionary<string, string>(settings);
        for (var i = 0; i < issuers.Length; i++)
        {
            all[$"Builder__Oidc__Issuers__{i}"] = issuers[i].Issuer;
        }

        return all;
    }

    /// <summary>The same as configuration keys for the test host (<c>Builder:Oidc:Issuers:N</c>).</summary>
    public static Dictionary<string, string?> HostSettings(params LocalOidcProvider[] issuers)
    {
        var all = new Dictionary<string, string?>
        {
            // The refusals below are failed authentications from 127.0.0.1 on purpose; a 429 would hide what they check.
            ["Builder:Access:FailedAuthLimit"] = "1000",
        };
        for (var i = 0; i < issuers.Length; i++)
        {
            all[$"Builder:Oidc:Issuers:{i}"] = issuers[i].Issuer;
        }

        return all;
    }

    /// <summary>The release publisher of the brief: GitHub's acme/billing, tags v*, environment release, upload to acme-billing.</summary>
    public static object BillingRelease(LocalOidcProvider github, string name = "billing-release") => new
    {
        name,
        issuer = github.Issuer,
        claims = new Dictionary<string, string> { ["repository"] = "acme/billing", ["ref"] = "refs/tags/v*", ["environment"] = "release" },
        scopes = new[] { "upload" },
        projects = new[] { "acme-billing" },
        description = "GitHub Actions release workflow of acme/billing",
    };

    /// <summary>A reading publisher: GitLab's acme/app on main, reading acme-app.</summary>
    public static object AppReader(LocalOidcProvider gitlab, string name = "app-ci") => new
    {
        name,
        issuer = gitlab.Issuer,
        claims = new Dictionary<string, string> { ["project_path"] = "acme/app", ["ref"] = "main" },
        scopes = new[] { "read" },
        projects = new[] { "acme-app" },
    };

    public static async Task<Answer> SendAsync(HttpClient http, HttpMethod method, string path, AuthenticationHeaderValue? auth = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = auth;
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return new Answer(response.StatusCode, response.ReasonPhrase, body, response.Headers, response.Content.Headers);
    }

    /// <summary>Creates a trusted publisher as the admin; fails the test unless 201; its id.</summary>
    public static async Task<long> CreatePublisherAsync(HttpClient http, object body)
    {
        var answer = await SendAsync(http, HttpMethod.Post, PublishersRoute, BuilderInstance.AdminAuthorization, JsonContent.Create(body));
        Assert.True(answer.Status == HttpStatusCode.Created, $"POST {PublishersRoute}: {answer}");
        return answer.Json.GetProperty("id").GetInt64();
    }

    /// <summary>What a CI job sends: its ID token, without any credentials (and the publisher's name when it chooses one).</summary>
    public static Task<Answer> ExchangeAsync(HttpClient http, string idToken, string? publisher = null) =>
        SendAsync(http, HttpMethod.Post, MintRoute, content: JsonContent.Create(publisher is null ? new { token = idToken } : (object)new { token = idToken, publisher }));

    /// <summary>Exchanges <paramref name="idToken"/>; fails the test unless 200 with a Builder token.</summary>
    public static async Task<MintedToken> MintAsync(HttpClient http, string idToken, string? publisher = null)
    {
        var answer = await ExchangeAsync(http, idToken, publisher);
        Assert.True(answer.Status == HttpStatusCode.OK, $"POST {MintRoute}: {answer}");
        var json = answer.Json;
        var secret = json.GetProperty("token").GetString()!;
        Assert.Matches(AccessClientHelpers.TokenShape(), secret);
        Assert.DoesNotContain(idToken, answer.Body, StringComparison.Ordinal);
        return new MintedToken(json.GetProperty("id").GetInt64(), secret, json.GetProperty("publisher").GetString()!,
            json.GetProperty("expiresAt").GetDateTimeOffset(), json);
    }

    /// <summary>The audit events of one action, newest first, read through <c>GET /api/audit</c> as the admin.</summary>
    public static async Task<List<JsonElement>> AuditAsync(HttpClient http, string action)
    {
        var answer = await SendAsync(http, HttpMethod.Get, "/api/audit?limit=1000&action=" + Uri.EscapeDataString(action), BuilderInstance.AdminAuthorization);
        Assert.True(answer.Status == HttpStatusCode.OK, $"GET /api/audit: {answer}");
        return [.. answer.Json.GetProperty("events").EnumerateArray()];
    }

    /// <summary>The tokens <c>GET /api/tokens</c> lists that a trusted publisher minted.</summary>
    public static async Task<List<JsonElement>> MintedTokensAsync(HttpClient http)
    {
        var answer = await SendAsync(http, HttpMethod.Get, "/api/tokens", BuilderInstance.AdminAuthorization);
        Assert.True(answer.Status == HttpStatusCode.OK, $"GET /api/tokens: {answer}");
        return [.. answer.Json.EnumerateArray().Where(t => t.TryGetProperty("publisher", out var p) && p.ValueKind == JsonValueKind.String)];
    }

    public static string? Str(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : null;
}
