using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Retention;

/// <summary>The retention routes and the audit log as an admin sees them, over one admin HTTP client.</summary>
internal sealed class RetentionApi(HttpClient admin)
{
    public HttpClient Http => admin;

    public async Task<long> CreateAsync(object policy)
    {
        using var response = await admin.PostAsJsonAsync("/api/retention-policies", policy);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/retention-policies: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetInt64();
    }

    public async Task<(HttpStatusCode Status, JsonElement Json)> SendAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<JsonElement> PreviewAsync(long id)
    {
        var (status, json) = await SendAsync(HttpMethod.Get, $"/api/retention-policies/{id}/preview");
        Assert.True(status == HttpStatusCode.OK, $"preview {id}: {(int)status} {json}");
        return json;
    }

    public async Task<JsonElement> RunAsync(long id)
    {
        var (status, json) = await SendAsync(HttpMethod.Post, $"/api/retention-policies/{id}/run");
        Assert.True(status == HttpStatusCode.OK, $"run {id}: {(int)status} {json}");
        return json;
    }

    /// <summary>(version, action) of a preview's or run's steps (<paramref name="list"/>: releases, done), in order.</summary>
    public static List<(string Version, string Action)> Steps(JsonElement answer, string list) =>
        [.. answer.GetProperty(list).EnumerateArray().Select(s => (s.GetProperty("version").GetString()!, s.GetProperty("action").GetString()!))];

    /// <summary>The audit events of one action (newest first).</summary>
    public async Task<List<JsonElement>> AuditAsync(string action)
    {
        var (status, json) = await SendAsync(HttpMethod.Get, "/api/audit?limit=1000&action=" + Uri.EscapeDataString(action));
        Assert.True(status == HttpStatusCode.OK, $"GET /api/audit: {(int)status}");
        return [.. json.GetProperty("events").EnumerateArray()];
    }

    /// <summary>The versions the index lists for a project (PEP 691 JSON) and which of them are yanked.</summary>
    public async Task<(List<string> Versions, HashSet<string> YankedFiles, List<string> Files)> IndexAsync(string project)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/simple/{project}/");
        request.Headers.Accept.ParseAdd("application/vnd.pypi.simple.v1+json");
        using var response = await admin.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return ([], [], []);
        }

        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var files = json.GetProperty("files").EnumerateArray().ToList();
        return (
            [.. json.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!)],
            [.. files.Where(f => f.TryGetProperty("yanked", out var y) && y.ValueKind != JsonValueKind.False).Select(f => f.GetProperty("filename").GetString()!)],
            [.. files.Select(f => f.GetProperty("filename").GetString()!)]);
    }

    public async Task UploadAsync(string directory, string project, string version)
    {
        var wheel = Distributions.Wheel(directory, project, version);
        await Access.AccessClientHelpers.PublishAsync(admin, wheel, project, version);
    }
}
