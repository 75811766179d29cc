using System.Net;
using Builder.Tests.Integration.Infrastructure;
using static Builder.Tests.Integration.Access.AccessClientHelpers;

namespace Builder.Tests.Integration.Retention;

/// <summary>One embedded Builder (a real process, so real pip and twine reach it) with <c>Builder__Retention__GraceDays=0</c>; each test its own projects.</summary>
public sealed class RetentionProcessFixture : IAsyncLifetime
{
    public string Root { get; } = TestPaths.NewTempDirectory("retention");

    internal BuilderProcess Web { get; private set; } = null!;

    internal RetentionApi Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Web = await BuilderProcess.StartWebAsync(new Dictionary<string, string>(Embedded(Path.Combine(Root, "data")))
        {
            // 0: a release a policy yanked is deleted by its next run (the test runs it twice instead of waiting 14 days).
            ["Builder__Retention__GraceDays"] = "0",
        });
        Api = new RetentionApi(BuilderInstance.AdminHttp(Web.BaseUrl!));
    }

    public async Task DisposeAsync()
    {
        Api.Http.Dispose();
        await Web.DisposeAsync();
        TestPaths.DeleteDirectory(Root);
    }
}

/// <summary>
/// Issue 26, retention policies and tombstones against a real Builder process, real pip and real twine: a policy keeping
/// 3 releases and 1.0.x yanks exactly the others (pip then skips them, <c>==</c> still installs them), its next run after
/// the grace deletes them (their names answer 404 saying so, and an upload of one is refused), the audit log names the
/// policy; a pre-release policy never touches the newest release.
/// </summary>
public sealed class RetentionTests(RetentionProcessFixture fixture) : IClassFixture<RetentionProcessFixture>
{
    private RetentionApi Api => fixture.Api;

    private string Home(string name) => Dir(fixture.Root, name);

    private static string Wheel(string project, string version) => $"{project.Replace('-', '_')}-{version}-py3-none-any.whl";

    /// <summary>pip download (no dependencies) of <paramref name="requirement"/> from Builder's index: the file pip picked, or the failure.</summary>
    private async Task<ShellResult> PipDownloadAsync(string python, string requirement, string into)
    {
        var index = BuilderInstance.WithCredentials(fixture.Web.BaseUrl + "/simple/");
        return await Shell.RunAsync(python, ["-m", "pip", "download", "--no-deps", "--no-input", "--no-cache-dir", "--disable-pip-version-check", "-d", into, "--index-url", index, requirement],
            environment: ClientEnvironment(Home("pip-home")));
    }

    [Fact]
    public async Task A_policy_keeping_three_and_1_0_x_yanks_the_others_pip_skips_them_pinned_still_installs_and_after_the_grace_they_are_deleted_for_good()
    {
        const string project = "acme-keep";
        string[] versions = ["0.9.0", "1.0.0", "1.0.1", "1.1.0", "1.2.0", "2.0.0", "2.1.0", "3.0.0"];
        var dist = Dir(fixture.Root, "keep-dist");
        foreach (var version in versions)
        {
            await Api.UploadAsync(dist, project, version);
        }

        var other = Dir(fixture.Root, "keep-other");
        await Api.UploadAsync(other, "acme-untouched", "1.0.0");
        await Api.UploadAsync(other, "acme-untouched", "2.0.0");

        var id = await Api.CreateAsync(new { projects = new[] { "acme-keep" }, keepLatest = 3, keepPattern = @"^1\.0\.", action = "delete" });

        // The preview names exactly the releases the policy acts on, with why, and changes nothing.
        var preview = await Api.PreviewAsync(id);
        Assert.Equal([("1.2.0", "yank"), ("1.1.0", "yank"), ("0.9.0", "yank")], RetentionApi.Steps(preview, "releases"));
        foreach (var step in preview.GetProperty("releases").EnumerateArray())
        {
            Assert.Equal(project, step.GetProperty("project").GetString());
            Assert.Equal([Wheel(project, step.GetProperty("version").GetString()!)], step.GetProperty("files").EnumerateArray().Select(f => f.GetString()));
            Assert.Contains("not among the newest 3", step.GetProperty("why").GetString(), StringComparison.Ordinal);
            Assert.Contains(@"does not match keepPattern '^1\.0\.'", step.GetProperty("why").GetString(), StringComparison.Ordinal);
        }

        var kept = preview.GetProperty("kept").EnumerateArray().ToDictionary(k => k.GetProperty("version").GetString()!, k => k.GetProperty("why").GetString()!);
        Assert.Equal(["1.0.0", "1.0.1", "2.0.0", "2.1.0", "3.0.0"], kept.Keys.Order());
        Assert.Equal("the newest release", kept["3.0.0"]);
        Assert.Contains("among the newest 3", kept["2.0.0"], StringComparison.Ordinal);
        Assert.Contains("matches keepPattern", kept["1.0.1"], StringComparison.Ordinal);
        Assert.Empty((await Api.IndexAsync(project)).YankedFiles);

        // Run: the three are yanked, by the policy.
        var run = await Api.RunAsync(id);
        Assert.Equal([("1.2.0", "yank"), ("1.1.0", "yank"), ("0.9.0", "yank")], RetentionApi.Steps(run, "done"));
        var index = await Api.IndexAsync(project);
        Assert.Equal(["0.9.0", "1.1.0", "1.2.0"], index.YankedFiles.Select(f => f.Split('-')[1]).Order());
        Assert.Equal(8, index.Files.Count);
        Assert.Equal(2, (await Api.IndexAsync("acme-untouched")).Files.Count);

        // Real pip: "<2" no longer picks 1.2.0 (yanked, PEP 592) but 1.0.1; "==1.2.0" still installs the yanked release.
        var python = await Pip.VenvAsync("3.12", Home("venvs"));
        var picked = Dir(fixture.Root, "picked");
        (await PipDownloadAsync(python, "acme-keep<2", picked)).EnsureSuccess("pip download acme-keep<2");
        Assert.Equal([Wheel(project, "1.0.1")], Directory.EnumerateFiles(picked).Select(Path.GetFileName));
        var pinned = Dir(fixture.Root, "pinned");
        (await PipDownloadAsync(python, "acme-keep==1.2.0", pinned)).EnsureSuccess("pip download acme-keep==1.2.0");
        Assert.Equal([Wheel(project, "1.2.0")], Directory.EnumerateFiles(pinned).Select(Path.GetFileName));

        var yanks = (await Api.AuditAsync("release:yanked")).Where(e => e.GetProperty("project").GetString() == project).ToList();
        Assert.Equal(3, yanks.Count);
        Assert.All(yanks, e => Assert.Equal($"retention-policy:{id}", e.GetProperty("principal").GetString()));
        Assert.All(yanks, e => Assert.Contains($"retention policy {id}:", e.GetProperty("detail").GetString(), StringComparison.Ordinal));

        // GraceDays 0: the next run deletes what the policy yanked; the newest 3 and 1.0.x stay.
        var second = await Api.RunAsync(id);
        Assert.Equal([("1.2.0", "delete"), ("1.1.0", "delete"), ("0.9.0", "delete")], RetentionApi.Steps(second, "done"));
        index = await Api.IndexAsync(project);
        Assert.Equal(["1.0.0", "1.0.1", "2.0.0", "2.1.0", "3.0.0"], index.Versions.Order());
        Assert.Empty(index.YankedFiles);
        var deletes = (await Api.AuditAsync("release:deleted")).Where(e => e.GetProperty("project").GetString() == project).ToList();
        Assert.Equal(["release:0.9.0", "release:1.1.0", "release:1.2.0"], deletes.Select(e => e.GetProperty("target").GetString()).Order());
        Assert.All(deletes, e => Assert.Equal($"retention-policy:{id}", e.GetProperty("principal").GetString()));
        var runs = (await Api.AuditAsync("retention_policy:run")).Where(e => e.GetProperty("target").GetString() == $"retention-policy:{id}").ToList();
        Assert.Equal(2, runs.Count);
        Assert.Contains("3 release(s) yanked, 0 deleted", runs[1].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("0 release(s) yanked, 3 deleted", runs[0].GetProperty("detail").GetString(), StringComparison.Ordinal);

        // A third run has nothing left to do.
        Assert.Empty(RetentionApi.Steps(await Api.PreviewAsync(id), "releases"));

        // Tombstones: the deleted file answers 404 saying it was deleted; pinned pip cannot get it; twine cannot publish it again.
        var (status, _, body) = await GetAsync(Api.Http, $"/files/{project}/{Wheel(project, "1.2.0")}", BuilderInstance.AdminAuthorization);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains($"'{Wheel(project, "1.2.0")}' was deleted from this index", body, StringComparison.Ordinal);
        var gone = await PipDownloadAsync(python, "acme-keep==1.2.0", Dir(fixture.Root, "gone"));
        Assert.NotEqual(0, gone.ExitCode);
        var twine = await TwineAsync(fixture.Web.BaseUrl!, Home("twine-home"), "__token__", BuilderInstance.AdminToken, Path.Combine(dist, Wheel(project, "1.2.0")));
        Assert.NotEqual(0, twine.ExitCode);
        Assert.Contains($"{Wheel(project, "1.2.0")} was deleted from this index; a deleted file name can never be used again", twine.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("1.2.0", (await Api.IndexAsync(project)).Versions);
    }

    [Fact]
    public async Task A_prerelease_policy_yanks_old_prereleases_but_never_the_newest_release_even_when_it_is_a_prerelease()
    {
        const string project = "acme-pre";
        var dist = Dir(fixture.Root, "pre-dist");
        foreach (var version in (string[])["1.0.0", "1.1.0rc1", "1.1.0", "2.0.0a1", "2.0.0b1"])
        {
            await Api.UploadAsync(dist, project, version);
        }

        var id = await Api.CreateAsync(new { projects = new[] { "acme-pre*" }, keepLatest = 0, prereleaseDays = 0, action = "yank" });
        var preview = await Api.PreviewAsync(id);
        Assert.Equal([("2.0.0a1", "yank"), ("1.1.0rc1", "yank")], RetentionApi.Steps(preview, "releases"));
        var kept = preview.GetProperty("kept").EnumerateArray().ToDictionary(k => k.GetProperty("version").GetString()!, k => k.GetProperty("why").GetString()!);
        Assert.Equal("the newest release", kept["2.0.0b1"]);
        Assert.Contains("not a pre-release", kept["1.1.0"], StringComparison.Ordinal);
        Assert.Contains("not a pre-release", kept["1.0.0"], StringComparison.Ordinal);

        // The web UI's /retention page (admins) shows the policy with the same preview.
        var (pageStatus, _, page) = await GetAsync(Api.Http, "/retention", BuilderInstance.AdminAuthorization);
        Assert.Equal(HttpStatusCode.OK, pageStatus);
        var section = page[page.IndexOf($"id=\"policy-{id}\"", StringComparison.Ordinal)..];
        section = section[..(section.IndexOf("</section>", StringComparison.Ordinal) + 1)];
        Assert.Contains("<td class=\"mono\">2.0.0a1</td>", section, StringComparison.Ordinal);
        Assert.Contains("<td class=\"mono\">1.1.0rc1</td>", section, StringComparison.Ordinal);
        Assert.DoesNotContain("<td class=\"mono\">2.0.0b1</td>", section, StringComparison.Ordinal);
        Assert.Contains("2.0.0b1</span>: the newest release", section, StringComparison.Ordinal);
        Assert.Contains("a pre-release uploaded 0 day(s) ago (prereleaseDays 0)", section, StringComparison.Ordinal);

        await Api.RunAsync(id);
        var index = await Api.IndexAsync(project);
        Assert.Equal([Wheel(project, "1.1.0rc1"), Wheel(project, "2.0.0a1")], index.YankedFiles.Order());
        Assert.Equal(5, index.Versions.Count);

        // "yank" never deletes: later runs leave the yanked pre-releases where they are.
        Assert.Empty(RetentionApi.Steps(await Api.RunAsync(id), "done"));
        Assert.Equal(5, (await Api.IndexAsync(project)).Files.Count);
    }

    [Fact]
    public async Task Policies_are_listed_refused_with_a_message_naming_the_field_and_removed_with_an_audit_event()
    {
        foreach (var (body, field) in new (object, string)[]
        {
            (new { keepLatest = 3, action = "yank" }, "\"projects\""),
            (new { projects = new[] { "acme-*" }, action = "yank" }, "\"keepLatest\""),
            (new { projects = new[] { "acme-*" }, keepLatest = 3, keepPattern = "(", action = "yank" }, "\"keepPattern\""),
            (new { projects = new[] { "acme-*" }, keepLatest = 3, action = "purge" }, "\"action\""),
            (new { projects = new[] { "not a glob" }, keepLatest = 3, action = "yank" }, "\"projects\""),
        })
        {
            var (status, json) = await Api.SendAsync(HttpMethod.Post, "/api/retention-policies", body);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains(field, json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var id = await Api.CreateAsync(new { projects = new[] { "acme-listed" }, keepLatest = 5, olderThanDays = 30, action = "delete" });
        var (listed, list) = await Api.SendAsync(HttpMethod.Get, "/api/retention-policies");
        Assert.Equal(HttpStatusCode.OK, listed);
        var mine = Assert.Single(list.EnumerateArray(), p => p.GetProperty("id").GetInt64() == id);
        Assert.Equal(30, mine.GetProperty("olderThanDays").GetInt32());
        Assert.Equal(["acme-listed"], mine.GetProperty("projects").EnumerateArray().Select(p => p.GetString()));

        Assert.Equal(HttpStatusCode.OK, (await Api.SendAsync(HttpMethod.Delete, $"/api/retention-policies/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.SendAsync(HttpMethod.Get, $"/api/retention-policies/{id}/preview")).Status);
        Assert.Contains(await Api.AuditAsync("retention_policy:deleted"), e => e.GetProperty("target").GetString() == $"retention-policy:{id}");
        Assert.Contains(await Api.AuditAsync("retention_policy:created"), e => e.GetProperty("target").GetString() == $"retention-policy:{id}");
    }
}
