using System.Net;
using Builder.Tests.Integration.Infrastructure;
using static Builder.Tests.Integration.Access.AccessClientHelpers;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// Debian's twine 4.0.2 and poetry 1.3.2 against a real, private Builder process with tokens scoped by project: twine
/// uploads with an upload token and prints the reason of a 403; poetry installs with a read token from
/// <c>poetry config http-basic</c>.
/// </summary>
public sealed class UploadTokenClientTests : IAsyncLifetime, IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("upload-tokens");
    private BuilderProcess _web = null!;
    private HttpClient _http = null!;

    private string Home => Dir(_root, "home");

    public async Task InitializeAsync()
    {
        _web = await BuilderProcess.StartWebAsync(Embedded(Path.Combine(_root, "data")));
        _http = new HttpClient { BaseAddress = new Uri(_web.BaseUrl!), Timeout = TimeSpan.FromSeconds(60) };
    }

    public void Dispose()
    {
        _http?.Dispose();
    }

    public async Task DisposeAsync()
    {
        await _web.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    [Fact]
    public async Task Twine_uploads_with_an_upload_token_for_the_project_and_prints_the_reason_of_each_403()
    {
        var uploader = await CreateTokenAsync(_http, new { name = "ci-acme", scopes = new[] { "upload" }, projects = new[] { "acme-*" } });
        var reader = await CreateTokenAsync(_http, new { name = "reader", scopes = new[] { "read" }, projects = new[] { "acme-*" } });
        var otherUploader = await CreateTokenAsync(_http, new { name = "ci-other", scopes = new[] { "upload" }, projects = new[] { "other-*" } });
        var dist = Dir(_root, "dist");
        var wheel = Distributions.Wheel(dist, "acme-upload", "1.0.0");
        var sdist = Distributions.Sdist(dist, "acme-upload", "1.0.0");
        var byReader = Distributions.Wheel(dist, "acme-upload", "1.1.0");
        var elsewhere = Distributions.Wheel(dist, "acme-x", "1.0.0");

        var uploaded = await TwineAsync(_web.BaseUrl!, Home, "__token__", uploader.Secret, wheel, sdist);
        var readOnly = await TwineAsync(_web.BaseUrl!, Home, "__token__", reader.Secret, byReader);
        var otherProject = await TwineAsync(_web.BaseUrl!, Home, "__token__", otherUploader.Secret, elsewhere);

        uploaded.EnsureSuccess("twine upload with an upload token for acme-*");
        Assert.Contains("Uploading acme_upload-1.0.0-py3-none-any.whl", uploaded.Output, StringComparison.Ordinal);
        Assert.Contains("Uploading acme_upload-1.0.0.tar.gz", uploaded.Output, StringComparison.Ordinal);

        // twine shows the status line and, under it, the reason phrase: Builder's reason.
        Assert.True(readOnly.ExitCode != 0, readOnly.Output);
        Assert.Contains($"HTTPError: 403 Forbidden from {_web.BaseUrl}/legacy/", readOnly.Output, StringComparison.Ordinal);
        Assert.Contains($"this token (token:{reader.Id}) may not upload (a token needs the 'upload' scope; a person the publisher or admin role)",
            readOnly.Output, StringComparison.Ordinal);
        Assert.True(otherProject.ExitCode != 0, otherProject.Output);
        Assert.Contains($"HTTPError: 403 Forbidden from {_web.BaseUrl}/legacy/", otherProject.Output, StringComparison.Ordinal);
        Assert.Contains($"this token (token:{otherUploader.Id}) may not upload to project 'acme-x'", otherProject.Output, StringComparison.Ordinal);
        foreach (var (run, secret) in new[] { (uploaded, uploader.Secret), (readOnly, reader.Secret), (otherProject, otherUploader.Secret) })
        {
            Assert.DoesNotContain(secret, run.Output, StringComparison.Ordinal);
        }

        // What the index holds afterwards (read with the admin token): the two uploaded files, nothing refused.
        var page = await GetAsync(_http, "/simple/acme-upload/", BuilderInstance.AdminAuthorization);
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Equal(["acme_upload-1.0.0-py3-none-any.whl", "acme_upload-1.0.0.tar.gz"], Links(page.Body).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_http, "/simple/acme-x/", BuilderInstance.AdminAuthorization)).Status);
        // The reader token reads what the upload token published.
        Assert.Equal(2, Links((await GetAsync(_http, "/simple/acme-upload/", TokenBasic(reader.Secret))).Body).Count);

        var audit = await GetAsync(_http, "/api/audit?action=file:upload_refused", BuilderInstance.AdminAuthorization);
        Assert.Equal(HttpStatusCode.OK, audit.Status);
        var refusals = System.Text.Json.JsonDocument.Parse(audit.Body).RootElement.GetProperty("events").EnumerateArray()
            .Select(e => e.GetProperty("principal").GetString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([$"token:{reader.Id}", $"token:{otherUploader.Id}"], refusals);
    }

    [Fact]
    public async Task Poetry_install_resolves_a_private_package_with_http_basic_credentials_for_a_source_without_them()
    {
        var dist = Dir(_root, "dist");
        await PublishAsync(_http, Distributions.Wheel(dist, "acme-poetry-dep", "0.4.0"), "acme-poetry-dep", "0.4.0");
        await PublishAsync(_http, Distributions.Wheel(dist, "acme-poetry-dep", "0.5.0"), "acme-poetry-dep", "0.5.0");
        var reader = await CreateTokenAsync(_http, new { name = "poetry-reader", scopes = new[] { "read" }, projects = new[] { "acme-*" } });
        var app = Dir(_root, "acme-poetry-app");
        var simple = _web.BaseUrl + "/simple/";
        await File.WriteAllTextAsync(Path.Combine(app, "pyproject.toml"), $$"""
            [tool.poetry]
            name = "acme-poetry-app"
            version = "1.0.0"
            description = "Depends on a private library from Builder"
            authors = ["Builder Tests <tests@builder.invalid>"]
            packages = []

            [tool.poetry.dependencies]
            python = "^3.8"
            acme-poetry-dep = "^0.4"

            # default = true: Builder replaces PyPI for this project (poetry 1.3); the URL has no credentials.
            [[tool.poetry.source]]
            name = "builder"
            url = "{{simple}}"
            default = true

            [build-system]
            requires = ["poetry-core"]
            build-backend = "poetry.core.masonry.api"
            """);
        var poetry = Tool("poetry");
        var environment = ClientEnvironment(Home);

        // Without credentials poetry gets Builder's 401, says so, and resolves nothing.
        var anonymous = await Shell.RunAsync(poetry, ["lock", "--no-update"], app, environment);
        Assert.True(anonymous.ExitCode != 0, anonymous.Output);
        Assert.Contains($"Authorization error accessing {simple}acme-poetry-dep/", anonymous.Output, StringComparison.Ordinal);
        Assert.Contains("Because acme-poetry-app depends on acme-poetry-dep (^0.4) which doesn't match any versions, version solving failed.", anonymous.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(app, "poetry.lock")));

        (await Shell.RunAsync(poetry, ["config", "http-basic.builder", "__token__", reader.Secret], app, environment)).EnsureSuccess("poetry config http-basic");
        var install = (await Shell.RunAsync(poetry, ["install", "--no-root"], app, environment)).EnsureSuccess("poetry install");

        Assert.Contains("Installing acme-poetry-dep (0.4.0)", install.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(reader.Secret, install.Output, StringComparison.Ordinal);
        var imported = (await Shell.RunAsync(Path.Combine(app, ".venv", "bin", "python"), ["-c", "import acme_poetry_dep; print(acme_poetry_dep.VERSION)"]))
            .EnsureSuccess("import acme_poetry_dep");
        Assert.Equal("0.4.0", imported.StandardOutput.Trim());
        var lockFile = await File.ReadAllTextAsync(Path.Combine(app, "poetry.lock"));
        Assert.Equal(1, CountOf(lockFile, "[[package]]"));
        Assert.Equal(1, CountOf(lockFile, "reference = \"builder\""));
        Assert.Contains($"url = \"{_web.BaseUrl}/simple", lockFile, StringComparison.Ordinal);
        Assert.DoesNotContain(reader.Secret, lockFile, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string line) => text.Split('\n').Count(l => l.Trim() == line);
}
