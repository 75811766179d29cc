using System.Net;
using Builder.Core.Builds;
using Builder.Tests.Integration.Index;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Lifecycle;

namespace Builder.Tests.Integration.Retention;

/// <summary>
/// Tombstones (issue 26): a deleted file name is refused to a build with the same reason as to an upload (the real plan,
/// part and publish jobs of <see cref="LifecycleHost"/>, no Docker), and a project whose every release was deleted stays
/// private: the upstream proxy (a real upstream, <see cref="LocalUpstream"/>) never serves its name until an admin allows it.
/// </summary>
public sealed class TombstoneTests
{
    private const string DeletedReason = "was deleted from this index; a deleted file name can never be used again";

    [Fact]
    public async Task A_build_producing_a_deleted_file_name_fails_with_the_reason_an_upload_of_it_gets()
    {
        await using var host = await LifecycleHost.StartAsync(postgres: false);
        var dist = TestPaths.NewTempDirectory("tomb-upload");
        try
        {
            // Uploaded first (by twine's form), then deleted: the name is a tombstone.
            var wheel = Distributions.Wheel(dist, "acme-tomb", "1.0.0");
            var filename = Path.GetFileName(wheel);
            await Access.AccessClientHelpers.PublishAsync(host.Http, wheel, "acme-tomb", "1.0.0");
            using (var deleted = await host.Http.DeleteAsync("/api/projects/acme-tomb/releases/1.0.0"))
            {
                Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            }

            // Uploaded again: refused, the reason in the reason phrase twine prints.
            using (var upload = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = Upload.LegacyUpload.Twine(wheel, "acme-tomb", "1.0.0").ToContent() })
            using (var answer = await host.Http.SendAsync(upload))
            {
                Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
                Assert.Contains($"{filename} {DeletedReason}", answer.ReasonPhrase, StringComparison.Ordinal);
            }

            // A tag of that version built: the build makes the same file name, and fails with the same reason.
            var build = await host.QueueAsync(await host.RepositoryAsync("acme/tomb"), "v1.0.0");
            await host.RunPartAsync((await host.PlannedPartAsync(build)).Id, new WheelMaker("acme-tomb", "1.0.0"));
            await host.PublishAsync(build);
            var refused = await host.BuildAsync(build);
            Assert.Equal(BuildState.Failed, refused.State);
            Assert.Contains($"{filename} {DeletedReason}", refused.Error, StringComparison.Ordinal);
            Assert.Empty(await host.IndexedVersionsAsync("acme-tomb"));
            Assert.All(await host.FilesAsync("acme-tomb", "1.0.0"), f => Assert.NotNull(f.DeletedAt));
        }
        finally
        {
            TestPaths.DeleteDirectory(dist);
        }
    }

    [Fact]
    public async Task A_project_whose_every_release_was_deleted_is_never_served_from_upstream_until_an_admin_allows_it()
    {
        var root = TestPaths.NewTempDirectory("tomb-proxy");
        try
        {
            // acme-billing 1.0 is private here; upstream has a public acme-billing 99.0 (the squatter).
            await using var group = await ProxyGroup.StartAsync(root, new Dictionary<string, string>());
            var wheel = $"acme_billing-{ProxyGroup.PrivateVersion}-py3-none-any.whl";
            var deleted = await group.SendAsync(HttpMethod.Delete, $"/api/projects/acme-billing/releases/{ProxyGroup.PrivateVersion}");
            Assert.True(deleted.Status == HttpStatusCode.OK, deleted.ToString());

            foreach (var accept in new[] { "application/vnd.pypi.simple.v1+json", "text/html" })
            {
                var page = await group.GetAsync("/simple/acme-billing/", accept);
                Assert.True(page.Status == HttpStatusCode.NotFound, page.ToString());
            }

            var squatter = group.Upstream.Files.Single(f => f.Project == "acme-billing").Filename;
            Assert.Equal(HttpStatusCode.NotFound, (await group.GetAsync($"/files/acme-billing/{squatter}")).Status);
            var gone = await group.GetAsync($"/files/acme-billing/{wheel}");
            Assert.Equal(HttpStatusCode.NotFound, gone.Status);
            Assert.Contains($"'{wheel}' was deleted from this index", gone.Detail, StringComparison.Ordinal);
            // A public name is fetched (the proxy works), the deleted private one never was.
            Assert.Equal(HttpStatusCode.OK, (await group.GetAsync("/simple/public-dep/", "text/html")).Status);
            var asked = await group.Upstream.RequestsAsync();
            Assert.Contains(asked, r => r.Path.Contains("public-dep", StringComparison.Ordinal));
            Assert.DoesNotContain(asked, r => r.Path.Contains("acme-billing", StringComparison.Ordinal) || r.Path.Contains("acme_billing", StringComparison.Ordinal));

            // An admin releases the name to upstream (audited): then upstream's files are served under it.
            var allowed = await group.PostAsync("/api/upstream/allow", new { project = "acme-billing", reason = "the private acme-billing is retired; the public one is fine" });
            Assert.True(allowed.Status == HttpStatusCode.Created, allowed.ToString());
            // Every process applies the rule once it hears of the change (at once here: the same process).
            var (released, _, _) = await Access.AccessClientHelpers.PollAsync(
                () => group.GetAsync("/simple/acme-billing/", "application/vnd.pypi.simple.v1+json"), p => p.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(10));
            Assert.True(released.Status == HttpStatusCode.OK, released.ToString());
            Assert.Contains(squatter, released.Text, StringComparison.Ordinal);
            Assert.DoesNotContain(wheel, released.Text, StringComparison.Ordinal);
            Assert.Contains(await group.AuditAsync("upstream:allowed"), e => e.GetProperty("project").GetString() == "acme-billing");
        }
        finally
        {
            TestPaths.DeleteDirectory(root);
        }
    }
}
