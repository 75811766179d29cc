using System.Diagnostics;
using System.Net;
using Builder.Core.Access;
using Builder.Tests.Integration.Infrastructure;
using Xunit.Abstractions;
using static Builder.Tests.Integration.Access.AccessClientHelpers;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// <c>dotnet Builder.Web.dll token create|list|revoke</c> run as the real process against a data directory, the way an
/// operator bootstraps an installation: no admin token in the environment, the secret alone on standard output.
/// </summary>
public sealed class TokenCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = TestPaths.NewTempDirectory("token-command");

    private string DataDir => Path.Combine(_root, "data");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        TestPaths.DeleteDirectory(_root);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Token_create_on_a_new_data_directory_prints_the_secret_alone_on_standard_output()
    {
        Assert.False(Directory.Exists(DataDir));

        var created = await TokenAsync("create", "--name", "ci-reader", "--scope", "read", "--project", "acme-*", "--expires", "90d");

        Assert.True(created.ExitCode == 0, created.Output);
        // TOKEN=$(dotnet Builder.Web.dll token create ...) must capture the secret and nothing else.
        var lines = created.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"standard output has {lines.Length} lines:\n{created.StandardOutput}");
        Assert.Matches(TokenShape(), lines[0]);
        Assert.Equal(59, lines[0].Length);
        Assert.Contains("shown only this once", created.StandardError, StringComparison.Ordinal);
        Assert.Contains("Created token 1 'ci-reader': scopes read; projects acme-*; expires ", created.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_from_the_command_line_reads_its_projects_only_and_is_listed_without_its_secret()
    {
        var created = await TokenAsync("create", "--name", "ci-reader", "--scope", "read", "--project", "acme-*", "--expires", "90d");
        var secret = SecretOf(created);

        var list = await TokenAsync("list");

        Assert.True(list.ExitCode == 0, list.Output);
        var rows = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var row = Assert.Single(rows, r => r.StartsWith("1\tci-reader\t", StringComparison.Ordinal)).Split('\t');
        Assert.Equal(["1", "ci-reader", "active", "read", "acme-*", secret[..8] + "…"], row[..6]);
        Assert.StartsWith("expires ", row[6], StringComparison.Ordinal);
        var expires = DateTimeOffset.Parse(row[6]["expires ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromDays(90) - TimeSpan.FromMinutes(5), TimeSpan.FromDays(90));
        Assert.Equal("last used never", row[7]);
        Assert.Equal(8, row.Length);
        Assert.DoesNotContain(secret, list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[8..], list.Output, StringComparison.Ordinal);

        await using var web = await BuilderProcess.StartWebAsync(AccessClientHelpers.Embedded(DataDir));
        using var http = new HttpClient { BaseAddress = new Uri(web.BaseUrl!) };
        var dist = Dir(_root, "dist");
        await PublishAsync(http, Distributions.Wheel(dist, "acme-sdk", "1.0.0"), "acme-sdk", "1.0.0");
        await PublishAsync(http, Distributions.Wheel(dist, "other-lib", "1.0.0"), "other-lib", "1.0.0");

        var root = await GetAsync(http, "/simple/", TokenBasic(secret));
        Assert.Equal(HttpStatusCode.OK, root.Status);
        Assert.Equal(["acme-sdk"], Links(root.Body));
        Assert.Equal(["acme_sdk-1.0.0-py3-none-any.whl"], Links((await GetAsync(http, "/simple/acme-sdk/", TokenBasic(secret))).Body));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, "/simple/other-lib/", TokenBasic(secret))).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/simple/acme-sdk/", new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret))).Status);
        // Read only: the API's admin routes are not its to use.
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(http, "/api/tokens", new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret))).Status);
    }

    [Fact]
    public async Task A_token_revoked_on_the_command_line_is_refused_and_the_others_are_not()
    {
        var kept = SecretOf(await TokenAsync("create", "--name", "kept", "--scope", "read"));
        var revokedSecret = SecretOf(await TokenAsync("create", "--name", "revoked", "--scope", "read", "--description", "leaked in a CI log"));

        var revoke = await TokenAsync("revoke", "2");
        var again = await TokenAsync("revoke", "2");
        var list = await TokenAsync("list");

        Assert.True(revoke.ExitCode == 0, revoke.Output);
        Assert.Contains("Revoked token 2 'revoked'.", revoke.StandardError, StringComparison.Ordinal);
        Assert.True(again.ExitCode == 0, again.Output); // revoking twice changes nothing and is no error
        var states = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(r => char.IsAsciiDigit(r[0])).Select(r => string.Join('\t', r.Split('\t')[..3])).ToList();
        Assert.Equal(["1\tkept\tactive", "2\trevoked\trevoked"], states);

        await using var web = await BuilderProcess.StartWebAsync(AccessClientHelpers.Embedded(DataDir));
        using var http = new HttpClient { BaseAddress = new Uri(web.BaseUrl!) };
        var refused = await GetAsync(http, "/simple/", TokenBasic(revokedSecret));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.StartsWith("token revoked on ", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/simple/", TokenBasic(kept))).Status);
    }

    [Fact]
    public async Task A_token_revoked_on_the_command_line_while_the_embedded_server_runs_is_refused_within_its_recheck_time()
    {
        var secret = SecretOf(await TokenAsync("create", "--name", "in-use", "--scope", "read"));
        await using var web = await BuilderProcess.StartWebAsync(AccessClientHelpers.Embedded(DataDir));
        using var http = new HttpClient { BaseAddress = new Uri(web.BaseUrl!) };
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/simple/", TokenBasic(secret))).Status); // verified, and remembered

        var revoke = await TokenAsync("revoke", "1");
        Assert.True(revoke.ExitCode == 0, revoke.Output);
        var sinceRevoked = Stopwatch.StartNew();
        // The command is another process: the embedded server has no NOTIFY to learn from, only its own recheck (60 s).
        var refused = await PollAsync(() => GetAsync(http, "/simple/", TokenBasic(secret)), r => r.Status != HttpStatusCode.OK, TimeSpan.FromSeconds(75), TimeSpan.FromMilliseconds(250));
        output.WriteLine($"the running embedded server refused the token {sinceRevoked.Elapsed.TotalSeconds:0.0} s after 'token revoke' ended ({refused.Attempts - 1} requests served meanwhile)");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.Value.Status);
        Assert.StartsWith("token revoked on ", refused.Value.Reason, StringComparison.Ordinal);
        Assert.True(sinceRevoked.Elapsed < TimeSpan.FromSeconds(65), $"served for {sinceRevoked.Elapsed} after revocation");
    }

    [Fact]
    public async Task Usage_errors_exit_2_and_refusals_exit_1_each_with_a_message()
    {
        var none = await TokenAsync();
        var unknownCommand = await TokenAsync("rotate");
        Assert.False(Directory.Exists(DataDir), "a usage error before any option is read touches no data");
        var noId = await TokenAsync("revoke");
        var notAnId = await TokenAsync("revoke", "first");
        var noValue = await TokenAsync("create", "--name");
        var unknownOption = await TokenAsync("create", "--name", "x", "--scope", "read", "--colour", "red");
        var badExpiry = await TokenAsync("create", "--name", "x", "--scope", "read", "--expires", "soon");
        var stray = await TokenAsync("create", "x");
        var badScope = await TokenAsync("create", "--name", "x", "--scope", "superuser");
        var adminForProjects = await TokenAsync("create", "--name", "x", "--scope", "admin", "--project", "acme-*");
        var badRange = await TokenAsync("create", "--name", "x", "--scope", "read", "--ip", "10.0.0.0/33");
        var noSuchToken = await TokenAsync("revoke", "42");
        var list = await TokenAsync("list");

        (ShellResult Run, int Code, string Message)[] expected =
        [
            (none, 2, "usage: Builder.Web token create --name NAME --scope read|upload|admin"),
            (unknownCommand, 2, "usage: Builder.Web token create"),
            (noId, 2, "token revoke: which token? give its id (token list shows them)"),
            (notAnId, 2, "token revoke: which token? give its id"),
            (noValue, 2, "token create: --name needs a value"),
            (unknownOption, 2, "token create: unknown option --colour"),
            (badExpiry, 2, "token create: --expires 'soon': give a duration (90d, 12h, 30m) or a date"),
            (stray, 2, "token create: unexpected argument 'x'"),
            (badScope, 1, "token create: unknown scope 'superuser'; scopes are read, upload and admin"),
            (adminForProjects, 1, "token create: an admin token is not limited to projects"),
            (badRange, 1, "token create: 'ipRanges': '10.0.0.0/33' is not an address or CIDR range"),
            (noSuchToken, 1, "token revoke: no token 42"),
        ];
        foreach (var (run, code, message) in expected)
        {
            Assert.True(run.ExitCode == code, $"exit code {run.ExitCode}, expected {code}:\n{run.Output}");
            Assert.Contains(message, run.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain(TokenSecret.Prefix, run.StandardOutput, StringComparison.Ordinal);
        }

        Assert.Equal(12, expected.Length);
        Assert.True(list.ExitCode == 0, list.Output);
        Assert.DoesNotContain(TokenSecret.Prefix, list.StandardOutput, StringComparison.Ordinal); // none of them made a token
    }

    /// <summary>The server's own command, with the server's configuration (the data directory) and no admin token.</summary>
    private Task<ShellResult> TokenAsync(params string[] arguments)
    {
        var environment = new Dictionary<string, string>(BuilderProcess.RuntimeSettings)
        {
            ["Builder__DataDir"] = DataDir,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Builder__AdminToken"] = string.Empty,
        };
        return Shell.RunAsync("dotnet", [TestPaths.WebAssembly, "token", .. arguments], Path.GetDirectoryName(TestPaths.WebAssembly), environment, TimeSpan.FromMinutes(2));
    }

    /// <summary>The secret from a successful <c>token create</c>: the one line of its standard output shaped like a token.</summary>
    private static string SecretOf(ShellResult created)
    {
        Assert.True(created.ExitCode == 0, created.Output);
        var secrets = created.StandardOutput.Split('\n', StringSplitOptions.TrimEntries).Where(l => TokenShape().IsMatch(l)).ToList();
        return Assert.Single(secrets);
    }
}
