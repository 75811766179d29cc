using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Builder.Core.Builds;
using Builder.Core.Webhooks;

namespace Builder.Tests.Integration.Infrastructure;

public sealed record RegisteredRepository(long Id, string Name, string WebhookSecret);

public sealed record BuildStatus(long Id, string State, string? Error, string? Project, string? Version, JsonElement Json);

/// <summary>Talks to Builder over HTTP the way a user, an admin and GitHub do.</summary>
public sealed class BuilderClient(HttpClient http, string adminToken)
{
    public HttpClient Http => http;

    /// <param name="credentials">The clone's credentials (a private git host on loopback); the repository then reports no statuses.</param>
    public async Task<RegisteredRepository> RegisterAsync(string name, string cloneUrl, string? webhookSecret = null, string[]? relayProjects = null, CloneCredentials? credentials = null)
    {
        object registration = credentials is null
            ? new { provider = "github", name, cloneUrl, webhookSecret, relayProjects }
            : new { provider = "github", name, cloneUrl, webhookSecret, relayProjects, credentials = new { username = credentials.Username, token = credentials.Token }, reportStatus = false };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/repositories")
        {
            Content = JsonContent.Create(registration),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"register {name}: {(int)response.StatusCode} {body}");
        var json = JsonDocument.Parse(body).RootElement;
        return new RegisteredRepository(json.GetProperty("id").GetInt64(), name, json.GetProperty("webhookSecret").GetString()!);
    }

    /// <summary>A GitHub push event for a tag, shaped like GitHub's documented payload, signed with the repository's secret.</summary>
    public static string PushPayload(string repositoryName, string gitRef, string before, string after, bool deleted = false)
    {
        var owner = repositoryName.Split('/')[0];
        return new JsonObject
        {
            ["ref"] = gitRef,
            ["before"] = before,
            ["after"] = after,
            ["created"] = !deleted,
            ["deleted"] = deleted,
            ["forced"] = false,
            ["base_ref"] = null,
            ["compare"] = $"https://github.com/{repositoryName}/compare/{gitRef}",
            ["commits"] = new JsonArray(),
            ["head_commit"] = deleted ? null : new JsonObject { ["id"] = after, ["message"] = "release", ["distinct"] = true },
            ["repository"] = new JsonObject
            {
                ["id"] = 123456,
                ["name"] = repositoryName.Split('/')[1],
                ["full_name"] = repositoryName,
                ["private"] = true,
                ["owner"] = new JsonObject { ["name"] = owner, ["login"] = owner },
                ["clone_url"] = $"https://github.com/{repositoryName}.git",
                ["default_branch"] = "main",
            },
            ["pusher"] = new JsonObject { ["name"] = "releaser", ["email"] = "releaser@example.invalid" },
            ["sender"] = new JsonObject { ["login"] = "releaser", ["id"] = 1 },
        }.ToJsonString();
    }

    public async Task<HttpResponseMessage> SendWebhookAsync(string payload, string? secret, string gitHubEvent = "push", string? signature = null, string? deliveryId = null)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/github") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", gitHubEvent);
        request.Headers.Add("X-GitHub-Delivery", deliveryId ?? Guid.NewGuid().ToString());
        request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/test");
        var header = signature ?? (secret is null ? null : WebhookSignature.Compute(secret, bytes));
        if (header is not null)
        {
            request.Headers.Add("X-Hub-Signature-256", header);
        }

        return await http.SendAsync(request);
    }

    /// <summary>Sends a signed tag push and returns the build id from the 202 answer.</summary>
    public async Task<long> PushTagAsync(RegisteredRepository repository, TaggedRepository git)
    {
        var payload = PushPayload(repository.Name, "refs/tags/" + git.Tag, new string('0', 40), git.TagObjectSha);
        using var response = await SendWebhookAsync(payload, repository.WebhookSecret);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"webhook: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
    }

    public async Task<BuildStatus> GetBuildAsync(long id)
    {
        var json = JsonDocument.Parse(await GetAsAdminAsync($"/api/builds/{id}")).RootElement;
        return new BuildStatus(
            id,
            json.GetProperty("state").GetString()!,
            json.GetProperty("error").GetString(),
            json.GetProperty("project").GetString(),
            json.GetProperty("version").GetString(),
            json);
    }

    /// <summary>The whole log of a finished build (a running build's log is followed until it ends).</summary>
    public Task<string> GetLogAsync(long id) => GetAsAdminAsync($"/api/builds/{id}/log");

    /// <summary>The lines stored so far, at once, whatever the build's state.</summary>
    public Task<string> GetLogSoFarAsync(long id) => GetAsAdminAsync($"/api/builds/{id}/log?follow=false");

    /// <summary>GET with the admin token, whatever the client sends by default; fails the test on anything but 200.</summary>
    public async Task<string> GetAsAdminAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return body;
    }

    /// <summary>Polls the build until it reaches a final state; fails the test with the log if it takes too long.</summary>
    public async Task<BuildStatus> WaitForBuildAsync(long id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(8));
        while (true)
        {
            var status = await GetBuildAsync(id);
            if (status.State is "succeeded" or "failed" or "cancelled")
            {
                return status;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"build {id} still {status.State} after the deadline. Log:\n{await GetLogSoFarAsync(id)}");
            }

            await Task.Delay(500);
        }
    }
}
