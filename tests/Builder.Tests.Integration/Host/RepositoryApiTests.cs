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
