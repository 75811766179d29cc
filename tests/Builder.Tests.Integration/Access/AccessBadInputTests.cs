using System.Globalization;
using System.Net;
using System.Text;
using Builder.Access;
using Builder.Core.Access;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// What attackers and broken clients send: malformed credentials, forged and foreign tokens, path tricks, password
/// guessing. Each gets the right status, the answer leaks nothing (no secret, no hidden project), and nothing is lost
/// (a legitimate request afterwards still works).
/// </summary>
public sealed class AccessBadInputTests : IDisposable
{
    private readonly List<AccessHost> _hosts = [];

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.Dispose();
        }
    }

    private AccessHost Start(bool kestrel = false, Dictionary<string, string?>? settings = null)
    {
        var host = new AccessHost(kestrel, settings);
        _hosts.Add(host);
        return host;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static Task<Answer> WithRawAuthorizationAsync(AccessHost host, string path, string authorization, Dictionary<string, string>? headers = null) =>
        host.SendAsync(HttpMethod.Get, path, configure: r =>
        {
            Assert.True(r.Headers.TryAddWithoutValidation("Authorization", authorization));
            foreach (var (name, value) in headers ?? [])
            {
                r.Headers.TryAddWithoutValidation(name, value);
            }
        });

    /// <summary>A valid token with one character of its random part changed (the checksum no longer matches).</summary>
    private static string FlipOne(string secret)
    {
        var chars = secret.ToCharArray();
        chars[10] = chars[10] == 'a' ? 'b' : 'a';
        return new string(chars);
    }

    [Fact]
    public async Task Malformed_oversized_forged_and_foreign_credentials_are_401_with_the_reason_and_leak_nothing()
    {
        // The failed-authentication limit is not what this test is about: every refusal here counts against one address.
        var host = Start(settings: new() { ["Builder:Access:FailedAuthLimit"] = "1000" });
        await host.PublishAsync("acme-app", "1.0");
        await host.CreatePersonAsync("alice", "alice-password-1", new { role = "reader" });
        var token = await host.CreateTokenAsync(new { name = "good", scopes = new[] { "read" } });
        string foreign;
        using (var other = new AccessHost())
        {
            foreign = (await other.CreateTokenAsync(new { name = "theirs", scopes = new[] { "read" } })).Secret;
        }

        var tag = await host.Factory.Services.GetRequiredService<InstanceTag>().GetAsync(CancellationToken.None);
        var neverIssued = TokenSecret.Create(tag);
        var wrongPassword = await WithRawAuthorizationAsync(host, "/simple/", "Basic " + Base64("alice:not-alices-password"));

        var cases = new (string Label, string Header, string Reason, string? Secret)[]
        {
            ("a token without a scheme", token.Secret, "unsupported Authorization scheme", token.Secret),
            ("an unknown scheme", "Digest username=\"alice\", response=\"6629fae49393a05397450978507c4ef1\"", "unsupported Authorization scheme", "6629fae49393a05397450978507c4ef1"),
            ("Basic alone", "Basic", "the Basic credentials are not base64", null),
            ("Basic with non-base64", "Basic %%%not*base64%%%", "the Basic credentials are not base64", "not*base64"),
            ("Basic without ':'", "Basic " + Base64("just-a-password-without-user"), "no ':' between user name and password", "just-a-password-without-user"),
            ("Basic with bytes that are not UTF-8", "Basic " + Convert.ToBase64String([0xC3, 0x28, (byte)':', 0xFF, 0xFE, 0x41]), "not UTF-8", null),
            ("Basic with an empty password", "Basic " + Base64("__token__:"), "the password is empty", null),
            ("Bearer without a token", "Bearer ", "the Bearer credentials are empty", null),
            ("a 10 KB bearer header", "Bearer " + new string('x', 10 * 1024), "longer than 4096 characters", null),
            ("a 10 KB Basic header around a real token", "Basic " + Base64("__token__:" + token.Secret + new string('y', 10 * 1024)), "longer than 4096 characters", token.Secret),
            ("a token with one character changed", "Bearer " + FlipOne(token.Secret), "its checksum does not match", FlipOne(token.Secret)),
            ("a token cut short", "Bearer " + token.Secret[..40], "not a Builder token", token.Secret[..40]),
            ("another installation's token", "Basic " + Base64("__token__:" + foreign), "it belongs to another Builder installation", foreign),
            ("a well-formed token never issued here", "Bearer " + neverIssued, "never created here", neverIssued),
            ("a password that is not a token", "Basic " + Base64("__token__:hunter2-is-no-token"), "unknown token", "hunter2-is-no-token"),
            ("an unknown user", "Basic " + Base64("mallory:not-alices-password"), wrongPassword.Detail!, "not-alices-password"),
            ("a wrong password", "Basic " + Base64("alice:another-wrong-password"), "unknown user name or wrong password", "another-wrong-password"),
        };

        var refused = 0;
        foreach (var (label, header, reason, secret) in cases)
        {
            var answer = await WithRawAuthorizationAsync(host, "/simple/acme-app/", header);
            Assert.True(answer.Status == HttpStatusCode.Unauthorized, $"{label}: {answer}");
            Assert.Equal("Basic realm=\"Builder\"", answer.Challenge);
            Assert.Equal("application/problem+json", answer.ContentHeaders.ContentType?.MediaType);
            Assert.Contains(reason, answer.Detail, StringComparison.Ordinal);
            Assert.Equal(answer.Detail, answer.ReasonPhrase);
            if (secret is not null)
            {
                Assert.DoesNotContain(secret, answer.Body, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, answer.ReasonPhrase, StringComparison.Ordinal);
            }

            Assert.DoesNotContain("acme-app", answer.Body, StringComparison.Ordinal);
            refused++;
        }

        Assert.Equal(17, refused);
        // An unknown user and a wrong password get one answer: it does not reveal which names exist.
        Assert.Equal("unknown user name or wrong password", wrongPassword.Detail);

        // Nothing is lost: the real token, the person and the admin still get in; the refusals are in the audit log with no secret.
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", AccessHost.BasicOf("alice", "alice-password-1"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", AccessHost.Admin)).Status);
        var audit = await host.AuditAsync();
        Assert.Equal(15, audit.Count(a => a.Action == AuditActions.TokenRefused));
        Assert.Equal(3, audit.Count(a => a.Action == AuditActions.PersonLoginFailed));
        Assert.All(audit, a => Assert.DoesNotContain(token.Secret[8..], a.Detail ?? string.Empty, StringComparison.Ordinal));
        Assert.All(audit, a => Assert.DoesNotContain("password", a.Principal, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Path_tricks_on_the_index_and_file_routes_are_404_or_400_never_500_and_reveal_no_hidden_project()
    {
        var host = Start(kestrel: true);
        await host.PublishAsync("acme-app", "1.0");
        await host.PublishAsync("secret-proj", "1.0");
        var reader = "Basic " + Base64("__token__:" + (await host.CreateTokenAsync(new { name = "acme", scopes = new[] { "read" }, projects = new[] { "acme-*" } })).Secret);
        var admin = "Bearer " + Infrastructure.BuilderInstance.AdminToken;

        // {p} is the hidden project's name (then a missing one's), {u} its file-name spelling.
        string[] targets =
        [
            "/simple/..%2f{p}/",
            "/simple/..%2F{p}/",
            "/simple/%2e%2e/{p}/",
            "/simple/acme-app/..%2f{p}/",
            "/simple/acme-app%2f..%2f{p}/",
            "/simple/acme-app/../{p}/",
            "/simple/%252e%252e%252f{p}/",
            "/simple/{p}%00/",
            "/simple/{p}/..;/",
            "/files/acme-app/..%2f{p}%2f{u}-1.0-py3-none-any.whl",
            "/files/acme-app%2f..%2f{p}/{u}-1.0-py3-none-any.whl",
            "/files/{p}%2f..%2facme-app/acme_app-1.0-py3-none-any.whl",
            "/files/acme-app/../{p}/{u}-1.0-py3-none-any.whl",
            "/files/acme-app/%2e%2e/{p}/{u}-1.0-py3-none-any.whl",
            "/files/{p}/..%2f{p}%2f{u}-1.0-py3-none-any.whl",
            "/files/acme-app/..%5c{p}%5c{u}-1.0-py3-none-any.whl",
        ];
        var compared = 0;
        foreach (var target in targets)
        {
            var hidden = await FollowAsync(host, target.Replace("{p}", "secret-proj").Replace("{u}", "secret_proj"), reader);
            var missing = await FollowAsync(host, target.Replace("{p}", "no-such-proj").Replace("{u}", "no_such_proj"), reader);
            Assert.True(hidden.Status is 400 or 404, $"{target}: {hidden}");
            Assert.Equal(missing.Status, hidden.Status);
            Assert.Equal(Mask(missing.Detail, "no-such-proj", "no_such_proj"), Mask(hidden.Detail, "secret-proj", "secret_proj"));
            Assert.DoesNotContain(host.DataDir, hidden.Body, StringComparison.Ordinal);
            compared++;
        }

        // With every right, tricks still reach nothing outside the published files (the database, the key ring).
        string[] escapes =
        [
            "/files/acme-app/%2e%2e/%2e%2e/builder.db",
            "/files/acme-app/..%2f..%2fbuilder.db",
            "/files/acme-app/..%2F..%2Fbuilder.db",
            "/files/acme-app/..%5c..%5cbuilder.db",
            "/files/..%2f/builder.db",
            "/files/acme-app/%2e%2e%2f%2e%2e%2fkeys",
            "/files/acme-app/..%252f..%252fbuilder.db",
            "/files/acme-app/acme_app-1.0-py3-none-any.whl%00.metadata",
            "/files/acme-app/acme_app-1.0-py3-none-any.whl%2f..%2f..%2f..%2fbuilder.db",
            "/files/%2e%2e/%2e%2e/builder.db",
            "/simple/%2e%2e/%2e%2e/builder.db",
        ];
        foreach (var target in escapes)
        {
            var answer = await FollowAsync(host, target, admin);
            Assert.True(answer.Status is 400 or 404, $"{target}: {answer}");
            Assert.DoesNotContain("SQLite format", answer.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("<key ", answer.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(host.DataDir, answer.Body, StringComparison.Ordinal);
            compared++;
        }

        Assert.Equal(targets.Length + escapes.Length, compared);
        Assert.Equal(27, compared);

        // Nothing lost: the routes still serve what they should.
        Assert.Equal(200, (await host.RawGetAsync("/simple/acme-app/", reader)).Status);
        Assert.Equal(200, (await host.RawGetAsync("/files/acme-app/acme_app-1.0-py3-none-any.whl", reader)).Status);
        Assert.Equal(404, (await host.RawGetAsync("/simple/secret-proj/", reader)).Status);
        Assert.Equal(200, (await host.RawGetAsync("/simple/secret-proj/", admin)).Status);
    }

    /// <summary>Sends the raw target; a redirect (a normalized name) is followed once, as pip would.</summary>
    private static async Task<RawAnswer> FollowAsync(AccessHost host, string target, string authorization)
    {
        var answer = await host.RawGetAsync(target, authorization);
        Assert.True(answer.Status != 500, $"{target}: {answer}");
        if (answer.Status is 301 or 302 or 307 or 308)
        {
            var location = answer.Headers["Location"];
            Assert.StartsWith("/", location, StringComparison.Ordinal);
            answer = await host.RawGetAsync(location, authorization);
            Assert.True(answer.Status != 500, $"{target} → {location}: {answer}");
        }

        return answer;
    }

    private static string Mask(string? text, string project, string underscored) =>
        (text ?? string.Empty).Replace(project, "{p}", StringComparison.Ordinal).Replace(underscored, "{u}", StringComparison.Ordinal);

    [Fact]
    public async Task A_thousand_wrong_passwords_from_one_address_are_rate_limited_while_the_right_password_from_another_still_works()
    {
        // A window far longer than the test, so its end is decided by the clock the test moves, not by the machine's speed.
        var host = Start(kestrel: true, settings: new()
        {
            ["Builder:Access:KnownProxies:0"] = "127.0.0.1",
            ["Builder:Access:FailedAuthWindowSeconds"] = "3600",
        });
        await host.PublishAsync("acme-app", "1.0");
        await host.CreatePersonAsync("victim", "the-right-password", new { role = "reader", projects = new[] { "acme-*" } });
        var right = "Basic " + Base64("victim:the-right-password");
        var attacker = new Dictionary<string, string> { ["X-Forwarded-For"] = "203.0.113.7" };

        // The proxy's X-Forwarded-For is believed: a token for the client's range works through it.
        var ranged = await host.CreateTokenAsync(new { name = "branch", scopes = new[] { "read" }, ipRanges = new[] { "203.0.113.0/28" } });
        Assert.Equal(HttpStatusCode.OK, (await WithRawAuthorizationAsync(host, "/simple/acme-app/", "Bearer " + ranged.Secret, new() { ["X-Forwarded-For"] = "203.0.113.9" })).Status);

        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < 1000; i++)
        {
            var password = $"guess-{i:D4}-wrong";
            var answer = await WithRawAuthorizationAsync(host, "/simple/acme-app/", "Basic " + Base64("victim:" + password), attacker);
            statuses[answer.Code] = statuses.GetValueOrDefault(answer.Code) + 1;
            Assert.DoesNotContain(password, answer.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("acme-app", answer.Body, StringComparison.Ordinal);
            if (answer.Code == 429)
            {
                var retryAfter = int.Parse(answer.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
                Assert.InRange(retryAfter, 3000, 3600);
                Assert.StartsWith("Too many failed authentications from this address", answer.Detail, StringComparison.Ordinal);
                Assert.Equal(answer.Detail, answer.ReasonPhrase);
            }
        }

        // The default limit: 20 failures per window.
        Assert.Equal(new Dictionary<int, int> { [401] = 20, [429] = 980 }, statuses);

        // Credentials never verified before wait like anything else from the blocked address, the right ones included:
        // a guesser cannot tell a right guess by its answer.
        var fresh = await host.CreateTokenAsync(new { name = "fresh", scopes = new[] { "read" } });
        Assert.Equal(HttpStatusCode.TooManyRequests, (await WithRawAuthorizationAsync(host, "/simple/acme-app/", "Bearer " + fresh.Secret, attacker)).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await WithRawAuthorizationAsync(host, "/simple/acme-app/", right, attacker)).Status);

        // The right password from another address works; once verified there, it works from the blocked address too
        // (a CI job's credentials keep working behind an address something else there is failing from).
        Assert.Equal(HttpStatusCode.OK, (await WithRawAuthorizationAsync(host, "/simple/acme-app/", right, new() { ["X-Forwarded-For"] = "203.0.113.8" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await WithRawAuthorizationAsync(host, "/simple/acme-app/", right)).Status);
        Assert.Equal(HttpStatusCode.OK, (await WithRawAuthorizationAsync(host, "/simple/acme-app/", right, attacker)).Status);

        var audit = await host.AuditAsync();
        var limited = Assert.Single(audit, a => a.Action == AuditActions.RateLimited);
        Assert.Equal("203.0.113.7", limited.Address);
        Assert.Equal(20, audit.Count(a => a.Action == AuditActions.PersonLoginFailed));
        Assert.All(audit.Where(a => a.Action == AuditActions.PersonLoginFailed), a => Assert.Equal("203.0.113.7", a.Address));
        Assert.All(audit, a => Assert.DoesNotContain("guess-", (a.Detail ?? string.Empty) + a.Principal, StringComparison.Ordinal));

        // Nothing lost: when the window ends, the blocked address gets in with credentials it never used before.
        host.Clock.Advance(TimeSpan.FromSeconds(3601));
        Assert.Equal(HttpStatusCode.OK, (await WithRawAuthorizationAsync(host, "/simple/acme-app/", "Bearer " + fresh.Secret, attacker)).Status);
    }

    [Fact]
    public async Task X_Forwarded_For_from_an_address_that_is_not_a_known_proxy_is_ignored()
    {
        var host = Start(kestrel: true, settings: new()
        {
            ["Builder:Access:KnownProxies:0"] = "192.0.2.1",
            ["Builder:Access:FailedAuthLimit"] = "5",
            ["Builder:Access:FailedAuthWindowSeconds"] = "3600",
        });
        await host.PublishAsync("acme-app", "1.0");
        await host.CreatePersonAsync("victim", "the-right-password", new { role = "reader", projects = new[] { "acme-*" } });
        var right = "Basic " + Base64("victim:the-right-password");

        // A token for 198.51.100.0/24 cannot claim to come from there: the connection's address counts (failure 1).
        var ranged = await host.CreateTokenAsync(new { name = "branch", scopes = new[] { "read" }, ipRanges = new[] { "198.51.100.0/24" } });
        var spoofed = await WithRawAuthorizationAsync(host, "/simple/acme-app/", "Bearer " + ranged.Secret, new() { ["X-Forwarded-For"] = "198.51.100.5" });
        Assert.Equal(HttpStatusCode.Forbidden, spoofed.Status);
        Assert.Equal("this token may not be used from 127.0.0.1", spoofed.Detail);

        // Failures 2-5, each claiming another address: all count against the connection's.
        var codes = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            codes.Add((await WithRawAuthorizationAsync(host, "/simple/acme-app/", "Basic " + Base64("victim:wrong-" + i), new() { ["X-Forwarded-For"] = $"198.51.100.{10 + i}" })).Code);
        }

        Assert.Equal([401, 401, 401, 401], codes);
        var blocked = await WithRawAuthorizationAsync(host, "/simple/acme-app/", right, new() { ["X-Forwarded-For"] = "198.51.100.99" });
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.Status);
        Assert.True(blocked.Headers.Contains("Retry-After"));

        var audit = await host.AuditAsync();
        Assert.Equal("127.0.0.1", Assert.Single(audit, a => a.Action == AuditActions.RateLimited).Address);
        Assert.Equal(["127.0.0.1"], audit.Where(a => a.Action is AuditActions.PersonLoginFailed or AuditActions.TokenRefused).Select(a => a.Address).Distinct());

        host.Clock.Advance(TimeSpan.FromSeconds(3601));
        Assert.Equal(HttpStatusCode.OK, (await WithRawAuthorizationAsync(host, "/simple/acme-app/", right, new() { ["X-Forwarded-For"] = "198.51.100.99" })).Status);
    }

    [Fact]
    public async Task Failed_authentications_are_never_cached_and_the_block_ends_with_its_window()
    {
        var host = Start(settings: new() { ["Builder:Access:FailedAuthLimit"] = "3", ["Builder:Access:FailedAuthWindowSeconds"] = "3600" });
        await host.PublishAsync("acme-app", "1.0");
        var token = await host.CreateTokenAsync(new { name = "good", scopes = new[] { "read" } });
        var forged = "Bearer " + FlipOne(token.Secret);

        var first = await WithRawAuthorizationAsync(host, "/simple/", forged);
        var second = await WithRawAuthorizationAsync(host, "/simple/", forged);
        var third = await WithRawAuthorizationAsync(host, "/simple/", forged);
        var fourth = await WithRawAuthorizationAsync(host, "/simple/", "Bearer " + token.Secret);

        Assert.Equal([401, 401, 401, 429], new[] { first.Code, second.Code, third.Code, fourth.Code });
        Assert.Equal(3, await host.WithDbAsync(db => db.Audit.CountAsync(a => a.Action == AuditActions.TokenRefused)));
        host.Clock.Advance(TimeSpan.FromSeconds(3601));
        Assert.Equal(HttpStatusCode.OK, (await WithRawAuthorizationAsync(host, "/simple/", "Bearer " + token.Secret)).Status);
    }

    [Fact]
    public async Task A_signed_webhook_is_decided_by_its_signature_whatever_Authorization_header_it_carries()
    {
        // A webhook URL entered with user info (https://ci:pw@builder/webhooks/github) makes GitHub send HTTP Basic.
        var host = Start(settings: new() { ["Builder:Access:FailedAuthLimit"] = "1000" });
        const string Secret = "webhook-secret-for-bad-input-0123";
        await host.RegisterRepositoryAsync("acme/hooked", Secret);
        var junk = new[]
        {
            AccessHost.BasicOf("github", "not-a-builder-credential"),
            AccessHost.BearerOf("bld_thisIsNotAToken"),
            new System.Net.Http.Headers.AuthenticationHeaderValue("Digest", "whatever"),
        };

        var signed = new List<HttpStatusCode>();
        var forged = new List<HttpStatusCode>();
        for (var i = 0; i < junk.Length; i++)
        {
            signed.Add((await host.SendWebhookAsync("acme/hooked", $"v1.0.{i}", Secret, junk[i])).Status);
            forged.Add((await host.SendWebhookAsync("acme/hooked", $"v2.0.{i}", "a-forged-webhook-secret-0000", junk[i])).Status);
        }

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted], signed);
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], forged);
        Assert.Equal(3, host.Factory.Dispatcher.Enqueued.Count);
    }

    [Fact]
    public async Task Refused_webhook_deliveries_count_against_the_address_like_failed_logins()
    {
        var host = Start(kestrel: true, settings: new() { ["Builder:Access:FailedAuthLimit"] = "3", ["Builder:Access:FailedAuthWindowSeconds"] = "3600" });
        const string Secret = "webhook-secret-for-the-limit-0123";
        await host.RegisterRepositoryAsync("acme/limited", Secret);
        await host.CreatePersonAsync("erin", "erin-password-12", new { role = "reader" });

        var codes = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            codes.Add((await host.SendWebhookAsync(i == 0 ? "nobody/unknown" : "acme/limited", $"v1.0.{i}", "a-forged-webhook-secret-0000")).Code);
        }

        // The third refusal reached the limit: from this address a rightly signed delivery, and a login, now wait.
        var signed = await host.SendWebhookAsync("acme/limited", "v1.1.0", Secret);
        var login = await host.GetAsync("/api/whoami", AccessHost.BasicOf("erin", "erin-password-12"));
        Assert.Equal([401, 401, 401], codes);
        Assert.Equal(HttpStatusCode.TooManyRequests, signed.Status);
        Assert.True(signed.Headers.Contains("Retry-After"), signed.ToString());
        Assert.StartsWith("Too many failed authentications from this address", signed.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, login.Status);
        Assert.Empty(host.Factory.Dispatcher.Enqueued);
        var audit = await host.AuditAsync();
        Assert.Equal(3, audit.Count(a => a.Action == AuditActions.WebhookRefused));
        Assert.Equal("127.0.0.1", Assert.Single(audit, a => a.Action == AuditActions.RateLimited).Address);

        host.Clock.Advance(TimeSpan.FromSeconds(3601));
        Assert.Equal(HttpStatusCode.Accepted, (await host.SendWebhookAsync("acme/limited", "v1.1.0", Secret)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/api/whoami", AccessHost.BasicOf("erin", "erin-password-12"))).Status);
    }

    [Fact]
    public async Task A_person_whose_password_starts_like_a_token_is_refused_when_created_or_can_log_in()
    {
        var host = Start();
        await host.PublishAsync("acme-app", "1.0");

        var created = await host.PostJsonAsync("/api/people", new { userName = "dave", password = "bld_davesOwnPassword", roles = new[] { new { role = "reader" } } }, AccessHost.Admin);

        if (created.Status == HttpStatusCode.BadRequest)
        {
            Assert.Contains("'password'", created.Detail, StringComparison.Ordinal);
            return;
        }

        Assert.Equal(HttpStatusCode.Created, created.Status);
        var login = await host.GetAsync("/simple/acme-app/", AccessHost.BasicOf("dave", "bld_davesOwnPassword"));
        Assert.True(login.Status == HttpStatusCode.OK, $"dave was created with this password but cannot log in with it: {login}");
    }

    [Fact]
    public async Task A_user_name_longer_than_the_audit_column_is_a_401_on_PostgreSQL_too()
    {
        await using var database = await Infrastructure.PostgresDatabase.CreateAsync();
        var host = new AccessHost(postgres: database.ConnectionString);
        try
        {
            await host.PublishAsync("acme-app", "1.0");
            var longName = new string('m', 400);

            var answer = await host.GetAsync("/simple/acme-app/", AccessHost.BasicOf(longName, "some-password-123"));

            Assert.True(answer.Status == HttpStatusCode.Unauthorized, answer.ToString());
            Assert.Equal("unknown user name or wrong password", answer.Detail);
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", AccessHost.Admin)).Status);
        }
        finally
        {
            host.Dispose();
        }
    }
    [Fact]
    public async Task Bodies_and_query_values_of_the_wrong_type_are_400_naming_the_field_and_log_no_error()
    {
        var host = Start();
        var repository = await host.RegisterRepositoryAsync("acme/app", "0123456789abcdef0123");
        Task<Answer> Json(HttpMethod method, string path, string json, string mediaType = "application/json") =>
            host.SendAsync(method, path, AccessHost.Admin, new StringContent(json, Encoding.UTF8, mediaType));

        var cases = new (string Label, Func<Task<Answer>> Send, int Status, string Detail)[]
        {
            ("scopes as a string", () => Json(HttpMethod.Post, "/api/tokens", """{"name":"a","scopes":"read"}"""), 400, "'scopes' must be a list of strings"),
            ("expiresAt not a date", () => Json(HttpMethod.Post, "/api/tokens", """{"name":"a","scopes":["read"],"expiresAt":"tomorrow"}"""), 400,
                "'expiresAt' must be a date and time (ISO 8601, like 2027-01-01T00:00:00Z)"),
            ("an element of a list", () => Json(HttpMethod.Post, "/api/tokens", """{"name":"a","scopes":["read"],"ipRanges":[1]}"""), 400, "'ipRanges[0]' must be a string"),
            ("a nested field", () => Json(HttpMethod.Post, "/api/people", """{"userName":"bob","password":"bob-password-1","roles":[{"role":5}]}"""), 400, "'roles[0].role' must be a string"),
            ("a NUL in text", () => Json(HttpMethod.Post, "/api/tokens", """{"name":"a","scopes":["read"],"description":"a\u0000b"}"""), 400,
                "'description' must not contain a NUL character (\\u0000)"),
            ("a null role", () => Json(HttpMethod.Post, "/api/people", """{"userName":"bob","password":"bob-password-1","roles":[null]}"""), 400, "'roles': each role is an object"),
            ("an array for the body", () => Json(HttpMethod.Post, "/api/tokens", "[]"), 400, "the body must be a JSON object"),
            ("cut JSON", () => Json(HttpMethod.Post, "/api/repositories", """{"provider":"""), 400, "the body is not valid JSON at 'provider' (line 1, byte 13): "),
            ("not JSON", () => Json(HttpMethod.Post, "/api/tokens", "{}", "text/plain"), 415, "the body must be JSON (Content-Type: application/json), not 'text/plain; charset=utf-8'"),
            ("deliveries limit", () => host.GetAsync($"/api/repositories/{repository}/deliveries?limit=x", AccessHost.Admin), 400, "'limit' must be a whole number, not 'x'"),
            ("limit=abc", () => host.GetAsync("/api/audit?limit=abc", AccessHost.Admin), 400, "'limit' must be a whole number, not 'abc'"),
            ("since=tomorrow", () => host.GetAsync("/api/audit?since=tomorrow", AccessHost.Admin), 400, "'since' must be a date and time"),
            ("deliveries limit", () => host.GetAsync($"/api/repositories/{repository}/deliveries?limit=x", AccessHost.Admin), 400, "'limit' must be a whole number, not 'x'"),
        };
        foreach (var (label, send, status, detail) in cases)
        {
            var answer = await send();
            Assert.True(answer.Code == status, $"{label}: {answer}");
            Assert.True(answer.Detail?.StartsWith(detail, StringComparison.Ordinal) == true, $"{label}: {answer}");
        }

        Assert.Empty(host.Factory.Logs.Failures);
    }

    [Fact]
    public async Task Uploads_cut_before_the_final_boundary_or_with_Transfer_Encoding_beside_Content_Length_are_400_naming_the_problem()
    {
        var host = Start(kestrel: true);
        const string Part = "--b\r\nContent-Disposition: form-data; name=\":action\"\r\n\r\nfile_upload\r\n";
        const string Whole = Part + "--b--\r\n";
        static string Chunked(string body) => body.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n" + body + "\r\n0\r\n\r\n";
        const string Cut = "the multipart/form-data body is malformed: the body ends before the closing boundary of the form (it was cut off)";

        var cases = new (string Label, string Headers, string Body, string Detail)[]
        {
            ("cut before the final boundary", $"Content-Length: {Part.Length}", Part, Cut),
            ("cut inside a part", $"Content-Length: {Part.Length - 5}", Part[..^5], Cut),
            ("chunked, cut before the final boundary", "Transfer-Encoding: chunked", Chunked(Part), Cut),
            // RFC 9112 §6.3: Transfer-Encoding wins, and the connection closes after the answer.
            ("Transfer-Encoding and a smaller Content-Length", "Content-Length: 3\r\nTransfer-Encoding: chunked", Chunked(Whole), "Upload payload does not have a file"),
            ("Content-Length and Transfer-Encoding, cut", $"Transfer-Encoding: chunked\r\nContent-Length: {Whole.Length}", Chunked(Part), Cut),
        };
        foreach (var (label, headers, body, detail) in cases)
        {
            var answer = await RawHttpAsync(host.Port,
                $"POST /legacy/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {Infrastructure.BuilderInstance.AdminToken}\r\n" +
                $"Content-Type: multipart/form-data; boundary=b\r\n{headers}\r\n\r\n{body}");
            Assert.True(answer.StartsWith("HTTP/1.1 400 ", StringComparison.Ordinal), $"{label}: {answer}");
            Assert.True(answer.Contains($"\"detail\":\"{detail}", StringComparison.Ordinal), $"{label}: {answer}");
        }

        Assert.Empty(host.Factory.Logs.Failures);
    }

    /// <summary>Sends <paramref name="request"/> as it is (HttpClient would not send these) and reads the answer until its last chunk.</summary>
    private static async Task<string> RawHttpAsync(int port, string request)
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var answer = new StringBuilder();
        var buffer = new byte[8192];
        int read;
        while (!answer.ToString().EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal) && (read = await stream.ReadAsync(buffer, deadline.Token)) > 0)
        {
            answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return answer.ToString();
    }
}
