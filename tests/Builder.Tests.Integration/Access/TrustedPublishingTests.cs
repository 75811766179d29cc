using System.Net;
using System.Net.Http.Json;
using System.Text;
using Builder.Tests.Integration.Infrastructure;
using static Builder.Tests.Integration.Access.AccessClientHelpers;
using static Builder.Tests.Integration.Access.TrustedPublishingHelpers;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// Trusted publishing and trusted reading (issue 25) against the real app, with two local OpenID providers standing in for
/// GitHub Actions and GitLab CI (<see cref="LocalOidcProvider"/>): a release job's ID token becomes an upload token that
/// real twine uploads with, a GitLab job's a read token that real pip installs with; every refusal names its check and is
/// audited; minted tokens end with their expiry and with their publisher; a rotated issuer key is picked up while running.
/// </summary>
public sealed class TrustedPublishingTests : IAsyncLifetime, IDisposable
{
    private readonly string _root = TestPaths.NewTempDirectory("trusted-publishing");
    private readonly List<AccessHost> _hosts = [];
    private readonly List<LocalOidcProvider> _providers = [];
    private LocalOidcProvider _github = null!;
    private LocalOidcProvider _gitlab = null!;

    public static TheoryData<string> Refusals =>
    [
        "signed by another key", "alg none", "HS256 with the public key", "issuer not configured", "wrong audience", "expired",
        "nbf in the future", "the same token twice", "repository", "ref", "environment", "no environment", "gitlab project",
    ];

    private string Home => Dir(_root, "home");

    public async Task InitializeAsync()
    {
        _github = await StartProviderAsync("github");
        _gitlab = await StartProviderAsync("gitlab");
    }

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.Dispose();
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        TestPaths.DeleteDirectory(_root);
    }

    [Fact]
    public async Task A_github_release_job_uploads_with_twine_and_a_gitlab_job_installs_with_pip_each_only_as_its_publisher_allows()
    {
        await using var web = await BuilderProcess.StartWebAsync(ProcessSettings(Embedded(Path.Combine(_root, "data")), _github, _gitlab));
        using var http = new HttpClient { BaseAddress = new Uri(web.BaseUrl!), Timeout = TimeSpan.FromSeconds(60) };
        var dist = Dir(_root, "dist");
        await PublishAsync(http, Distributions.Wheel(dist, "acme-app", "1.0.0"), "acme-app", "1.0.0");
        await CreatePublisherAsync(http, BillingRelease(_github));
        await CreatePublisherAsync(http, AppReader(_gitlab));

        // The jobs: GitHub's release job of acme/billing for tag v1.4.0 in environment release, GitLab's job of acme/app on main.
        var releaseJob = _github.Mint(_github.GitHubClaims("acme/billing", "refs/tags/v1.4.0", "release"));
        var appJob = _gitlab.Mint(_gitlab.GitLabClaims("acme/app", "main"));
        var before = DateTimeOffset.UtcNow;
        var uploader = await MintAsync(http, releaseJob);
        var reader = await MintAsync(http, appJob);
        var after = DateTimeOffset.UtcNow;

        foreach (var (minted, publisher, scope, project) in new[] { (uploader, "billing-release", "upload", "acme-billing"), (reader, "app-ci", "read", "acme-app") })
        {
            Assert.Equal(publisher, minted.Publisher);
            Assert.Equal([scope], minted.Json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
            Assert.Equal([project], minted.Json.GetProperty("projects").EnumerateArray().Select(s => s.GetString()));
            // Builder__Oidc__TokenMinutes defaults to 15.
            Assert.InRange(minted.ExpiresAt, before.AddMinutes(15).AddSeconds(-2), after.AddMinutes(15).AddSeconds(2));
        }

        var wheel = Distributions.Wheel(dist, "acme-billing", "1.4.0");
        var sdist = Distributions.Sdist(dist, "acme-billing", "1.4.0");
        var uploaded = await TwineAsync(web.BaseUrl!, Home, "__token__", uploader.Secret, wheel, sdist);
        var readerUploads = await TwineAsync(web.BaseUrl!, Home, "__token__", reader.Secret, Distributions.Wheel(dist, "acme-app", "1.1.0"));
        var venv = await VenvAsync("3.13", "24.2", _root);
        var installed = await PipInstallAsync(venv, Home, IndexUrl(web, reader.Secret), "acme-app");
        var uploaderInstalls = await PipInstallAsync(venv, Home, IndexUrl(web, uploader.Secret), "acme-billing");

        uploaded.EnsureSuccess("twine upload with the token minted for the release job");
        Assert.Contains("Uploading acme_billing-1.4.0-py3-none-any.whl", uploaded.Output, StringComparison.Ordinal);
        Assert.Contains("Uploading acme_billing-1.4.0.tar.gz", uploaded.Output, StringComparison.Ordinal);
        Assert.True(readerUploads.ExitCode != 0, readerUploads.Output);
        Assert.Contains($"HTTPError: 403 Forbidden from {web.BaseUrl}/legacy/", readerUploads.Output, StringComparison.Ordinal);
        Assert.Contains($"this token (token:{reader.Id}) may not upload", readerUploads.Output, StringComparison.Ordinal);
        installed.EnsureSuccess("pip install with the token minted for the GitLab job");
        Assert.Contains("Successfully installed acme-app-1.0.0", installed.Output, StringComparison.Ordinal);
        Assert.Equal("1.0.0", await ImportedVersionAsync(venv, "acme_app"));
        // The upload-only token reads nothing, not even what it uploaded: Builder answers as for a project that does not exist.
        Assert.True(uploaderInstalls.ExitCode != 0, uploaderInstalls.Output);
        Assert.Contains("Could not find a version that satisfies the requirement acme-billing (from versions: none)", uploaderInstalls.Output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, "/simple/acme-billing/", uploader.Basic)).Status);
        foreach (var run in new[] { uploaded, readerUploads, installed, uploaderInstalls })
        {
            Assert.DoesNotContain(uploader.Secret, run.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(reader.Secret, run.Output, StringComparison.Ordinal);
        }

        // What the index holds: the release twine uploaded, nothing the reader tried.
        var page = await GetAsync(http, "/simple/acme-billing/", BuilderInstance.AdminAuthorization);
        Assert.Equal(["acme_billing-1.4.0-py3-none-any.whl", "acme_billing-1.4.0.tar.gz"], Links(page.Body).Order(StringComparer.Ordinal));
        Assert.Equal(["acme_app-1.0.0-py3-none-any.whl"], Links((await GetAsync(http, "/simple/acme-app/", BuilderInstance.AdminAuthorization)).Body));

        // The token list shows both as short-lived tokens of their publishers; the audit log has both mints, with the claims.
        var tokens = await MintedTokensAsync(http);
        Assert.Equal([(uploader.Id, "billing-release"), (reader.Id, "app-ci")],
            tokens.Select(t => (t.GetProperty("id").GetInt64(), t.Str("publisher"))).Order());
        Assert.All(tokens, t => Assert.NotNull(t.Str("expiresAt")));
        var mints = await AuditAsync(http, "oidc:minted");
        Assert.Equal(2, mints.Count);
        var github = Assert.Single(mints, e => e.Str("detail")!.Contains(_github.Issuer, StringComparison.Ordinal));
        Assert.Contains("repo:acme/billing:environment:release", github.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("billing-release", github.Str("detail"), StringComparison.Ordinal);
        // The claims that matched: the ref is in no other part of the entry (the subject names the environment).
        Assert.Contains("refs/tags/v1.4.0", github.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("trusted-publisher:billing-release", github.Str("principal"));
        var gitlab = Assert.Single(mints, e => e.Str("detail")!.Contains(_gitlab.Issuer, StringComparison.Ordinal));
        Assert.Contains("project_path:acme/app:ref_type:branch:ref:main", gitlab.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("app-ci", gitlab.Str("detail"), StringComparison.Ordinal);
        Assert.All(mints, e => Assert.Equal(("ok", "127.0.0.1"), (e.Str("outcome"), e.Str("address"))));
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task An_id_token_is_refused_with_a_message_naming_the_failed_check_and_an_audit_entry(string refusal)
    {
        var host = StartHost();
        await CreatePublisherAsync(host.Http, BillingRelease(_github));
        await CreatePublisherAsync(host.Http, AppReader(_gitlab));
        var mintedBefore = 0;
        LocalOidcProvider? rogue = null;
        string token;
        string check;
        string[] named;
        switch (refusal)
        {
            case "signed by another key":
                token = _github.MintWithUnpublishedKey(_github.GitHubClaims());
                (check, named) = ("signature: ", [_github.SigningKey.Kid]);
                break;
            case "alg none":
                token = LocalOidcProvider.MintUnsigned(_github.GitHubClaims());
                (check, named) = ("signature: ", ["none"]);
                break;
            case "HS256 with the public key":
                token = _github.MintHs256WithPublicKey(_github.GitHubClaims());
                (check, named) = ("signature: ", ["HS256"]);
                break;
            case "issuer not configured":
                // A provider of its own with the same claims, keys and paths: only its issuer is not trusted.
                rogue = await StartProviderAsync("github-enterprise");
                rogue.Clock = host.Clock;
                token = rogue.Mint(rogue.GitHubClaims());
                (check, named) = ("issuer: ", [rogue.Issuer, "is not a trusted issuer"]);
                break;
            case "wrong audience":
                // GitHub's default audience: a job that forgot to ask for Builder's.
                token = _github.Mint(_github.GitHubClaims(audience: "https://github.com/acme"));
                (check, named) = ("audience: ", ["https://github.com/acme"]);
                break;
            case "expired":
                // A job that held its token too long: GitHub's tokens live 5 minutes; a minute of skew is allowed, not more.
                token = _github.Mint(_github.GitHubClaims());
                host.Clock.Advance(TimeSpan.FromMinutes(6) + TimeSpan.FromSeconds(2));
                (check, named) = ("expired: ", []);
                break;
            case "nbf in the future":
                // Two minutes ahead: more than the minute of skew allowed.
                token = _github.Mint(new Dictionary<string, object?>(_github.GitHubClaims()) { ["nbf"] = host.Clock.GetUtcNow().AddMinutes(2).ToUnixTimeSeconds() });
                (check, named) = ("not yet valid: ", []);
                break;
            case "the same token twice":
                token = _github.Mint(_github.GitHubClaims());
                await MintAsync(host.Http, token);
                mintedBefore = 1;
                (check, named) = ("already used: ", []);
                break;
            case "repository":
                token = _github.Mint(_github.GitHubClaims(repository: "acme/payroll"));
                (check, named) = ("no trusted publisher matches: ", ["acme/payroll"]);
                break;
            case "ref":
                token = _github.Mint(_github.GitHubClaims(@ref: "refs/heads/main"));
                (check, named) = ("no trusted publisher matches: ", ["refs/heads/main"]);
                break;
            case "environment":
                token = _github.Mint(_github.GitHubClaims(environment: "staging"));
                (check, named) = ("no trusted publisher matches: ", ["staging"]);
                break;
            case "no environment":
                token = _github.Mint(_github.GitHubClaims(environment: null));
                (check, named) = ("no trusted publisher matches: ", ["acme/billing"]);
                break;
            case "gitlab project":
                token = _gitlab.Mint(_gitlab.GitLabClaims(projectPath: "acme/app-fork"));
                (check, named) = ("no trusted publisher matches: ", ["acme/app-fork"]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(refusal), refusal, null);
        }

        var refused = await ExchangeAsync(host.Http, token);

        Assert.True(refused.Status == HttpStatusCode.Unauthorized, $"{refusal}: {refused}");
        Assert.Equal("application/problem+json", refused.ContentHeaders.ContentType?.MediaType);
        Assert.StartsWith(check, refused.Detail, StringComparison.Ordinal);
        foreach (var text in named)
        {
            Assert.Contains(text, refused.Detail, StringComparison.Ordinal);
        }

        // Never the ID token, nor any of its three parts, in the answer or the audit log.
        var audit = await AuditAsync(host.Http, "oidc:refused");
        foreach (var part in token.Split('.').Where(p => p.Length > 0).Prepend(token))
        {
            Assert.DoesNotContain(part, refused.Body, StringComparison.Ordinal);
            Assert.All(audit, e => Assert.DoesNotContain(part, e.GetRawText(), StringComparison.Ordinal));
        }

        var entry = Assert.Single(audit);
        Assert.Equal(("refused", "127.0.0.1", AccessHost.UserAgent), (entry.Str("outcome"), entry.Str("address"), entry.Str("userAgent")));
        Assert.Contains(refused.Detail!, entry.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(mintedBefore, (await AuditAsync(host.Http, "oidc:minted")).Count);
        Assert.Equal(mintedBefore, (await MintedTokensAsync(host.Http)).Count);
        if (rogue is not null)
        {
            // An issuer that is not trusted is not even asked for its keys.
            Assert.Equal((0, 0), (rogue.DiscoveryFetches, rogue.JwksFetches));
        }
    }

    [Fact]
    public async Task A_publisher_must_name_a_known_issuer_and_constrain_the_repository_or_project_path()
    {
        var host = StartHost();
        object Publisher(string issuer, Dictionary<string, string> claims) =>
            new { name = "bad", issuer, claims, scopes = new[] { "upload" }, projects = new[] { "acme-*" } };
        var cases = new (string Label, object Body, string Named)[]
        {
            ("no repository", Publisher(_github.Issuer, new() { ["ref"] = "refs/tags/v*", ["environment"] = "release" }), "repository"),
            ("only the owner", Publisher(_github.Issuer, new() { ["repository_owner"] = "acme" }), "repository"),
            ("no project_path", Publisher(_gitlab.Issuer, new() { ["namespace_path"] = "acme", ["ref"] = "main" }), "project_path"),
            ("owner wildcard", Publisher(_github.Issuer, new() { ["repository"] = "*/billing" }), "'repository' must name its owner (or group) without wildcards"),
            ("unknown issuer", Publisher("https://token.actions.example.invalid", new() { ["repository"] = "acme/billing" }), "'issuer' must be one of the trusted issuers"),
            ("unknown claim", Publisher(_github.Issuer, new() { ["repository"] = "acme/billing", ["colour"] = "blue" }), "colour"),
        };

        foreach (var (label, body, named) in cases)
        {
            var answer = await host.PostJsonAsync(PublishersRoute, body, AccessHost.Admin);
            Assert.True(answer.Status == HttpStatusCode.BadRequest, $"{label}: {answer}");
            Assert.Contains(named, answer.Detail, StringComparison.Ordinal);
        }

        // Nobody but an admin makes one.
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.PostJsonAsync(PublishersRoute, BillingRelease(_github))).Status);
        Assert.Equal("[]", (await host.GetAsync(PublishersRoute, AccessHost.Admin)).Body);
        Assert.Empty(await AuditAsync(host.Http, "trusted_publisher:created"));

        // The good one, as listed.
        var created = await host.PostJsonAsync(PublishersRoute, BillingRelease(_github), AccessHost.Admin);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var listed = Assert.Single((await host.GetAsync(PublishersRoute, AccessHost.Admin)).Json.EnumerateArray());
        foreach (var shown in new[] { created.Json, listed })
        {
            Assert.Equal(("billing-release", _github.Issuer), (shown.Str("name"), shown.Str("issuer")));
            Assert.Equal(("acme/billing", "refs/tags/v*", "release"),
                (shown.GetProperty("claims").Str("repository"), shown.GetProperty("claims").Str("ref"), shown.GetProperty("claims").Str("environment")));
            Assert.Equal(["upload"], shown.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
            Assert.Equal(["acme-billing"], shown.GetProperty("projects").EnumerateArray().Select(s => s.GetString()));
            Assert.Equal("admin-token", shown.Str("createdBy"));
        }

        Assert.Single(await AuditAsync(host.Http, "trusted_publisher:created"));
    }

    [Fact]
    public async Task A_minted_token_ends_at_its_expiry_and_when_its_publisher_is_deleted()
    {
        var host = StartHost(("Builder:Oidc:TokenMinutes", "1"));
        await host.PublishAsync("acme-app", "1.0");
        var publisher = await CreatePublisherAsync(host.Http, AppReader(_gitlab));
        var expiring = await MintAsync(host.Http, _gitlab.Mint(_gitlab.GitLabClaims()));
        var revoked = await MintAsync(host.Http, _gitlab.Mint(_gitlab.GitLabClaims()));
        var now = host.Clock.GetUtcNow();
        Assert.InRange(expiring.ExpiresAt, now.AddSeconds(50), now.AddSeconds(61));
        // Both work, so the server has verified and remembered them: the refusals below must beat that.
        foreach (var token in new[] { expiring, revoked })
        {
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);
        }

        var deleted = await host.SendAsync(HttpMethod.Delete, $"{PublishersRoute}/{publisher}", AccessHost.Admin);
        Assert.True(deleted.Status == HttpStatusCode.OK, deleted.ToString());
        Assert.Equal(2, deleted.Json.GetProperty("revokedTokens").GetInt32());
        var afterDelete = await host.GetAsync("/simple/acme-app/", revoked.Basic);
        Assert.Equal(HttpStatusCode.Unauthorized, afterDelete.Status);
        Assert.StartsWith("token revoked on ", afterDelete.Detail, StringComparison.Ordinal);
        // The same job's next ID token finds no publisher any more.
        var again = await ExchangeAsync(host.Http, _gitlab.Mint(_gitlab.GitLabClaims()));
        Assert.Equal(HttpStatusCode.Unauthorized, again.Status);
        Assert.StartsWith("no trusted publisher matches: ", again.Detail, StringComparison.Ordinal);
        Assert.Single(await AuditAsync(host.Http, "trusted_publisher:deleted"));
        Assert.Equal("[]", (await host.GetAsync(PublishersRoute, AccessHost.Admin)).Body);

        // The expiring token's expiry, with a publisher that still exists.
        await CreatePublisherAsync(host.Http, AppReader(_gitlab, "app-ci-2"));
        var fresh = await MintAsync(host.Http, _gitlab.Mint(_gitlab.GitLabClaims()));
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", fresh.Basic)).Status);
        host.Clock.Advance(fresh.ExpiresAt - host.Clock.GetUtcNow() + TimeSpan.FromSeconds(1));
        var expired = await host.GetAsync("/simple/acme-app/", fresh.Basic);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.Status);
        Assert.StartsWith("token expired on ", expired.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.GetAsync("/simple/acme-app/", expiring.Basic)).Status);
    }

    [Fact]
    public async Task A_rotated_issuer_key_is_picked_up_without_a_restart_and_an_unknown_kid_refreshes_the_keys_at_most_once()
    {
        var host = StartHost();
        await CreatePublisherAsync(host.Http, BillingRelease(_github));
        var first = await MintAsync(host.Http, _github.Mint(_github.GitHubClaims()));
        var fetchesAfterFirst = _github.JwksFetches;
        Assert.True(fetchesAfterFirst >= 1, "Builder verified a token without fetching the issuer's keys");
        var oldKey = _github.SigningKey;

        // Some time later the platform rotates: a new kid, published beside the old one, signs from now on.
        host.Clock.Advance(TimeSpan.FromMinutes(5));
        var newKey = _github.RotateKey();
        var rotatedToken = _github.Mint(_github.GitHubClaims());
        Assert.Equal(newKey.Kid, LocalOidcProvider.Header(rotatedToken).GetProperty("kid").GetString());
        var rotated = await MintAsync(host.Http, rotatedToken);
        var fetchesAfterRotation = _github.JwksFetches;
        // The old key still verifies tokens minted before the rotation, from what Builder holds.
        var old = await MintAsync(host.Http, _github.Mint(_github.GitHubClaims(), oldKey));
        Assert.Equal(fetchesAfterRotation, _github.JwksFetches);

        // Forged tokens naming a kid nobody published: refused, and at most one more fetch for both.
        host.Clock.Advance(TimeSpan.FromMinutes(2));
        var unknown = new List<Answer>();
        for (var i = 0; i < 2; i++)
        {
            unknown.Add(await ExchangeAsync(host.Http, _github.MintWithUnpublishedKey(_github.GitHubClaims(), kid: "unpublished-kid")));
        }

        Assert.All(unknown, a => Assert.Equal(HttpStatusCode.Unauthorized, a.Status));
        Assert.All(unknown, a => Assert.StartsWith("signature: ", a.Detail, StringComparison.Ordinal));
        Assert.All(unknown, a => Assert.Contains("unpublished-kid", a.Detail, StringComparison.Ordinal));
        Assert.InRange(_github.JwksFetches - fetchesAfterRotation, 0, 1);
        Assert.Equal(3, new[] { first.Id, rotated.Id, old.Id }.Distinct().Count());
        Assert.All(new[] { first, rotated, old }, t => Assert.Equal("billing-release", t.Publisher));
    }

    [Fact]
    public async Task An_es256_signed_id_token_is_accepted()
    {
        var host = StartHost();
        await host.PublishAsync("acme-app", "1.0");
        await CreatePublisherAsync(host.Http, AppReader(_gitlab));
        _gitlab.RotateKey("ES256");
        var idToken = _gitlab.Mint(_gitlab.GitLabClaims());

        var reader = await MintAsync(host.Http, idToken);

        Assert.Equal("ES256", LocalOidcProvider.Header(idToken).GetProperty("alg").GetString());
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", reader.Basic)).Status);
    }

    [Fact]
    public async Task The_exchange_takes_only_a_token_and_asks_which_publisher_when_several_match()
    {
        var host = StartHost();
        await CreatePublisherAsync(host.Http, new
        {
            name = "app-read",
            issuer = _gitlab.Issuer,
            claims = new Dictionary<string, string> { ["project_path"] = "acme/app" },
            scopes = new[] { "read" },
            projects = new[] { "acme-app" },
        });
        await CreatePublisherAsync(host.Http, new
        {
            name = "app-write",
            issuer = _gitlab.Issuer,
            claims = new Dictionary<string, string> { ["project_path"] = "ACME/*", ["ref_protected"] = "true" },
            scopes = new[] { "upload" },
            projects = new[] { "acme-app" },
        });

        foreach (var (label, content) in new (string, HttpContent)[]
        {
            ("empty object", JsonContent.Create(new { })),
            ("token not a string", JsonContent.Create(new { token = 5 })),
            ("not JSON", new StringContent("{token: abc", Encoding.UTF8, "application/json")),
        })
        {
            var answer = await host.SendAsync(HttpMethod.Post, MintRoute, content: content);
            Assert.True(answer.Status == HttpStatusCode.BadRequest, $"{label}: {answer}");
        }

        var malformed = await ExchangeAsync(host.Http, "not-a-jwt");
        Assert.Equal(HttpStatusCode.Unauthorized, malformed.Status);
        Assert.StartsWith("malformed: ", malformed.Detail, StringComparison.Ordinal);

        // Both publishers match a protected main branch of acme/app (project paths compare case-insensitively): the job says which.
        var ambiguous = await ExchangeAsync(host.Http, _gitlab.Mint(_gitlab.GitLabClaims()));
        Assert.True(ambiguous.Status == HttpStatusCode.Conflict, ambiguous.ToString());
        Assert.Contains("app-read", ambiguous.Detail, StringComparison.Ordinal);
        Assert.Contains("app-write", ambiguous.Detail, StringComparison.Ordinal);
        var chosen = await MintAsync(host.Http, _gitlab.Mint(_gitlab.GitLabClaims()), publisher: "app-write");
        Assert.Equal("app-write", chosen.Publisher);
        Assert.Equal(["upload"], chosen.Json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        // An unprotected branch matches only the reader.
        var feature = await MintAsync(host.Http, _gitlab.Mint(_gitlab.GitLabClaims(@ref: "feature/x")));
        Assert.Equal("app-read", feature.Publisher);
    }

    private async Task<LocalOidcProvider> StartProviderAsync(string name)
    {
        var provider = await LocalOidcProvider.StartAsync(name);
        _providers.Add(provider);
        return provider;
    }

    /// <summary>The app on a loopback Kestrel port (the audit log records 127.0.0.1), trusting both providers, on one clock with them.</summary>
    private AccessHost StartHost(params (string Key, string Value)[] more)
    {
        var settings = HostSettings(_github, _gitlab);
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        var host = new AccessHost(kestrel: true, settings);
        _hosts.Add(host);
        _github.Clock = host.Clock;
        _gitlab.Clock = host.Clock;
        return host;
    }

    private static string IndexUrl(BuilderProcess web, string secret) =>
        $"http://__token__:{secret}@{new Uri(web.BaseUrl!).Authority}/simple/";
}
