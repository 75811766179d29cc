using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;

namespace Builder.Tests.Integration.Access;

/// <summary>A token as <c>POST /api/tokens</c> (or <c>token create</c>) answered it: its id and the secret, shown once.</summary>
internal sealed record CreatedToken(long Id, string Secret);

/// <summary>What the access client tests share: tokens over the API, publishing, real clients run hermetically, polling.</summary>
internal static partial class AccessClientHelpers
{
    /// <summary>
    /// The embedded default with a failed-authentication limit no test reaches: these tests refuse credentials on
    /// purpose (pip sends a refused token twice), all from 127.0.0.1, and a 429 would hide what they check.
    /// </summary>
    public static Dictionary<string, string> Embedded(string dataDir) => new(BuilderInstance.Embedded(dataDir))
    {
        ["Builder__Access__FailedAuthLimit"] = "1000",
    };

    public static async Task<CreatedToken> CreateTokenAsync(HttpClient http, object body, AuthenticationHeaderValue? credentials = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tokens") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = credentials ?? BuilderInstance.AdminAuthorization;
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/tokens: {(int)response.StatusCode} {text}");
        var json = JsonDocument.Parse(text).RootElement;
        var secret = json.GetProperty("token").GetString()!;
        Assert.Matches(TokenShape(), secret);
        return new CreatedToken(json.GetProperty("id").GetInt64(), secret);
    }

    public static async Task RevokeTokenAsync(HttpClient http, long id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/tokens/{id}");
        request.Headers.Authorization = BuilderInstance.AdminAuthorization;
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"DELETE /api/tokens/{id}: {(int)response.StatusCode} {text}");
        Assert.Equal("revoked", JsonDocument.Parse(text).RootElement.GetProperty("state").GetString());
    }

    /// <summary>Publishes a file through the upload API with the admin token, as twine would (200 expected).</summary>
    public static async Task PublishAsync(HttpClient http, string path, string project, string version)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = LegacyUpload.Twine(path, project, version).ToContent() };
        request.Headers.Authorization = BuilderInstance.AdminAuthorization;
        using var response = await http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"upload {Path.GetFileName(path)}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    public static AuthenticationHeaderValue TokenBasic(string secret) => Basic("__token__", secret);

    /// <summary>GET with the given credentials: the status, the reason phrase and the body.</summary>
    public static async Task<(HttpStatusCode Status, string? Reason, string Body)> GetAsync(HttpClient http, string path, AuthenticationHeaderValue? credentials)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = credentials;
        using var response = await http.SendAsync(request);
        return (response.StatusCode, response.ReasonPhrase, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The project links of a <c>/simple/</c> page, or the file links of a project page (PEP 503 anchors).</summary>
    public static List<string> Links(string html) => [.. Anchor().Matches(html).Select(m => m.Groups["text"].Value)];

    /// <summary>Calls <paramref name="probe"/> until <paramref name="done"/> holds or the deadline passes; the last value and the time taken.</summary>
    public static async Task<(T Value, TimeSpan Elapsed, int Attempts)> PollAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan deadline, TimeSpan? interval = null)
    {
        var watch = Stopwatch.StartNew();
        var attempts = 0;
        while (true)
        {
            var value = await probe();
            attempts++;
            if (done(value) || watch.Elapsed > deadline)
            {
                return (value, watch.Elapsed, attempts);
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(100));
        }
    }

    public static string Tool(string name)
    {
        var path = Path.Combine("/usr/bin", name);
        Assert.True(File.Exists(path), $"{path} is missing: scripts/ensure-deps.sh installs it (apt-get install -y {(name == "poetry" ? "python3-poetry" : name)})");
        return path;
    }

    public static string Dir(string root, string name)
    {
        var path = Path.Combine(root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// A home, config and cache of the test's own for pip, twine and poetry: nothing read from or written to the machine's
    /// (~/.pypirc, ~/.netrc, keyrings, pip.conf).
    /// </summary>
    public static Dictionary<string, string> ClientEnvironment(string home) => new()
    {
        ["HOME"] = home,
        ["XDG_CONFIG_HOME"] = Dir(home, ".config"),
        ["XDG_CACHE_HOME"] = Dir(home, ".cache"),
        ["XDG_DATA_HOME"] = Dir(home, ".local/share"),
        ["PIP_CONFIG_FILE"] = "/dev/null",
        ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring",
        // twine prints through rich: one long line per message, no colour codes, so the output can be searched.
        ["COLUMNS"] = "1000",
        ["NO_COLOR"] = "1",
        ["POETRY_CONFIG_DIR"] = Dir(home, "poetry-config"),
        ["POETRY_CACHE_DIR"] = Dir(home, "poetry-cache"),
        ["POETRY_DATA_DIR"] = Dir(home, "poetry-data"),
        ["POETRY_NO_INTERACTION"] = "1",
        ["POETRY_VIRTUALENVS_IN_PROJECT"] = "true",
    };

    /// <summary>Debian's twine, uploading to <c>/legacy/</c> with the given user and password, nothing from ~/.pypirc.</summary>
    public static async Task<ShellResult> TwineAsync(string baseUrl, string home, string user, string password, params string[] files)
    {
        var config = Path.Combine(home, "empty.pypirc");
        await File.WriteAllTextAsync(config, string.Empty);
        return await Shell.RunAsync(Tool("twine"),
            ["upload", "--config-file", config, "--non-interactive", "--disable-progress-bar", "--repository-url", baseUrl + "/legacy/", "-u", user, "-p", password, .. files],
            environment: ClientEnvironment(home));
    }

    /// <summary>A fresh venv of the machine's Python <paramref name="version"/>, whose pip must be <paramref name="pipPrefix"/>.</summary>
    public static async Task<string> VenvAsync(string version, string pipPrefix, string directory)
    {
        var python = await Pip.VenvAsync(version, directory);
        var pip = (await Shell.RunAsync(python, ["-m", "pip", "--version"])).EnsureSuccess("pip --version").StandardOutput;
        Assert.StartsWith("pip " + pipPrefix, pip, StringComparison.Ordinal);
        return python;
    }

    /// <summary>
    /// <c>pip install</c> from <paramref name="indexUrl"/> only, as CI runs it: no input (a refused credential is not
    /// prompted for), no cache, no config file, <paramref name="home"/> as HOME (where ~/.netrc is read).
    /// </summary>
    public static Task<ShellResult> PipInstallAsync(string python, string home, string indexUrl, params string[] arguments) =>
        Shell.RunAsync(python, ["-m", "pip", "install", "--no-input", "--no-cache-dir", "--disable-pip-version-check", "--index-url", indexUrl, .. arguments], environment: ClientEnvironment(home));

    public static async Task<string> ImportedVersionAsync(string python, string module) =>
        (await Shell.RunAsync(python, ["-c", $"import {module}; print({module}.VERSION)"])).EnsureSuccess("import " + module).StandardOutput.Trim();

    /// <summary>Writes ~/.netrc (mode 600, as Python's netrc module wants it) with one machine entry.</summary>
    public static async Task WriteNetrcAsync(string home, string machine, string login, string password)
    {
        var path = Path.Combine(home, ".netrc");
        await File.WriteAllTextAsync(path, $"machine {machine} login {login} password {password}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>A Builder token secret: bld_ and 55 base62 characters (random part, instance tag, checksum).</summary>
    [GeneratedRegex("^bld_[0-9A-Za-z]{55}$")]
    public static partial Regex TokenShape();

    [GeneratedRegex("<a href=\"[^\"]*\"[^>]*>(?<text>[^<]*)</a>")]
    private static partial Regex Anchor();
}
