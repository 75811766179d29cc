using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Index;

/// <summary>Real pip of three generations against the index: pip 22.0 (3.7, HTML only), 23.2 (3.12) and 24.2 (3.13), both JSON.</summary>
public sealed class PipClientTests : IDisposable
{
    // python version → the pip its fresh venv gets on this machine.
    public static readonly TheoryData<string, string> Pips = new() { { "3.7", "22." }, { "3.12", "23." }, { "3.13", "24." } };

    private readonly ServedIndex _index = new();

    public void Dispose() => _index.Dispose();

    private async Task<string> VenvAsync(string python, string expectedPip)
    {
        var executable = await Pip.VenvAsync(python, _index.Work);
        var version = (await Shell.RunAsync(executable, ["-m", "pip", "--version"])).EnsureSuccess("pip --version").Output;
        Assert.StartsWith("pip " + expectedPip, version, StringComparison.Ordinal);
        return executable;
    }

    private Task<ShellResult> PipAsync(string python, params string[] arguments) =>
        Shell.RunAsync(python, ["-m", "pip", .. arguments, "--index-url", _index.SimpleUrl, "--no-cache-dir", "--disable-pip-version-check"],
            environment: new Dictionary<string, string> { ["PIP_CONFIG_FILE"] = "/dev/null" });

    private static async Task<string> ImportedVersionAsync(string python, string module) =>
        (await Shell.RunAsync(python, ["-c", $"import {module}; print({module}.VERSION)"])).EnsureSuccess("import").Output.Trim();

    [Theory]
    [MemberData(nameof(Pips))]
    public async Task Pip_installs_the_newest_version_and_with_require_hashes(string python, string pip)
    {
        var old = Distributions.Wheel(_index.Work, "acme-billing", "1.3.0", requiresPython: ">=3.7");
        var wheel = Distributions.Wheel(_index.Work, "acme-billing", "1.4.0", requiresPython: ">=3.7");
        await _index.PublishAsync(old);
        await _index.PublishAsync(wheel, Distributions.Sdist(_index.Work, "acme-billing", "1.4.0", requiresPython: ">=3.7"));
        var venv = await VenvAsync(python, pip);

        (await PipAsync(venv, "install", "Acme_Billing")).EnsureSuccess("pip install");
        Assert.Equal("1.4.0", await ImportedVersionAsync(venv, "acme_billing"));

        var requirements = Path.Combine(_index.Work, $"req-{python}.txt");
        await File.WriteAllTextAsync(requirements, $"acme-billing==1.4.0 --hash=sha256:{Distributions.Sha256(wheel)}\n");
        var hashed = await PipAsync(venv, "install", "--force-reinstall", "--require-hashes", "-r", requirements);
        hashed.EnsureSuccess("pip install --require-hashes");

        await File.WriteAllTextAsync(requirements, $"acme-billing==1.4.0 --hash=sha256:{new string('0', 64)}\n");
        var wrong = await PipAsync(venv, "install", "--force-reinstall", "--require-hashes", "-r", requirements);
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("THESE PACKAGES DO NOT MATCH THE HASHES", wrong.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pips))]
    public async Task Pip_skips_a_yanked_release_unless_it_is_pinned(string python, string pip)
    {
        await _index.PublishAsync(Distributions.Wheel(_index.Work, "acme-yanky", "2.0.0"));
        await _index.PublishAsync(Distributions.Wheel(_index.Work, "acme-yanky", "2.1.0"));
        using (var yank = await _index.AdminPostAsync("/api/projects/acme-yanky/releases/2.1.0/yank", new { reason = "corrupt build" }))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, yank.StatusCode);
        }

        var venv = await VenvAsync(python, pip);
        (await PipAsync(venv, "install", "acme-yanky")).EnsureSuccess("pip install");
        Assert.Equal("2.0.0", await ImportedVersionAsync(venv, "acme_yanky"));

        var pinned = (await PipAsync(venv, "install", "acme-yanky==2.1.0")).EnsureSuccess("pip install ==2.1.0");
        Assert.Equal("2.1.0", await ImportedVersionAsync(venv, "acme_yanky"));
        Assert.Contains("corrupt build", pinned.Output, StringComparison.Ordinal); // pip warns with the reason
    }

    [Theory]
    [MemberData(nameof(Pips))]
    public async Task Pip_skips_a_release_whose_requires_python_excludes_it(string python, string pip)
    {
        await _index.PublishAsync(Distributions.Wheel(_index.Work, "acme-picky", "3.0.0", requiresPython: ">=3.7"));
        await _index.PublishAsync(Distributions.Wheel(_index.Work, "acme-picky", "3.1.0", requiresPython: ">=3.7,<3.7.1"));
        var venv = await VenvAsync(python, pip);

        var result = (await PipAsync(venv, "install", "acme-picky")).EnsureSuccess("pip install");

        Assert.Equal("3.0.0", await ImportedVersionAsync(venv, "acme_picky"));
        var refused = await PipAsync(venv, "install", "acme-picky==3.1.0");
        Assert.NotEqual(0, refused.ExitCode);
        // Every pip generation lists only the candidates whose Requires-Python admits it.
        Assert.True(refused.Output.Contains("(from versions: 3.0.0)", StringComparison.Ordinal), refused.Output);
        Assert.True(result.Output.Contains("Successfully installed acme-picky-3.0.0", StringComparison.Ordinal), result.Output);
    }

    [Theory]
    [InlineData("3.12", "23.")]
    [InlineData("3.13", "24.")]
    public async Task Pip_resolves_dependencies_from_the_metadata_sidecars(string python, string pip)
    {
        var dependency = Distributions.Wheel(_index.Work, "acme-core", "1.0.0");
        var app = Distributions.Wheel(_index.Work, "acme-app", "1.0.0", requiresDist: ["acme-core>=1.0"]);
        await _index.PublishAsync(dependency);
        await _index.PublishAsync(app);
        var venv = await VenvAsync(python, pip);

        var result = (await PipAsync(venv, "install", "--dry-run", "acme-app")).EnsureSuccess("pip install --dry-run");

        // pip's own log: during resolution it fetched the PEP 658 sidecars (".whl.metadata") of both projects, and
        // only afterwards the wheels themselves (pip downloads wheels in one batch once the resolution is done).
        var lines = result.Output.Split('\n');
        int Line(string text) => Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        // pip prints file URLs without the index URL's credentials (it still sends them: they are kept per host).
        var appMetadata = Line($"Downloading {_index.BaseUrl}files/acme-app/acme_app-1.0.0-py3-none-any.whl.metadata");
        var coreMetadata = Line($"Downloading {_index.BaseUrl}files/acme-core/acme_core-1.0.0-py3-none-any.whl.metadata");
        var firstWheel = Line("-py3-none-any.whl (");
        Assert.True(appMetadata >= 0 && coreMetadata > appMetadata, result.Output);
        Assert.True(firstWheel < 0 || firstWheel > coreMetadata, result.Output);
        Assert.True(result.Output.Contains("Collecting acme-core>=1.0 (from acme-app)", StringComparison.Ordinal), result.Output);
        Assert.Contains("Would install acme-app-1.0.0 acme-core-1.0.0", result.Output, StringComparison.Ordinal);
    }
}
