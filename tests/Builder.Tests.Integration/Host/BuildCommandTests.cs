using System.Text.Json;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;
using Builder.Web.Api;

namespace Builder.Tests.Integration.Host;

/// <summary>
/// <c>Builder.Web build --repository ID --tag TAG</c>: the command-line manual trigger asks the running service, with
/// the admin token from BUILDER_TOKEN, and a tag whose webhook never came builds once at its peeled commit.
/// </summary>
public sealed class BuildCommandTests : IDisposable
{
    private readonly BuilderWebFactory _factory = new();
    private readonly string _root = TestPaths.NewTempDirectory("build-command");

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(BuildCommand.TokenVariable, null);
        _factory.Dispose();
        TestPaths.DeleteDirectory(_root);
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BuildCommand.RunAsync([.. args, "--url", _factory.Server.BaseAddress.AbsoluteUri], output, error, _factory.Server.CreateHandler());
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task The_command_builds_a_tag_once_and_says_why_it_refuses()
    {
        var git = await GitRepositories.CreateAsync(Path.Combine(_root, "repo"), PythonProjects.Pure("acme-cli", "1.2.0"), "v1.2.0", annotated: true);
        var client = new BuilderClient(_factory.CreateClient(), BuilderInstance.AdminToken);
        var repository = await client.RegisterAsync("acme/cli", git.CloneUrl);

        // Without a token the command refuses before it sends anything.
        Environment.SetEnvironmentVariable(BuildCommand.TokenVariable, null);
        var noToken = await RunAsync("--repository", repository.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--tag", "v1.2.0");
        Assert.Equal(2, noToken.Code);
        Assert.Contains("BUILDER_TOKEN", noToken.Error, StringComparison.Ordinal);
        Assert.Empty(_factory.Dispatcher.Enqueued);

        Environment.SetEnvironmentVariable(BuildCommand.TokenVariable, BuilderInstance.AdminToken);
        var id = repository.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var first = await RunAsync("--repository", id, "--tag", "v1.2.0");
        Assert.True(first.Code == 0, first.Error);
        var answer = JsonDocument.Parse(first.Output).RootElement;
        Assert.True(answer.GetProperty("created").GetBoolean());
        // An annotated tag builds its peeled commit, not the tag object.
        Assert.Equal(git.CommitSha, answer.GetProperty("commit").GetString());
        var build = await client.GetBuildAsync(answer.GetProperty("id").GetInt64());
        Assert.Equal("v1.2.0", build.Json.GetProperty("tag").GetString());
        Assert.Equal(git.CommitSha, build.Json.GetProperty("commit").GetString());

        var again = await RunAsync("--repository", id, "--tag", "v1.2.0");
        Assert.Equal(0, again.Code);
        Assert.False(JsonDocument.Parse(again.Output).RootElement.GetProperty("created").GetBoolean());
        Assert.Equal(answer.GetProperty("id").GetInt64(), JsonDocument.Parse(again.Output).RootElement.GetProperty("id").GetInt64());
        Assert.Single(_factory.Dispatcher.Enqueued);

        var missing = await RunAsync("--repository", id, "--tag", "v9.9.9");
        Assert.Equal(1, missing.Code);
        Assert.Contains("404", missing.Error, StringComparison.Ordinal);
        Assert.Contains("v9.9.9", missing.Error, StringComparison.Ordinal);

        var usage = await RunAsync("--repository", "acme", "--tag", "v1.2.0");
        Assert.Equal(2, usage.Code);
        Assert.Single(_factory.Dispatcher.Enqueued);
    }
}
