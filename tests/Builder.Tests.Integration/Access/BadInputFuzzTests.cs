using System.Globalization;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// A fuzz pass over every route of the HTTP API (found in the app's own endpoint list, so a new route is fuzzed
/// without a line here) and over the upload form, as the admin on PostgreSQL (whose columns have lengths): bodies of
/// the wrong shape, fields of every wrong type, missing, null and huge, bad query values, odd forms and file names.
/// No answer may be a 5xx and the server may log no error (the console's <c>fail:</c> lines).
/// </summary>
public sealed class BadInputFuzzTests
{
    private const string Project = "acme-app";

    /// <summary>What to send besides the fuzzed field: a body the route would take, so the fuzz gets past "X is required".</summary>
    private static readonly Dictionary<string, string> ValidBodies = new(StringComparer.Ordinal)
    {
        ["POST /api/tokens/"] = """{"name":"fuzz","scopes":["read"],"projects":["acme-*"]}""",
        ["POST /api/people/"] = """{"userName":"fuzzer","password":"fuzz-password-1","roles":[{"role":"reader","projects":["acme-*"]}]}""",
        ["PATCH /api/people/{userName}"] = """{"displayName":"Alice","email":"alice@example.org","disabled":false,"roles":[{"role":"reader"}]}""",
        ["POST /api/repositories/"] = """{"provider":"github","name":"acme/fuzz","cloneUrl":"https://git.example.invalid/a.git","trigger":"tag","relayProjects":["acme-*"]}""",
        ["PATCH /api/repositories/{id}"] = """{"trigger":"tag","reportStatus":false,"relayProjects":["acme-*"],"credentials":{"username":"u","token":"t"}}""",
        ["POST /api/repositories/{id}/builds"] = """{"tag":"v1.0"}""",
        ["POST /api/upstream/allow"] = """{"project":"acme-app","reason":"fuzz"}""",
        ["POST /api/upstream/reserve"] = """{"project":"acme-other","reason":"fuzz"}""",
    };

    private static readonly string Huge = new('x', 1024 * 1024);

    /// <summary>Every wrong value a field gets: other JSON types, null, out-of-range numbers, huge and deep values.</summary>
    private static readonly string[] WrongValues =
    [
        "null", "0", "-1", "123456789012345678901234567890", "1e400", "1.5", "true", "\"\"", "\" \"", "\"x\"", "\"\\u0000\"",
        "\"2027-13-45T99:99:99Z\"", "[]", "[null]", "[1]", "[\"\"]", "{}", "{\"a\":1}",
        JsonSerializer.Serialize(Huge), "[" + JsonSerializer.Serialize(new string('y', 64 * 1024)) + "]",
        "[" + string.Join(',', Enumerable.Repeat("\"acme-*\"", 10_000)) + "]",
        string.Concat(Enumerable.Repeat("[", 200)) + string.Concat(Enumerable.Repeat("]", 200)),
    ];

    /// <summary>Bodies that are not the object a route reads.</summary>
    private static readonly string[] WrongBodies =
    [
        string.Empty, "{", "[", "nul", "null", "[]", "\"text\"", "42", "{}", "{\"unknown\":1}", "{\"a\":1,\"a\":2}", "\u00ff\u00fe",
        "{\"x\":" + JsonSerializer.Serialize(Huge) + "}",
    ];

    private static readonly string[] WrongQueryValues = ["abc", "-1", "0", "99999999999999999999", "1.5", "%00", "2027-13-45", new string('q', 16 * 1024)];

    [Fact]
    public async Task Every_API_route_and_the_upload_form_answer_bad_input_without_a_5xx_or_an_error_in_the_log()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        using var host = new AccessHost(postgres: database.ConnectionString);
        var wheel = await host.PublishAsync(Project, "1.0");
        var repository = await host.RegisterRepositoryAsync("acme/app", "0123456789abcdef0123");
        await host.CreatePersonAsync("alice", "alice-password-1", new { role = "reader" });
        var token = await host.CreateTokenAsync(new { name = "seed", scopes = new[] { "read" } });
        var routeValues = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["id"] = repository.ToString(CultureInfo.InvariantCulture),
            ["project"] = Project,
            ["version"] = "1.0",
            ["filename"] = wheel,
            ["userName"] = "alice",
            ["file"] = "none.css",
        };
        var failures = new List<string>();
        var sent = 0;

        async Task SendAsync(string label, HttpMethod method, string path, HttpContent? content)
        {
            var answer = await host.SendAsync(method, path, AccessHost.Admin, content);
            sent++;
            if (answer.Code >= 500)
            {
                failures.Add($"{label}: {answer}");
            }
        }

        var endpoints = host.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } text && (text.StartsWith("/api/", StringComparison.Ordinal) || text.StartsWith("/webhooks/", StringComparison.Ordinal)))
            .ToList();
        Assert.True(endpoints.Count > 25, $"only {endpoints.Count} API routes found");
        foreach (var endpoint in endpoints)
        {
            var pattern = endpoint.RoutePattern;
            var path = string.Concat(pattern.PathSegments.Select(segment => "/" + string.Concat(segment.Parts.Select(part => part switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => Uri.EscapeDataString(routeValues[parameter.Name]),
                _ => string.Empty,
            }))));
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            {
                var label = $"{method} {pattern.RawText}";
                var httpMethod = new HttpMethod(method);
                if (method is "POST" or "PATCH" or "PUT")
                {
                    foreach (var body in WrongBodies)
                    {
                        await SendAsync($"{label} {Short(body)}", httpMethod, path, Json(body));
                    }

                    var valid = ValidBodies.GetValueOrDefault(label, "{}");
                    var type = endpoint.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
                    foreach (var fuzzed in Variants(JsonNode.Parse(valid)!.AsObject(), type))
                    {
                        await SendAsync($"{label} {Short(fuzzed)}", httpMethod, path, Json(fuzzed));
                    }

                    await SendAsync($"{label} as a form", httpMethod, path, new FormUrlEncodedContent([new("name", "x")]));
                }

                // Query values of every parameter the handler reads that the route does not.
                var handler = endpoint.Metadata.GetMetadata<MethodInfo>();
                var queried = (handler?.GetParameters() ?? [])
                    .Where(p => p.Name is not null && pattern.GetParameter(p.Name) is null && IsQueryType(p.ParameterType))
                    .Select(p => p.Name!)
                    .ToList();
                foreach (var name in queried)
                {
                    foreach (var value in WrongQueryValues)
                    {
                        await SendAsync($"{label} ?{name}={Short(value)}", httpMethod, $"{path}?{name}={Uri.EscapeDataString(value)}", null);
                    }

                    await SendAsync($"{label} ?{name} twice", httpMethod, $"{path}?{name}=1&{name}=2", null);
                }
            }
        }

        foreach (var (label, content) in UploadForms(await File.ReadAllBytesAsync(Path.Combine(host.DataDir, "files", Project, wheel))))
        {
            await SendAsync("upload: " + label, HttpMethod.Post, "/legacy/", content);
        }

        Assert.True(sent > 500, $"only {sent} requests sent");
        var errors = host.Factory.Logs.Failures;
        Assert.True(failures.Count == 0 && errors.Count == 0, $"{failures.Count} of {sent} answers were 5xx:\n" + string.Join('\n', failures.Take(40))
            + $"\n{errors.Count} errors logged:\n" + string.Join('\n', errors.Take(20).Select(e => e.ToString()[..Math.Min(400, e.ToString().Length)])));
        // Still serving: the seeds are readable.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await host.GetAsync($"/simple/{Project}/", token.Bearer)).Status);
    }

    /// <summary>The valid body with one field at a time missing, or set to each wrong value; nested objects and lists of objects likewise, one level down.</summary>
    private static IEnumerable<string> Variants(JsonObject valid, Type? type)
    {
        var fields = valid.Select(p => p.Key)
            .Concat(type?.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)) ?? [])
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var field in fields)
        {
            var without = valid.DeepClone().AsObject();
            without.Remove(field);
            yield return without.ToJsonString();

            foreach (var value in WrongValues)
            {
                var body = valid.DeepClone().AsObject();
                body[field] = Slot;
                yield return Fill(body, value);
            }

            var property = type?.GetProperty(field, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)?.PropertyType;
            var element = property is null ? null : Nullable.GetUnderlyingType(property) ?? property;
            var inList = element is not null && element != typeof(string) && element.IsGenericType ? element.GetGenericArguments()[0] : null;
            var nested = inList ?? element;
            if (nested is null || nested == typeof(string) || !nested.IsClass)
            {
                continue;
            }

            foreach (var inner in nested.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)))
            {
                foreach (var value in WrongValues)
                {
                    var body = valid.DeepClone().AsObject();
                    var obj = new JsonObject { [inner] = Slot };
                    body[field] = inList is null ? obj : new JsonArray(obj);
                    yield return Fill(body, value);
                }
            }
        }
    }

    /// <summary>Where <see cref="Fill"/> puts a wrong value: as text, since some (200 levels deep) JsonNode would not parse.</summary>
    private const string Slot = "\u0001fuzz";

    private static string Fill(JsonObject body, string value) =>
        body.ToJsonString().Replace(JsonSerializer.Serialize(Slot), value, StringComparison.Ordinal);

    /// <summary>The upload form with fields missing, repeated, huge and odd, and odd file names and parts.</summary>
    private static IEnumerable<(string Label, HttpContent Content)> UploadForms(byte[] wheel)
    {
        var directory = TestPaths.NewTempDirectory("fuzz-upload");
        var path = Path.Combine(directory, "acme_app-1.0-py3-none-any.whl");
        File.WriteAllBytes(path, wheel);
        LegacyUpload Twine() => LegacyUpload.Twine(path, Project, "1.0");

        foreach (var field in new[] { ":action", "protocol_version", "name", "version", "filetype", "sha256_digest", "md5_digest", "blake2_256_digest" })
        {
            yield return ($"without {field}", Twine().Remove(field).ToContent());
            foreach (var value in new[] { string.Empty, " ", "\u0000", "x", "-1", "é", new string('v', 1024 * 1024), new string('w', 11 * 1024 * 1024) })
            {
                yield return ($"{field}={Short(value)}", Twine().Set(field, value).ToContent());
            }
        }

        foreach (var fileName in new[] { string.Empty, ".", "..", " ", "...", "a/", "/", "\\", "~", "-", "%2e%2e", "acme_app-1.0-py3-none-any.whl ", ".whl", "a.whl",
            "acme_app-1.0.tar.gz", "acme_app-1.0.zip", "ACME_APP-1.0-py3-none-any.WHL", "acme_app-1.0-py3-none-any.whl.metadata", new string('a', 255),
            new string('a', 4096), new string('\u4e00', 100) + ".whl", "\u202eacme.whl", "acme\u0000.whl", "con", "acme_app-1.0-py3-none-any.whl;rm" })
        {
            yield return ($"file name '{Short(fileName)}'", Twine().WithFileName(fileName).ToContent());
        }

        yield return ("no file", Twine().WithoutContent().ToContent());
        yield return ("an empty file", LegacyUploadWith(path, []));
        var boundary = "fuzz-boundary";
        foreach (var (label, raw) in new[]
        {
            ("no parts", $"--{boundary}--\r\n"),
            ("nothing", string.Empty),
            ("no closing boundary", $"--{boundary}\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n"),
            ("a part without headers", $"--{boundary}\r\n\r\nfile_upload\r\n--{boundary}--\r\n"),
            ("a part without a name", $"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--{boundary}--\r\n"),
            ("an attachment part", $"--{boundary}\r\nContent-Disposition: attachment; name=\"content\"; filename=\"a.whl\"\r\n\r\nx\r\n--{boundary}--\r\n"),
            ("two content parts", $"--{boundary}\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a-1.0-py3-none-any.whl\"\r\n\r\nx\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a-1.0-py3-none-any.whl\"\r\n\r\ny\r\n--{boundary}--\r\n"),
            ("filename* in UTF-8", $"--{boundary}\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename*=UTF-8''%2e\r\n\r\nx\r\n--{boundary}--\r\n"),
            ("headers without an end", $"--{boundary}\r\nContent-Disposition: form-data; name=\"x\"\r\n" + new string('h', 20000)),
            ("a huge header", $"--{boundary}\r\nX-Fuzz: {new string('h', 100_000)}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n--{boundary}--\r\n"),
        })
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(raw));
            content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
            yield return (label, content);
        }

        foreach (var contentType in new[] { "multipart/form-data", "multipart/form-data; boundary=", $"multipart/form-data; boundary={new string('b', 300)}", "text/plain", "application/json" })
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes("--b\r\n\r\n--b--\r\n"));
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            yield return ($"Content-Type {Short(contentType)}", content);
        }

        TestPaths.DeleteDirectory(directory);
    }

    private static HttpContent LegacyUploadWith(string path, byte[] bytes)
    {
        var empty = Path.Combine(Path.GetDirectoryName(path)!, "empty", Path.GetFileName(path));
        Directory.CreateDirectory(Path.GetDirectoryName(empty)!);
        File.WriteAllBytes(empty, bytes);
        return LegacyUpload.Twine(empty, Project, "1.0").ToContent();
    }

    private static bool IsQueryType(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(string) || type == typeof(int) || type == typeof(long) || type == typeof(bool) || type == typeof(DateTimeOffset);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static string Short(string text) => text.Length > 80 ? text[..80] + $"…({text.Length})" : text;
}
