using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Builder.Web.Api;

/// <summary>
/// <c>Builder.Web build --repository ID --tag TAG [--url URL]</c>: the manual trigger from a shell, for a tag whose
/// webhook never came. It asks the running service (<c>POST /api/repositories/{id}/builds</c>), so the build is queued
/// where that service queues builds, in either mode; the admin token comes from <c>BUILDER_TOKEN</c> (never an
/// argument, which would show in the process list and the shell's history). Writes the answer's JSON to standard
/// output. Exit code 0: queued (or already built); 1: refused (the problem on standard error); 2: usage error.
/// </summary>
internal static class BuildCommand
{
    public const string Name = "build";
    public const string TokenVariable = "BUILDER_TOKEN";

    private const string Usage = """
        usage: BUILDER_TOKEN=... Builder.Web build --repository ID --tag TAG [--url http://127.0.0.1:8080]
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null)
    {
        string? repository = null, tag = null, url = "http://127.0.0.1:8080";
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--repository" when value is not null:
                    repository = value;
                    i++;
                    break;
                case "--tag" when value is not null:
                    tag = value;
                    i++;
                    break;
                case "--url" when value is not null:
                    url = value;
                    i++;
                    break;
                default:
                    await error.WriteLineAsync($"build: unexpected argument '{args[i]}'\n{Usage}");
                    return 2;
            }
        }

        if (!long.TryParse(repository, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || string.IsNullOrWhiteSpace(tag)
            || !Uri.TryCreate(url, UriKind.Absolute, out var baseUrl))
        {
            await error.WriteLineAsync("build: give --repository (its id: GET /api/repositories lists them), --tag and a valid --url\n" + Usage);
            return 2;
        }

        var token = Environment.GetEnvironmentVariable(TokenVariable);
        if (string.IsNullOrEmpty(token))
        {
            await error.WriteLineAsync($"build: set {TokenVariable} to an admin token\n{Usage}");
            return 2;
        }

        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = baseUrl;
        http.Timeout = TimeSpan.FromMinutes(2);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/repositories/{id.ToString(CultureInfo.InvariantCulture)}/builds")
        {
            Content = JsonContent.Create(new { tag }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request);
        }
        catch (HttpRequestException ex)
        {
            await error.WriteLineAsync($"build: {baseUrl} cannot be reached: {ex.Message}");
            return 1;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode)
            {
                await output.WriteLineAsync(body);
                return 0;
            }

            await error.WriteLineAsync($"build: {(int)response.StatusCode} {ProblemDetail(body) ?? response.ReasonPhrase}");
            return 1;
        }
    }

    private static string? ProblemDetail(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
