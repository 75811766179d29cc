using System.Net;
using Builder.Access;
using Builder.Core.Access;
using Builder.Tests.Integration.Access;
using Microsoft.EntityFrameworkCore;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// The tokens page shows admins the trusted publishers (what the API lists) and marks the tokens they minted; deleting a
/// publisher there revokes those tokens. Others never see the section.
/// </summary>
public sealed class TrustedPublishersPageTests : IDisposable
{
    private const string Password = "admin-password-1";
    private const string Issuer = "https://token.actions.githubusercontent.com";
    private readonly AccessHost _host = new(settings: new() { ["Builder:Oidc:Issuers:0"] = Issuer });

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task Admins_see_the_publishers_and_their_minted_tokens_and_deleting_one_revokes_its_tokens()
    {
        var created = await _host.PostJsonAsync("/api/trusted-publishers", new
        {
            name = "billing-release",
            issuer = Issuer,
            claims = new { repository = "acme/billing", @ref = "refs/tags/v*", environment = "release" },
            scopes = new[] { "upload" },
            projects = new[] { "acme-billing" },
            description = "twine upload from release.yml",
        }, AccessHost.Admin);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var publisherId = created.Json.GetProperty("id").GetInt64();
        // A token as the exchange makes it (the exchange itself: TrustedPublishingTests).
        var mintedId = await _host.WithDbAsync(async db =>
        {
            var token = new ApiToken
            {
                Name = "billing-release",
                Description = "minted for repo:acme/billing:environment:release",
                SecretHash = new string('a', 64),
                Hint = "bld_test",
                Scopes = "upload",
                Projects = "acme-billing",
                ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(15),
                TrustedPublisherId = publisherId,
                CreatedBy = "trusted-publisher:billing-release",
                CreatedAt = DateTimeOffset.UtcNow,
            };
            db.Tokens.Add(token);
            await db.SaveChangesAsync();
            return token.Id;
        });
        await _host.CreatePersonAsync("root", Password, new { role = "admin" });
        await _host.CreatePersonAsync("rita", Password, new { role = "reader" });

        var admin = new UiClient(_host);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SignInAsync("root", Password)).Status);
        var page = await admin.GetAsync("/tokens");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("<h2 id=\"trusted-publishers\">Trusted publishers</h2>", page.Body, StringComparison.Ordinal);
        Assert.Contains($"<tr data-publisher-id=\"{publisherId}\">", page.Body, StringComparison.Ordinal);
        Assert.Contains("<div>repository = acme/billing</div>", page.Body, StringComparison.Ordinal);
        Assert.Contains("<div>ref = refs/tags/v*</div>", page.Body, StringComparison.Ordinal);
        Assert.Contains("twine upload from release.yml", page.Body, StringComparison.Ordinal);
        Assert.Contains("short-lived, minted for trusted publisher 'billing-release'", page.Body, StringComparison.Ordinal);
        var listed = await _host.GetAsync("/api/tokens", AccessHost.Admin);
        Assert.Contains(listed.Json.EnumerateArray(), t => t.GetProperty("id").GetInt64() == mintedId && t.GetProperty("publisher").GetString() == "billing-release");

        var reader = new UiClient(_host);
        Assert.Equal(HttpStatusCode.Redirect, (await reader.SignInAsync("rita", Password)).Status);
        var readersPage = await reader.GetAsync("/tokens");
        Assert.Equal(HttpStatusCode.OK, readersPage.Status);
        Assert.DoesNotContain("Trusted publishers", readersPage.Body, StringComparison.Ordinal);
        var refused = await reader.PostFormAsync($"/tokens?handler=DeletePublisher&id={publisherId}", [], tokenFrom: "/tokens");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);

        var deleted = await admin.PostFormAsync($"/tokens?handler=DeletePublisher&id={publisherId}", [], tokenFrom: "/tokens");

        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.Contains("Trusted publisher &#x27;billing-release&#x27; is deleted; 1 token(s) it minted are revoked.", deleted.Body, StringComparison.Ordinal);
        Assert.DoesNotContain($"data-publisher-id=\"{publisherId}\"", deleted.Body, StringComparison.Ordinal);
        var token = await _host.WithDbAsync(db => db.Tokens.AsNoTracking().SingleAsync(t => t.Id == mintedId));
        Assert.Equal("person:root", token.RevokedBy);
        Assert.Empty((await _host.GetAsync("/api/trusted-publishers", AccessHost.Admin)).Json.EnumerateArray());
        Assert.Contains(await _host.AuditAsync(), a => a.Action == AuditActions.TrustedPublisherDeleted && a.Principal == "person:root"
            && a.Detail!.Contains($"1 token(s) it minted revoked: token:{mintedId}", StringComparison.Ordinal));
    }
}
