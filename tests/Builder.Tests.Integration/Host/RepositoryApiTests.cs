using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Host;

public sealed class RepositoryApiTests : IDisposable
{
    private readonly BuilderWebFactory _factory = new();
    private readonly HttpClient _http;

    public RepositoryApiTests() => _http = _factory.CreateClient();

    public void Dispose() => _factory.Dispose();

    private async Task<HttpResponseMessage> PostAsync(object body, string? token = BuilderInstance.AdminToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/repositories") { Content = JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _http.SendAsync(request);
    }

    [Fact]
    public async Task Registering_needs_the_admin_token()
    {
        var body = new { provider = "github", name = "acme/billing", cloneUrl = "https://git.example.invalid/a.git" };

        using var none = await PostAsync(body, token: null);
        using var wrong = await PostAsync(body, token: "not-the-admin-token-at-all");
        using var list = await _http.GetAsync("/api/repositories");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal("Basic", none.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Registering_answers_201_with_a_generated_secret_and_lists_without_secrets()
    {
        using var created = await PostAsync(new { provider = "github", name = "acme/billing", cloneUrl = "https://git.example.invalid/a.git" });
        using var chosen = await PostAsync(new { provider = "gitlab", name = "group/sub/tools", cloneUrl = "https://gitlab.example.invalid/t.git", webhookSecret = "my-own-secret-of-20-chars" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.Matches("^[0-9a-f]{64}$", json.GetProperty("webhookSecret").GetString());
        Assert.EndsWith("/webhooks/github", json.GetProperty("webhookUrl").GetString(), StringComparison.Ordinal);
        Assert.Equal($"/api/repositories/{json.GetProperty("id").GetInt64()}", created.Headers.Location?.OriginalString);
        Assert.Equal("my-own-secret-of-20-chars", JsonDocument.Parse(await chosen.Content.ReadAsStringAsync()).RootElement.GetProperty("webhookSecret").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/repositories");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
        using var list = await _http.SendAsync(request);
        var text = await list.Content.ReadAsStringAsync();
        var names = JsonDocument.Parse(text).RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Equal(["acme/billing", "group/sub/tools"], names);
        Assert.DoesNotContain("my-own-secret-of-20-chars", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bitbucket", "acme/billing", "https://h.invalid/a.git", null, "provider")]
    [InlineData("github", "billing", "https://h.invalid/a.git", null, "name")]
    [InlineData("github", "acme/billing", "git@github.com:acme/billing.git", null, "cloneUrl")]
    [InlineData("github", "acme/billing", "ssh://git@h.invalid/a.git", null, "cloneUrl")]
    [InlineData("github", "acme/billing", "https://h.invalid/a.git", "short", "webhookSecret")]
    public async Task Bad_registrations_are_400_naming_the_field(string provider, string name, string cloneUrl, string? secret, string field)
    {
        using var response = await PostAsync(new { provider, name, cloneUrl, webhookSecret = secret });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<(HttpStatusCode Status, string? Detail)> SendJsonAsync(HttpMethod method, string path, string json)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, body.Length == 0 ? null : JsonDocument.Parse(body).RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : body);
    }

    [Fact]
    public async Task A_change_to_null_or_to_a_value_of_the_wrong_type_is_400_naming_the_field()
    {
        using var created = await PostAsync(new { provider = "github", name = "acme/billing", cloneUrl = "https://git.example.invalid/a.git" });
        var path = created.Headers.Location!.OriginalString;

        var cases = new (string Body, string Detail)[]
        {
            ("""{"trigger": null}""", "'trigger' must be 'tag' (a tag push builds, the default) or 'release' (a published GitHub release builds)"),
            ("""{"reportStatus": "yes"}""", "'reportStatus' has the wrong type: "),
            ("""{"relayProjects": "acme-*"}""", "'relayProjects' must be a list of strings"),
            ("""{"credentials": {"username": 5, "token": "t"}}""", "'credentials.username' must be a string"),
            ("""{"trigger": """, "the body is not valid JSON (line 1, byte 13): "),
        };
        foreach (var (body, detail) in cases)
        {
            var (status, answer) = await SendJsonAsync(HttpMethod.Patch, path, body);
            Assert.True(status == HttpStatusCode.BadRequest, $"{body}: {(int)status} {answer}");
            Assert.StartsWith(detail, answer, StringComparison.Ordinal);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
        using var unchanged = await _http.SendAsync(request);
        Assert.Equal("tag", JsonDocument.Parse(await unchanged.Content.ReadAsStringAsync()).RootElement.GetProperty("trigger").GetString());
        Assert.Empty(_factory.Logs.Failures);
    }

    [Fact]
    public async Task A_GitHub_App_key_that_is_not_an_RSA_private_key_is_400_and_a_real_one_is_taken()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        using var ec = System.Security.Cryptography.ECDsa.Create();
        var cases = new (string Key, string Detail)[]
        {
            ("not a key", "'credentials.githubApp.privateKey' is not a PEM RSA private key"),
            ("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "'credentials.githubApp.privateKey' is PEM but not an RSA private key"),
            (rsa.ExportSubjectPublicKeyInfoPem(), "'credentials.githubApp.privateKey' is PEM but not an RSA private key"),
            (ec.ExportPkcs8PrivateKeyPem(), "'credentials.githubApp.privateKey' is PEM but not an RSA private key"),
        };
        var n = 0;
        foreach (var (key, detail) in cases)
        {
            using var response = await PostAsync(new { provider = "github", name = $"acme/app{n++}", cloneUrl = "https://git.example.invalid/a.git", credentials = new { githubApp = new { appId = 7, privateKey = key } } });
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{key[..Math.Min(10, key.Length)]}: {(int)response.StatusCode} {body}");
            Assert.StartsWith(detail, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain("AAAA", body, StringComparison.Ordinal);
        }

        using var taken = await PostAsync(new { provider = "github", name = "acme/app", cloneUrl = "https://git.example.invalid/a.git", credentials = new { githubApp = new { appId = 7, privateKey = rsa.ExportRSAPrivateKeyPem() } } });
        Assert.Equal(HttpStatusCode.Created, taken.StatusCode);
        Assert.Empty(_factory.Logs.Failures);
    }

    [Fact]
    public async Task Registering_the_same_name_twice_is_409()
    {
        var body = new { provider = "github", name = "acme/billing", cloneUrl = "https://git.example.invalid/a.git" };
        using var first = await PostAsync(body);
        using var second = await PostAsync(body);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
    }

    [Fact]
    public async Task Unknown_builds_and_projects_are_404_and_other_spellings_redirect()
    {
        using var admin = _factory.CreateAdminClient();
        using var build = await admin.GetAsync("/api/builds/999");
        using var log = await admin.GetAsync("/api/builds/999/log");
        using var project = await admin.GetAsync("/simple/no-such-project/");
        using var root = await admin.GetAsync("/simple/");
        var noRedirect = _factory.CreateAdminClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var spelled = await noRedirect.GetAsync("/simple/Acme_Billing/");
        using var noSlash = await noRedirect.GetAsync("/simple/acme-billing");

        Assert.Equal(HttpStatusCode.NotFound, build.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, log.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, project.StatusCode);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal("text/html", root.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.MovedPermanently, spelled.StatusCode);
        Assert.Equal("/simple/acme-billing/", spelled.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.MovedPermanently, noSlash.StatusCode);
    }
}
