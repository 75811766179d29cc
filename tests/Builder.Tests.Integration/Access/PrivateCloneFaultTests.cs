using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Git;
using Builder.Tests.Integration.Docker;
using Builder.Tests.Integration.Fixtures;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// Builder's git (LibGit2Sharp) against a private host that wants credentials (git's smart HTTP server behind Basic
/// auth): the tag resolver reads lightweight and annotated tags with the right credentials; with wrong credentials the
/// resolver, the fetcher and a whole build fail saying "authentication failed", after presenting them to the host just
/// once (libgit2 alone replays them 14 times), and neither the wrong token nor the host's password appears anywhere.
/// </summary>
public sealed class PrivateCloneFaultTests : IAsyncLifetime
{
    private const string User = "git";
    private const string Password = "host-password-Hv63-never-shown";
    private const string WrongToken = "wrong-token-Rk52-never-shown";

    private readonly string _root = TestPaths.NewTempDirectory("private-clone");
    private GitHttpServer _host = null!;
    private TaggedRepository _annotated = null!;
    private TaggedRepository _lightweight = null!;

    private string AnnotatedUrl => _host.Url + "/annotated/origin.git";

    private string LightweightUrl => _host.Url + "/lightweight/origin.git";

    public async Task InitializeAsync()
    {
        var repos = Path.Combine(_root, "repos");
        _annotated = await GitRepositories.CreateAsync(Path.Combine(repos, "annotated"), PythonProjects.Pure("acme-annotated", "1.0.0"), "v1.0.0");
        _lightweight = await GitRepositories.CreateAsync(Path.Combine(repos, "lightweight"), PythonProjects.Pure("acme-lightweight", "2.0.0"), "v2.0.0", annotated: false);
        _host = await GitHttpServer.StartAsync(repos, User, Password);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        TestPaths.DeleteDirectory(_root);
    }

    [Fact]
    public async Task The_tag_resolver_reads_lightweight_and_annotated_tags_with_the_right_credentials()
    {
        var resolver = new LibGit2SharpTagResolver();
        var right = new CloneCredentials(User, Password);

        var lightweight = await resolver.ResolveAsync(LightweightUrl, "v2.0.0", right, CancellationToken.None);
        Assert.NotNull(lightweight);
        Assert.Equal(("v2.0.0", _lightweight.CommitSha, _lightweight.CommitSha), (lightweight.Tag, lightweight.ObjectSha, lightweight.CommitSha));

        // An annotated tag: its own object, peeled to the commit (the two differ, or the check would prove nothing).
        Assert.NotEqual(_annotated.CommitSha, _annotated.TagObjectSha);
        var annotated = await resolver.ResolveAsync(AnnotatedUrl, "v1.0.0", right, CancellationToken.None);
        Assert.NotNull(annotated);
        Assert.Equal(("v1.0.0", _annotated.TagObjectSha, _annotated.CommitSha), (annotated.Tag, annotated.ObjectSha, annotated.CommitSha));

        Assert.Null(await resolver.ResolveAsync(AnnotatedUrl, "v9.9.9", right, CancellationToken.None));
        // A prefix of a tag is not the tag.
        Assert.Null(await resolver.ResolveAsync(AnnotatedUrl, "v1.0", right, CancellationToken.None));

        // Asked without credentials first (401), then given the right ones: three lists, each after one 401.
        lock (_host.Requests)
        {
            Assert.Equal(4, _host.Requests.Count(r => r.EndsWith("auth=ok", StringComparison.Ordinal)));
            Assert.Equal(4, _host.Requests.Count(r => r.EndsWith("auth=none", StringComparison.Ordinal)));
            Assert.DoesNotContain(_host.Requests, r => r.EndsWith("auth=wrong", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_tag_resolver_says_authentication_failed_for_wrong_or_missing_credentials_and_not_found_for_a_missing_repository()
    {
        var resolver = new LibGit2SharpTagResolver();

        var wrong = await Assert.ThrowsAsync<BuildStepException>(
            () => resolver.ResolveAsync(AnnotatedUrl, "v1.0.0", new CloneCredentials(User, WrongToken), CancellationToken.None));
        Assert.StartsWith($"git: listing the tags of {AnnotatedUrl} failed: authentication failed: the host refused", wrong.Message, StringComparison.Ordinal);
        AssertNoSecret(wrong.Message);
        // The wrong token went to the host once: libgit2 on its own asks for credentials again after each 401, 15 times.
        Assert.Equal(1, WrongAttempts());

        var none = await Assert.ThrowsAsync<BuildStepException>(() => resolver.ResolveAsync(AnnotatedUrl, "v1.0.0", null, CancellationToken.None));
        Assert.Contains("failed: authentication failed: the host wants credentials and the repository has none", none.Message, StringComparison.Ordinal);

        // With the right credentials a missing repository is a 404, not an authentication failure.
        var missing = await Assert.ThrowsAsync<BuildStepException>(
            () => resolver.ResolveAsync(_host.Url + "/missing/origin.git", "v1.0.0", new CloneCredentials(User, Password), CancellationToken.None));
        Assert.Contains("unexpected http status code: 404", missing.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("authentication failed", missing.Message, StringComparison.Ordinal);
        AssertNoSecret(missing.Message);
    }

    [Fact]
    public async Task The_fetcher_clones_with_the_right_credentials_and_says_authentication_failed_for_wrong_ones()
    {
        var fetcher = new LibGit2SharpSourceFetcher();
        var log = new CollectingBuildLog();

        var wrong = await Assert.ThrowsAsync<BuildStepException>(() => fetcher.FetchAsync(
            new SourceRequest(AnnotatedUrl, "v1.0.0", _annotated.TagObjectSha, new CloneCredentials(User, WrongToken)),
            Path.Combine(_root, "wrong"),
            log,
            CancellationToken.None));
        Assert.StartsWith($"git: cloning {AnnotatedUrl} failed: authentication failed: the host refused", wrong.Message, StringComparison.Ordinal);
        AssertNoSecret(wrong.Message + log.Text);
        Assert.Equal(1, WrongAttempts());

        // The credentials, given once, serve the whole clone (the refs, then the pack: two authenticated requests).
        var checkout = await fetcher.FetchAsync(
            new SourceRequest(AnnotatedUrl, "v1.0.0", _annotated.TagObjectSha, new CloneCredentials(User, Password)),
            Path.Combine(_root, "right"),
            log,
            CancellationToken.None);
        Assert.Equal(_annotated.CommitSha, checkout.CommitSha);
        Assert.True(File.Exists(Path.Combine(_root, "right", "pyproject.toml")));
        lock (_host.Requests)
        {
            Assert.Contains(_host.Requests, r => r.StartsWith("POST /annotated/origin.git/git-upload-pack", StringComparison.Ordinal) && r.EndsWith("auth=ok", StringComparison.Ordinal));
        }

        AssertNoSecret(log.Text);
    }

    [Fact]
    public async Task A_build_of_a_repository_with_a_wrong_token_fails_saying_authentication_failed_and_shows_no_secret()
    {
        await using var web = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(BuilderInstance.Embedded(Path.Combine(_root, "data")))
        {
            ["Builder__Build__Pythons__0"] = "cp311",
        });
        var client = BuilderInstance.Client(web);
        const string webhookSecret = "webhook-secret-Jd18";

        string registration;
        using (var registered = await client.Http.PostAsJsonAsync("/api/repositories", new
        {
            provider = "github",
            name = "acme/annotated",
            cloneUrl = AnnotatedUrl,
            webhookSecret,
            credentials = new { username = User, token = WrongToken },
            // The git host is not a forge API: no commit statuses, so the host sees the clone's requests only.
            reportStatus = false,
        }))
        {
            registration = await registered.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        var id = await client.PushTagAsync(new RegisteredRepository(0, "acme/annotated", webhookSecret), _annotated);
        var build = await client.WaitForBuildAsync(id, TimeSpan.FromMinutes(2));

        Assert.Equal("failed", build.State);
        Assert.Contains("authentication failed: the host refused", build.Error, StringComparison.Ordinal);
        var log = await client.GetLogAsync(id);
        Assert.Contains($"[git] cloning {AnnotatedUrl}", log, StringComparison.Ordinal);
        Assert.Contains("authentication failed: the host refused", log, StringComparison.Ordinal);
        var events = await client.GetAsAdminAsync($"/api/builds/{id}/events");
        Assert.Contains("failed", events, StringComparison.Ordinal);
        // Builder tried the host, once with the wrong token, and never got past the clone (no plan, no part, no container).
        Assert.Equal(1, WrongAttempts());
        Assert.DoesNotContain("[plan]", log, StringComparison.Ordinal);

        await Task.Delay(500);
        AssertNoSecret(string.Join('\n', registration, build.Json.GetRawText(), log, events, web.Output));
        Assert.Contains("acme/annotated", JsonDocument.Parse(registration).RootElement.GetProperty("name").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Git_failures_name_the_kind_of_answer_and_never_relay_what_the_host_said()
    {
        await using var talkative = await TalkativeGitHost.StartAsync();
        var resolver = new LibGit2SharpTagResolver();
        var fetcher = new LibGit2SharpSourceFetcher();
        var log = new CollectingBuildLog();
        var seen = new List<string>();
        var cases = new[]
        {
            ("err", "the host refused with a message of its own (not shown"),
            ("page", "the host answered with a page that is not git's smart HTTP protocol"),
            ("forbidden", "unexpected http status code: 403"),
        };

        foreach (var (path, expected) in cases)
        {
            var url = $"{talkative.Url}/{path}/origin.git";
            var listing = await Assert.ThrowsAsync<BuildStepException>(() => resolver.ResolveAsync(url, "v1.0.0", null, CancellationToken.None));
            var cloning = await Assert.ThrowsAsync<BuildStepException>(() => fetcher.FetchAsync(
                new SourceRequest(url, "v1.0.0", new string('a', 40)), Path.Combine(_root, "talkative-" + path), log, CancellationToken.None));
            Assert.StartsWith($"git: listing the tags of {url} failed: {expected}", listing.Message, StringComparison.Ordinal);
            Assert.StartsWith($"git: cloning {url} failed: {expected}", cloning.Message, StringComparison.Ordinal);
            seen.AddRange([listing.Message, cloning.Message]);
        }

        // The host was asked (each case twice at least), and nothing it said reached a message or the build's log.
        Assert.True(talkative.Requests >= 6, $"the host answered {talkative.Requests} requests");
        Assert.DoesNotContain(TalkativeGitHost.Marker, string.Join('\n', seen) + log.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_bundle_of_the_plans_clone_checks_out_the_tag_for_a_part_without_asking_the_host_again(bool annotated)
    {
        var (url, repo, name) = annotated ? (AnnotatedUrl, _annotated, "annotated") : (LightweightUrl, _lightweight, "lightweight");
        var fetcher = new LibGit2SharpSourceFetcher();
        var log = new CollectingBuildLog();
        var clone = Path.Combine(_root, $"bundle-{name}-plan");
        await fetcher.FetchAsync(new SourceRequest(url, repo.Tag, annotated ? repo.TagObjectSha : repo.CommitSha, new CloneCredentials(User, Password)), clone, log, CancellationToken.None);
        var bundle = Path.Combine(_root, $"{name}.bundle");
        await fetcher.BundleAsync(clone, repo.Tag, bundle, CancellationToken.None);
        var asked = RequestCount();

        var part = Path.Combine(_root, $"bundle-{name}-part");
        var checkout = await fetcher.FetchBundleAsync(bundle, repo.Tag, repo.CommitSha, part, log, CancellationToken.None);

        Assert.Equal(repo.CommitSha, checkout.CommitSha);
        Assert.Equal(asked, RequestCount());
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(clone, "pyproject.toml")), await File.ReadAllTextAsync(Path.Combine(part, "pyproject.toml")));
        Assert.Contains($"[git] checked out {repo.Tag} at {repo.CommitSha} from the build's source bundle", log.Text, StringComparison.Ordinal);
        // The bundle holds the tag alone (its object for an annotated tag), and the part's checkout is a repository in which
        // tools that version from git (setuptools-scm, hatch-vcs) find the tag on HEAD.
        var heads = (await Shell.RunAsync("git", ["bundle", "list-heads", bundle])).EnsureSuccess("git bundle list-heads").StandardOutput.Trim();
        Assert.Equal($"{(annotated ? repo.TagObjectSha : repo.CommitSha)} refs/tags/{repo.Tag}", heads);
        var described = (await Shell.GitAsync(part, "describe", "--tags", "--exact-match", "HEAD")).EnsureSuccess("git describe").StandardOutput.Trim();
        Assert.Equal(repo.Tag, described);

        // A bundle whose tag is not the planned commit, and bytes that are no bundle, are refused with the reason.
        var moved = await Assert.ThrowsAsync<SourceBundleException>(() => fetcher.FetchBundleAsync(
            bundle, repo.Tag, new string('0', 40), Path.Combine(_root, $"bundle-{name}-moved"), log, CancellationToken.None));
        Assert.Equal($"the source bundle's tag '{repo.Tag}' does not point at the planned commit {new string('0', 40)}", moved.Message);
        var garbage = Path.Combine(_root, $"{name}.garbage");
        await File.WriteAllTextAsync(garbage, "not a bundle");
        var broken = await Assert.ThrowsAsync<SourceBundleException>(() => fetcher.FetchBundleAsync(
            garbage, repo.Tag, repo.CommitSha, Path.Combine(_root, $"bundle-{name}-broken"), log, CancellationToken.None));
        Assert.StartsWith("git fetch exited with ", broken.Message, StringComparison.Ordinal);
    }

    private int RequestCount()
    {
        lock (_host.Requests)
        {
            return _host.Requests.Count;
        }
    }

    private int WrongAttempts()
    {
        lock (_host.Requests)
        {
            return _host.Requests.Count(r => r.EndsWith("auth=wrong", StringComparison.Ordinal));
        }
    }

    private static void AssertNoSecret(string text)
    {
        Assert.DoesNotContain(WrongToken, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, text, StringComparison.Ordinal);
    }
}
