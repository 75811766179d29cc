using System.Net;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Upload;

/// <summary>
/// The real clients against the real web process: Debian's twine 4.0.2 and poetry 1.3.2 publish to <c>/legacy/</c>,
/// pip and poetry install from <c>/simple/</c>. Both clients send md5, sha256 and blake2_256 digests, so a success
/// here also proves the server's BLAKE2b agrees with CPython's.
/// </summary>
public sealed class UploadClientTests : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDirectory("upload-clients");
    private BuilderProcess _web = null!;

    private string Legacy => _web.BaseUrl + "/legacy/";

    private string Simple => BuilderInstance.WithCredentials(_web.BaseUrl + "/simple/");

    public async Task InitializeAsync() => _web = await BuilderProcess.StartWebAsync(BuilderInstance.Embedded(Path.Combine(_root, "data")));

    public async Task DisposeAsync()
    {
        await _web.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    private static string Tool(string name)
    {
        var path = Path.Combine("/usr/bin", name);
        Assert.True(File.Exists(path), $"{path} is missing: scripts/ensure-deps.sh installs it (apt-get install -y {(name == "poetry" ? "python3-poetry" : name)})");
        return path;
    }

    private string Dir(string name)
    {
        var path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A home, config and cache of the test's own: nothing read from or written to the machine's (~/.pypirc, keyrings).</summary>
    private Dictionary<string, string> ClientEnvironment() => new()
    {
        ["HOME"] = Dir("home"),
        ["XDG_CONFIG_HOME"] = Dir("home/.config"),
        ["XDG_CACHE_HOME"] = Dir("home/.cache"),
        ["XDG_DATA_HOME"] = Dir("home/.local/share"),
        ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring",
        // twine prints through rich: one long line per message, no colour codes, so the output can be searched.
        ["COLUMNS"] = "1000",
        ["NO_COLOR"] = "1",
        ["POETRY_CONFIG_DIR"] = Dir("poetry-config"),
        ["POETRY_CACHE_DIR"] = Dir("poetry-cache"),
        ["POETRY_DATA_DIR"] = Dir("poetry-data"),
        ["POETRY_NO_INTERACTION"] = "1",
        ["POETRY_VIRTUALENVS_IN_PROJECT"] = "true",
    };

    private async Task<ShellResult> TwineAsync(string password, params string[] arguments)
    {
        var config = Path.Combine(Dir("home"), "empty.pypirc");
        await File.WriteAllTextAsync(config, string.Empty);
        return await Shell.RunAsync(Tool("twine"),
            ["upload", "--config-file", config, "--non-interactive", "--disable-progress-bar", "--repository-url", Legacy, "-u", "__token__", "-p", password, .. arguments],
            environment: ClientEnvironment());
    }

    private async Task<ShellResult> PoetryAsync(string project, params string[] arguments) =>
        await Shell.RunAsync(Tool("poetry"), arguments, workingDirectory: project, environment: ClientEnvironment());

    private async Task<string> PageAsync(string project)
    {
        using var http = BuilderInstance.AdminHttp(_web.BaseUrl!);
        using var response = await http.GetAsync("/simple/" + project + "/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Twine_uploads_an_sdist_and_a_wheel_that_pip_installs_retries_succeed_and_a_changed_file_is_refused_or_skipped()
    {
        var dist = Dir("dist");
        var wheel = Distributions.Wheel(dist, "acme-twine", "1.2.0");
        var sdist = Distributions.Sdist(dist, "acme-twine", "1.2.0");

        var upload = (await TwineAsync(BuilderInstance.AdminToken, wheel, sdist)).EnsureSuccess("twine upload");
        Assert.Contains("Uploading acme_twine-1.2.0-py3-none-any.whl", upload.Output, StringComparison.Ordinal);
        Assert.Contains("Uploading acme_twine-1.2.0.tar.gz", upload.Output, StringComparison.Ordinal);
        var page = await PageAsync("acme-twine");
        Assert.Contains($"acme_twine-1.2.0-py3-none-any.whl#sha256={Distributions.Sha256(wheel)}", page, StringComparison.Ordinal);
        Assert.Contains($"acme_twine-1.2.0.tar.gz#sha256={Distributions.Sha256(sdist)}", page, StringComparison.Ordinal);

        var python = await Pip.InstallAsync("3.12", Simple, "acme-twine==1.2.0", Dir("pip"));
        var imported = (await Shell.RunAsync(python, ["-c", "import acme_twine; print(acme_twine.VERSION)"])).EnsureSuccess("import acme_twine");
        Assert.Equal("1.2.0", imported.Output.Trim());

        // twine retries (and users re-run it): the same bytes again are a success.
        var again = (await TwineAsync(BuilderInstance.AdminToken, "--verbose", wheel, sdist)).EnsureSuccess("twine upload (again)");
        Assert.Contains("200 OK", again.Output, StringComparison.Ordinal);

        // Other bytes under the published name: refused, with the message twine's --skip-existing recognizes.
        var changed = Distributions.Wheel(Dir("changed"), "acme-twine", "1.2.0", requiresPython: ">=3.8");
        Assert.NotEqual(Distributions.Sha256(wheel), Distributions.Sha256(changed));
        var refused = await TwineAsync(BuilderInstance.AdminToken, changed);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("400 Bad Request", refused.Output, StringComparison.Ordinal);
        Assert.Contains("File already exists", refused.Output, StringComparison.Ordinal);

        var skipped = (await TwineAsync(BuilderInstance.AdminToken, "--skip-existing", changed)).EnsureSuccess("twine upload --skip-existing");
        Assert.Contains("Skipping acme_twine-1.2.0-py3-none-any.whl because it appears to already exist", skipped.Output, StringComparison.Ordinal);
        Assert.Contains(Distributions.Sha256(wheel), await PageAsync("acme-twine"), StringComparison.Ordinal);

        var unauthorized = await TwineAsync("not-the-admin-token-at-all", Distributions.Wheel(Dir("other"), "acme-twine", "1.3.0"));
        Assert.NotEqual(0, unauthorized.ExitCode);
        Assert.Contains("401 Unauthorized", unauthorized.Output, StringComparison.Ordinal);
        Assert.Contains("unknown token", unauthorized.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("1.3.0", await PageAsync("acme-twine"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_published_release_never_changes_every_variant_twine_uploads_is_refused_and_pip_keeps_installing_the_original()
    {
        var wheel = Distributions.Wheel(Dir("original"), "alpha-lib", "1.0");
        var sdist = Distributions.Sdist(Dir("original"), "alpha-lib", "1.0");
        (await TwineAsync(BuilderInstance.AdminToken, wheel, sdist)).EnsureSuccess("twine upload");

        // Each variant is a real, other wheel (its module says which) under a name that pip's "==1.0" would consider.
        string Variant(string version, string fileName, string tag = "py3-none-any")
        {
            var directory = Dir("variant-" + fileName);
            var made = Distributions.Wheel(directory, "alpha-lib", version, tag: tag,
                files: new Dictionary<string, string> { ["alpha_lib/__init__.py"] = $"VERSION = \"variant {fileName}\"\n" });
            var renamed = Path.Combine(directory, fileName);
            File.Move(made, renamed);
            return renamed;
        }

        (string File, string Refusal)[] variants =
        [
            (Variant("1.0+zz", "alpha_lib-1.0+zz-py3-none-any.whl"), "local version 1.0+zz"),
            (Variant("1.0.0", "alpha_lib-1.0.0-py3-none-any.whl"), "version 1.0.0 is release 1.0"),
            (Variant("1.0.0.0", "alpha_lib-1.0.0.0-py3-none-any.whl"), "version 1.0.0.0 is release 1.0"),
            (Variant("1.0", "alpha_lib-0!1.0-py3-none-any.whl"), "must be named 'alpha_lib-1.0-py3-none-any.whl'"),
            (Variant("1.0", "ALPHA_LIB-1.0-py3-none-any.whl"), "must be named 'alpha_lib-1.0-py3-none-any.whl'"),
            (Variant("1.0", "alpha.lib-1.0-py3-none-any.whl"), "must be named 'alpha_lib-1.0-py3-none-any.whl'"),
            (Variant("1.0", "alpha_lib-01.0-py3-none-any.whl"), "must be named 'alpha_lib-1.0-py3-none-any.whl'"),
            (Variant("1.0", "alpha_lib-1.0-1-py3-none-any.whl"), "already has alpha_lib-1.0-py3-none-any.whl for py3-none-any"),
            (Variant("1.0", "alpha_lib-1.0-py2.py3-none-any.whl", "py2.py3-none-any"), "already has alpha_lib-1.0-py3-none-any.whl for py3-none-any"),
        ];
        foreach (var (file, refusal) in variants)
        {
            var refused = await TwineAsync(BuilderInstance.AdminToken, file);
            Assert.True(refused.ExitCode != 0, $"{Path.GetFileName(file)} was accepted:\n{refused.Output}");
            Assert.Contains("400 Bad Request", refused.Output, StringComparison.Ordinal);
            Assert.Contains(refusal, refused.Output, StringComparison.Ordinal);
        }

        // The release is its two files, and what "==1.0" installs is the original's bytes.
        var page = await PageAsync("alpha-lib");
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(page, "<a "));
        Assert.Contains($"alpha_lib-1.0-py3-none-any.whl#sha256={Distributions.Sha256(wheel)}", page, StringComparison.Ordinal);
        Assert.Contains($"alpha_lib-1.0.tar.gz#sha256={Distributions.Sha256(sdist)}", page, StringComparison.Ordinal);
        var python = await Pip.InstallAsync("3.12", Simple, "alpha-lib==1.0", Dir("pip"));
        var imported = (await Shell.RunAsync(python, ["-c", "import alpha_lib; print(alpha_lib.VERSION)"])).EnsureSuccess("import alpha_lib");
        Assert.Equal("1.0", imported.Output.Trim());
    }

    [Fact]
    public async Task Poetry_builds_and_publishes_a_library_and_another_poetry_project_installs_it_from_builder()
    {
        var library = Dir("acme-poetry-lib");
        Directory.CreateDirectory(Path.Combine(library, "acme_poetry_lib"));
        await File.WriteAllTextAsync(Path.Combine(library, "acme_poetry_lib", "__init__.py"), "VERSION = \"0.3.0\"\n");
        await File.WriteAllTextAsync(Path.Combine(library, "pyproject.toml"), """
            [tool.poetry]
            name = "acme-poetry-lib"
            version = "0.3.0"
            description = "A library published with poetry"
            authors = ["Builder Tests <tests@builder.invalid>"]
            packages = [{ include = "acme_poetry_lib" }]

            [tool.poetry.dependencies]
            python = "^3.8"

            [build-system]
            requires = ["poetry-core"]
            build-backend = "poetry.core.masonry.api"
            """);

        // poetry build runs poetry-core in process: no index needed.
        (await PoetryAsync(library, "build")).EnsureSuccess("poetry build");
        (await PoetryAsync(library, "config", "repositories.builder", Legacy)).EnsureSuccess("poetry config repositories");
        (await PoetryAsync(library, "config", "http-basic.builder", "__token__", BuilderInstance.AdminToken)).EnsureSuccess("poetry config http-basic");
        var publish = (await PoetryAsync(library, "publish", "-r", "builder")).EnsureSuccess("poetry publish");
        Assert.Contains("Uploading acme_poetry_lib-0.3.0-py3-none-any.whl", publish.Output, StringComparison.Ordinal);
        var page = await PageAsync("acme-poetry-lib");
        Assert.Contains("acme_poetry_lib-0.3.0-py3-none-any.whl#sha256=", page, StringComparison.Ordinal);
        Assert.Contains("acme_poetry_lib-0.3.0.tar.gz#sha256=", page, StringComparison.Ordinal);

        // Publishing the same files again succeeds; a rebuilt, changed wheel under the same name is refused or skipped.
        (await PoetryAsync(library, "publish", "-r", "builder")).EnsureSuccess("poetry publish (again)");
        await File.WriteAllTextAsync(Path.Combine(library, "acme_poetry_lib", "__init__.py"), "VERSION = \"0.3.0\"  # changed\n");
        (await PoetryAsync(library, "build")).EnsureSuccess("poetry build (changed)");
        var refused = await PoetryAsync(library, "publish", "-r", "builder");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("File already exists", refused.Output, StringComparison.Ordinal);
        var skipped = (await PoetryAsync(library, "publish", "-r", "builder", "--skip-existing")).EnsureSuccess("poetry publish --skip-existing");
        Assert.Contains("File exists. Skipping", skipped.Output, StringComparison.Ordinal);

        var app = Dir("acme-poetry-app");
        await File.WriteAllTextAsync(Path.Combine(app, "pyproject.toml"), $$"""
            [tool.poetry]
            name = "acme-poetry-app"
            version = "1.0.0"
            description = "Depends on a library from Builder"
            authors = ["Builder Tests <tests@builder.invalid>"]
            packages = []

            [tool.poetry.dependencies]
            python = "^3.8"
            acme-poetry-lib = "0.3.0"

            # default = true: Builder replaces PyPI for this project (poetry 1.3), so nothing else is asked.
            [[tool.poetry.source]]
            name = "builder"
            url = "{{Simple}}"
            default = true

            [build-system]
            requires = ["poetry-core"]
            build-backend = "poetry.core.masonry.api"
            """);

        (await PoetryAsync(app, "install", "--no-root")).EnsureSuccess("poetry install");

        var imported = (await Shell.RunAsync(Path.Combine(app, ".venv", "bin", "python"), ["-c", "import acme_poetry_lib; print(acme_poetry_lib.VERSION)"]))
            .EnsureSuccess("import acme_poetry_lib");
        Assert.Equal("0.3.0", imported.Output.Trim());
        var lockFile = await File.ReadAllTextAsync(Path.Combine(app, "poetry.lock"));
        Assert.Contains("reference = \"builder\"", lockFile, StringComparison.Ordinal);
    }
}
