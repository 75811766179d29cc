using System.Net;
using System.Text.RegularExpressions;
using Builder.Tests.Integration.Infrastructure;
using static Builder.Tests.Integration.Access.AccessClientHelpers;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// One private Builder process for <see cref="PipTokenClientTests"/>, with acme-sdk 1.0.0, 2.1.0 and 3.0.0 and other-lib
/// 1.0.0 published; each test makes its own tokens.
/// </summary>
public sealed class PipTokenIndex : IAsyncLifetime
{
    public string Root { get; } = TestPaths.NewTempDirectory("pip-tokens");

    public BuilderProcess Web { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string Port => new Uri(Web.BaseUrl!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public async Task InitializeAsync()
    {
        Web = await BuilderProcess.StartWebAsync(Embedded(Path.Combine(Root, "data")));
        Http = new HttpClient { BaseAddress = new Uri(Web.BaseUrl!), Timeout = TimeSpan.FromSeconds(60) };
        var dist = Dir(Root, "dist");
        foreach (var version in new[] { "1.0.0", "2.1.0", "3.0.0" })
        {
            await PublishAsync(Http, Distributions.Wheel(dist, "acme-sdk", version), "acme-sdk", version);
        }

        await PublishAsync(Http, Distributions.Wheel(dist, "other-lib", "1.0.0"), "other-lib", "1.0.0");
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Web is not null)
        {
            await Web.DisposeAsync();
        }

        TestPaths.DeleteDirectory(Root);
    }
}

/// <summary>
/// Real pip of two generations (22.0.4 on Python 3.7, 24.2 on Python 3.13) against a real, private Builder process, with
/// read tokens made through <c>POST /api/tokens</c>, given to pip the two ways the README tells users to: in the index
/// URL (<c>http://__token__:TOKEN@host/simple/</c>) and in <c>~/.netrc</c> (the index URL without credentials).
/// </summary>
public sealed partial class PipTokenClientTests(PipTokenIndex index) : IClassFixture<PipTokenIndex>, IDisposable
{
    // python → the pip its fresh venv gets on this machine (Python 3.8's is 23.0.1, so 3.7 stands for pip 22); where the token goes.
    public static readonly TheoryData<string, string, string> Clients = new()
    {
        { "3.7", "22.0.4", "url" },
        { "3.7", "22.0.4", "netrc" },
        { "3.13", "24.2", "url" },
        { "3.13", "24.2", "netrc" },
    };

    // Each test's own HOME (where pip reads ~/.netrc) and venvs.
    private readonly string _root = TestPaths.NewTempDirectory("pip-tokens-test");

    private HttpClient Http => index.Http;

    private string Home => Dir(_root, "home");

    private string Port => index.Port;

    public void Dispose() => TestPaths.DeleteDirectory(_root);

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task Pip_installs_what_a_read_token_allows_and_finds_no_other_project_or_version(string python, string pip, string where)
    {
        var reader = await CreateTokenAsync(Http, new { name = "customer", scopes = new[] { "read" }, projects = new[] { "acme-*" } });
        var ranged = await CreateTokenAsync(Http, new { name = "customer-v2", scopes = new[] { "read" }, projects = new[] { "acme-*" }, versions = ">=2,<3" });

        // What the tokens see, read over HTTP as pip reads it: one project, and for the ranged token one file.
        var root = await GetAsync(Http, "/simple/", TokenBasic(reader.Secret));
        Assert.Equal(HttpStatusCode.OK, root.Status);
        Assert.Equal(["acme-sdk"], Links(root.Body));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(Http, "/simple/other-lib/", TokenBasic(reader.Secret))).Status);
        Assert.Equal(3, Links((await GetAsync(Http, "/simple/acme-sdk/", TokenBasic(reader.Secret))).Body).Count);
        Assert.Equal(["acme_sdk-2.1.0-py3-none-any.whl"], Links((await GetAsync(Http, "/simple/acme-sdk/", TokenBasic(ranged.Secret))).Body));

        var venv = await VenvAsync(python, pip, _root);
        var runs = new List<ShellResult>();
        async Task<ShellResult> Pip(CreatedToken token, params string[] arguments)
        {
            var result = await PipInstallAsync(venv, Home, await IndexAsync(where, token.Secret), arguments);
            runs.Add(result);
            Assert.DoesNotContain(token.Secret, result.Output, StringComparison.Ordinal);
            return result;
        }

        // The ranged token: plain "acme-sdk" resolves to 2.1.0 (3.0.0 is newer, and hidden); 1.0.0 and 3.0.0 resolve to nothing.
        var newest = (await Pip(ranged, "acme-sdk")).EnsureSuccess("pip install acme-sdk (versions >=2,<3)");
        Assert.Contains("Successfully installed acme-sdk-2.1.0", newest.Output, StringComparison.Ordinal);
        Assert.Equal("2.1.0", await ImportedVersionAsync(venv, "acme_sdk"));
        foreach (var outside in new[] { "1.0.0", "3.0.0" })
        {
            var refused = await Pip(ranged, "acme-sdk==" + outside);
            Assert.True(refused.ExitCode != 0, refused.Output);
            Assert.Contains($"Could not find a version that satisfies the requirement acme-sdk=={outside} (from versions: 2.1.0)", refused.Output, StringComparison.Ordinal);
            Assert.Contains($"No matching distribution found for acme-sdk=={outside}", refused.Output, StringComparison.Ordinal);
        }

        var inside = (await Pip(ranged, "--force-reinstall", "acme-sdk==2.1.0")).EnsureSuccess("pip install acme-sdk==2.1.0");
        Assert.Contains("Successfully installed acme-sdk-2.1.0", inside.Output, StringComparison.Ordinal);

        // The plain read token: another project does not exist for it; its project's newest version installs.
        var other = await Pip(reader, "other-lib");
        Assert.True(other.ExitCode != 0, other.Output);
        Assert.Contains("Could not find a version that satisfies the requirement other-lib (from versions: none)", other.Output, StringComparison.Ordinal);
        Assert.Contains("No matching distribution found for other-lib", other.Output, StringComparison.Ordinal);
        var upgraded = (await Pip(reader, "--upgrade", "acme-sdk")).EnsureSuccess("pip install --upgrade acme-sdk");
        Assert.Contains("Successfully installed acme-sdk-3.0.0", upgraded.Output, StringComparison.Ordinal);
        Assert.Equal("3.0.0", await ImportedVersionAsync(venv, "acme_sdk"));

        Assert.Equal(6, runs.Count);
        Assert.Equal(3, runs.Count(r => r.ExitCode == 0));
        Assert.Equal(3, runs.Count(r => r.Output.Contains("Successfully installed acme-sdk-", StringComparison.Ordinal)));
        Assert.Equal(3, runs.Count(r => r.Output.Contains("No matching distribution found for", StringComparison.Ordinal)));
        // Credentials in the URL are printed masked; from ~/.netrc they are never in the URL at all.
        var shown = where == "url" ? $"Looking in indexes: http://__token__:****@127.0.0.1:{Port}/simple/" : $"Looking in indexes: http://127.0.0.1:{Port}/simple/";
        Assert.Equal(6, runs.Count(r => r.Output.Contains(shown, StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task Pip_with_an_expired_or_a_revoked_token_gets_401_and_says_why(string python, string pip, string where)
    {
        var expiring = await CreateTokenAsync(Http, new { name = "short-lived", scopes = new[] { "read" }, projects = new[] { "acme-*" }, expiresAt = DateTimeOffset.UtcNow.AddSeconds(4) });
        var revoked = await CreateTokenAsync(Http, new { name = "leaked", scopes = new[] { "read" }, projects = new[] { "acme-*" } });
        // Both work first, so the server has verified and remembered them: the refusals below must beat its cache.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(Http, "/simple/acme-sdk/", TokenBasic(expiring.Secret))).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(Http, "/simple/acme-sdk/", TokenBasic(revoked.Secret))).Status);

        await RevokeTokenAsync(Http, revoked.Id);
        var afterRevoke = await GetAsync(Http, "/simple/acme-sdk/", TokenBasic(revoked.Secret));
        Assert.Equal(HttpStatusCode.Unauthorized, afterRevoke.Status);
        Assert.StartsWith("token revoked on ", afterRevoke.Reason, StringComparison.Ordinal);

        var venv = await VenvAsync(python, pip, _root);
        var revokedRun = await PipInstallAsync(venv, Home, await IndexAsync(where, revoked.Secret), "-vv", "acme-sdk");

        var (expired, waited, _) = await PollAsync(() => GetAsync(Http, "/simple/acme-sdk/", TokenBasic(expiring.Secret)),
            r => r.Status == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(30));
        Assert.True(expired.Status == HttpStatusCode.Unauthorized, $"still {expired.Status} {waited} after its expiry");
        Assert.StartsWith("token expired on ", expired.Reason, StringComparison.Ordinal);
        var expiredRun = await PipInstallAsync(venv, Home, await IndexAsync(where, expiring.Secret), "-vv", "acme-sdk");

        foreach (var (run, secret, reason) in new[] { (revokedRun, revoked.Secret, "token revoked on "), (expiredRun, expiring.Secret, "token expired on ") })
        {
            Assert.True(run.ExitCode != 0, run.Output);
            // pip's own words: the status line with the server's reason phrase (at -vv), then no candidates at all.
            Assert.Contains($"401 Client Error: {reason}", run.Output, StringComparison.Ordinal);
            Assert.Contains($"for url: http://127.0.0.1:{Port}/simple/acme-sdk/", run.Output, StringComparison.Ordinal);
            Assert.Contains("Could not find a version that satisfies the requirement acme-sdk (from versions: none)", run.Output, StringComparison.Ordinal);
            Assert.Contains("No matching distribution found for acme-sdk", run.Output, StringComparison.Ordinal);
            Assert.True(Refused401().Count(run.Output) >= 1, run.Output);
            Assert.False(Served200().IsMatch(run.Output), run.Output);
            Assert.DoesNotContain("Successfully installed", run.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, run.Output, StringComparison.Ordinal);
        }
    }

    /// <summary>The index URL pip gets: with the token in it, or bare with the token in ~/.netrc.</summary>
    private async Task<string> IndexAsync(string where, string secret)
    {
        if (where == "url")
        {
            return $"http://__token__:{secret}@127.0.0.1:{Port}/simple/";
        }

        await WriteNetrcAsync(Home, "127.0.0.1", "__token__", secret);
        return $"http://127.0.0.1:{Port}/simple/";
    }

    // urllib3's debug line for each request pip made for the project page (pip -vv).
    [GeneratedRegex("\"GET /simple/acme-sdk/ HTTP/1.1\" 401")]
    private static partial Regex Refused401();

    [GeneratedRegex("\"GET /simple/acme-sdk/ HTTP/1.1\" 200")]
    private static partial Regex Served200();
}
