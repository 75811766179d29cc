using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// Access control through the real app: hidden projects and versions answered like ones that do not exist, the
/// tokens API (secrets shown once, hashed at rest, validated, revoked, expired, bound to addresses and to their owner).
/// </summary>
public sealed class AccessHostTests : IDisposable
{
    private const string PipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
    private const string SimpleJson = "application/vnd.pypi.simple.v1+json";

    private AccessHost? _host;

    public void Dispose() => _host?.Dispose();

    private AccessHost Start(bool kestrel = false)
    {
        _host = new AccessHost(kestrel);
        return _host;
    }

    private static object Read(params string[] projects) => new { name = "reader-" + Guid.NewGuid().ToString("N")[..8], scopes = new[] { "read" }, projects };

    /// <summary>The answer with the project's spellings replaced by placeholders, so a hidden and a missing project compare equal.</summary>
    private static string Mask(string? text, string project) =>
        (text ?? string.Empty).Replace(project, "{project}", StringComparison.Ordinal).Replace(project.Replace('-', '_'), "{project_}", StringComparison.Ordinal);

    private static string[] HeaderNames(Answer answer) =>
        [.. answer.Headers.Select(h => h.Key).Concat(answer.ContentHeaders.Select(h => h.Key)).Where(k => k != "Date").Order(StringComparer.OrdinalIgnoreCase)];

    /// <summary>Problem bodies differ by traceId: compare their member names; other bodies compare whole.</summary>
    private static string BodyShape(Answer answer, string project) =>
        answer.ContentHeaders.ContentType?.MediaType == "application/problem+json"
            ? string.Join(',', answer.Json.EnumerateObject().Select(p => p.Name))
            : Mask(answer.Body, project);

    [Fact]
    public async Task A_hidden_project_answers_every_route_that_names_it_exactly_like_a_project_that_does_not_exist()
    {
        const string Hidden = "secret-proj";
        const string Missing = "no-such-proj";
        var host = Start();
        await host.PublishAsync(Hidden, "1.0", sdist: true);
        await host.PublishAsync("acme-app", "1.0");
        await host.RegisterRepositoryAsync("acme/builds", "hidden-webhook-secret-0123456789");
        var hiddenBuild = await host.CreateBuildAsync("acme/builds", "hidden-webhook-secret-0123456789", "v1", Hidden, "1.0");
        var visibleBuild = await host.CreateBuildAsync("acme/builds", "hidden-webhook-secret-0123456789", "v2", "acme-app", "1.0");
        var reader = (await host.CreateTokenAsync(Read("acme-*"))).Basic;
        var uploader = (await host.CreateTokenAsync(new { name = "uploader", scopes = new[] { "upload" }, projects = new[] { "acme-*" } })).Basic;

        // Each probe names a project; it is sent for the hidden one and for one that does not exist.
        var probes = new (string Label, Func<string, Task<Answer>> Send)[]
        {
            ("simple page, html", p => host.GetAsync($"/simple/{p}/", reader)),
            ("simple page, json", p => host.GetAsync($"/simple/{p}/", reader, PipAccept)),
            ("simple page, head", p => host.SendAsync(HttpMethod.Head, $"/simple/{p}/", reader)),
            ("simple page without its slash", p => host.GetAsync($"/simple/{p}", reader)),
            ("simple page, other spelling", p => host.GetAsync($"/simple/{p.ToUpperInvariant().Replace('-', '_')}/", reader)),
            ("wheel", p => host.GetAsync($"/files/{p}/{p.Replace('-', '_')}-1.0-py3-none-any.whl", reader)),
            ("wheel, head", p => host.SendAsync(HttpMethod.Head, $"/files/{p}/{p.Replace('-', '_')}-1.0-py3-none-any.whl", reader)),
            ("wheel metadata", p => host.GetAsync($"/files/{p}/{p.Replace('-', '_')}-1.0-py3-none-any.whl.metadata", reader)),
            ("sdist", p => host.GetAsync($"/files/{p}/{p.Replace('-', '_')}-1.0.tar.gz", reader)),
            ("json api", p => host.GetAsync($"/pypi/{p}/json", reader)),
            ("json api, release", p => host.GetAsync($"/pypi/{p}/1.0/json", reader)),
            ("json api, other release", p => host.GetAsync($"/pypi/{p}/9.9/json", reader)),
            ("json api, other spelling", p => host.GetAsync($"/pypi/{p.ToUpperInvariant()}/json", reader)),
            ("upload with a read token", p => host.UploadAsync(host.WheelFile(p, "2.0"), p, "2.0", reader)),
            ("upload with an upload token for acme-*", p => host.UploadAsync(host.WheelFile(p, "2.0"), p, "2.0", uploader)),
        };

        var compared = 0;
        foreach (var (label, send) in probes)
        {
            var hidden = await send(Hidden);
            var missing = await send(Missing);
            Assert.True(hidden.Code == missing.Code, $"{label}: {hidden} for the hidden project, {missing} for a missing one");
            Assert.True(hidden.Code is 301 or 401 or 403 or 404, $"{label}: {hidden}");
            Assert.Equal(Mask(missing.Detail, Missing), Mask(hidden.Detail, Hidden));
            Assert.Equal(Mask(missing.ReasonPhrase, Missing), Mask(hidden.ReasonPhrase, Hidden));
            Assert.Equal(Mask(missing.Headers.Location?.OriginalString, Missing), Mask(hidden.Headers.Location?.OriginalString, Hidden));
            Assert.Equal(missing.ContentHeaders.ContentType?.ToString(), hidden.ContentHeaders.ContentType?.ToString());
            Assert.Equal(HeaderNames(missing), HeaderNames(hidden));
            Assert.Equal(BodyShape(missing, Missing), BodyShape(hidden, Hidden));
            compared++;
        }

        Assert.Equal(15, compared);

        // Builds of the hidden project: like a build id that does not exist.
        var hiddenBuildAnswer = await host.GetAsync($"/api/builds/{hiddenBuild}", reader);
        var missingBuildAnswer = await host.GetAsync("/api/builds/987654321", reader);
        var hiddenLog = await host.GetAsync($"/api/builds/{hiddenBuild}/log?follow=false", reader);
        Assert.Equal(HttpStatusCode.NotFound, hiddenBuildAnswer.Status);
        Assert.Equal(HttpStatusCode.NotFound, hiddenLog.Status);
        Assert.Equal(missingBuildAnswer.Detail!.Replace("987654321", "{id}", StringComparison.Ordinal), hiddenBuildAnswer.Detail!.Replace(hiddenBuild.ToString(CultureInfo.InvariantCulture), "{id}", StringComparison.Ordinal));
        Assert.Equal(hiddenBuildAnswer.Detail, hiddenLog.Detail);

        // The project exists: an admin sees it on the same routes (so the answers above are a refusal, not an accident).
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync($"/simple/{Hidden}/", AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync($"/files/{Hidden}/secret_proj-1.0-py3-none-any.whl.metadata", AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync($"/pypi/{Hidden}/json", AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync($"/api/builds/{hiddenBuild}", AccessHost.Admin)).Status);

        // Listings leave it out, and nothing the token can read mentions it.
        var html = await host.GetAsync("/simple/", reader);
        var json = await host.GetAsync("/simple/", reader, SimpleJson);
        Assert.Contains("acme-app", html.Body, StringComparison.Ordinal);
        Assert.Equal(["acme-app"], json.Json.GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        var unrelated = new[]
        {
            html,
            json,
            await host.GetAsync("/simple/acme-app/", reader),
            await host.GetAsync("/simple/acme-app/", reader, SimpleJson),
            await host.GetAsync("/pypi/acme-app/json", reader),
            await host.GetAsync($"/api/builds/{visibleBuild}", reader),
            await host.GetAsync("/api/whoami", reader),
            await host.GetAsync("/api/tokens", reader),
            await host.GetAsync("/api/audit", reader),
        };
        Assert.All(unrelated, a => Assert.True(a.Code is 200 or 403, a.ToString()));
        Assert.All(unrelated, a => Assert.DoesNotContain("secret", a.Body + a.ReasonPhrase, StringComparison.OrdinalIgnoreCase));
        Assert.Contains("secret-proj", (await host.GetAsync("/simple/", AccessHost.Admin)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_read_token_limited_to_versions_sees_only_those_versions_on_every_route()
    {
        var host = Start();
        string[] all = ["1.0", "1.5", "2.0", "2.1", "3.0"];
        foreach (var version in all)
        {
            await host.PublishAsync("acme-sdk", version, sdist: version == "1.0");
        }

        var token = (await host.CreateTokenAsync(new { name = "customer", scopes = new[] { "read" }, projects = new[] { "acme-sdk" }, versions = ">=2,<3" })).Basic;
        string[] visible = ["acme_sdk-2.0-py3-none-any.whl", "acme_sdk-2.1-py3-none-any.whl"];

        // The simple page, HTML and JSON.
        var html = await host.GetAsync("/simple/acme-sdk/", token);
        Assert.Equal(HttpStatusCode.OK, html.Status);
        Assert.Equal(2, html.Body.Split("<a href=").Length - 1);
        Assert.All(visible, f => Assert.Contains(f, html.Body, StringComparison.Ordinal));
        Assert.DoesNotContain("acme_sdk-1.", html.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("acme_sdk-3.", html.Body, StringComparison.Ordinal);
        var page = (await host.GetAsync("/simple/acme-sdk/", token, SimpleJson)).Json;
        Assert.Equal(["2.0", "2.1"], page.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(visible, page.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("filename").GetString()));

        // The JSON API: releases, the latest visible release, and releases outside the limit as missing ones.
        var project = await host.GetAsync("/pypi/acme-sdk/json", token);
        Assert.Equal(HttpStatusCode.OK, project.Status);
        Assert.Equal(["2.0", "2.1"], project.Json.GetProperty("releases").EnumerateObject().Select(r => r.Name));
        Assert.Equal("2.1", project.Json.GetProperty("info").GetProperty("version").GetString());
        Assert.Equal(["acme_sdk-2.1-py3-none-any.whl"], project.Json.GetProperty("urls").EnumerateArray().Select(u => u.GetProperty("filename").GetString()));
        Assert.DoesNotContain("acme_sdk-1.", project.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("acme_sdk-3.", project.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/pypi/acme-sdk/2.0/json", token)).Status);
        var never = await host.GetAsync("/pypi/acme-sdk/9.9/json", token);
        foreach (var outside in new[] { "1.0", "1.5", "3.0" })
        {
            var release = await host.GetAsync($"/pypi/acme-sdk/{outside}/json", token);
            Assert.Equal(HttpStatusCode.NotFound, release.Status);
            Assert.Equal(never.Detail!.Replace("9.9", outside, StringComparison.Ordinal), release.Detail);
        }

        // Files and metadata outside the limit are 404 like files that do not exist; inside, 200.
        var noFile = await host.GetAsync("/files/acme-sdk/acme_sdk-8.8-py3-none-any.whl", token);
        string[] hiddenFiles =
        [
            "acme_sdk-1.0-py3-none-any.whl", "acme_sdk-1.0-py3-none-any.whl.metadata", "acme_sdk-1.0.tar.gz",
            "acme_sdk-1.5-py3-none-any.whl", "acme_sdk-3.0-py3-none-any.whl", "acme_sdk-3.0-py3-none-any.whl.metadata",
        ];
        foreach (var file in hiddenFiles)
        {
            var answer = await host.GetAsync($"/files/acme-sdk/{file}", token);
            Assert.Equal(HttpStatusCode.NotFound, answer.Status);
            Assert.Equal(noFile.Detail!.Replace("acme_sdk-8.8-py3-none-any.whl", file, StringComparison.Ordinal), answer.Detail);
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync($"/files/acme-sdk/{file}", AccessHost.Admin)).Status);
        }

        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/files/acme-sdk/acme_sdk-2.0-py3-none-any.whl", token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/files/acme-sdk/acme_sdk-2.1-py3-none-any.whl.metadata", token)).Status);

        // An admin sees all five releases; the customer's list has the project.
        Assert.Equal(all, (await host.GetAsync("/simple/acme-sdk/", AccessHost.Admin, SimpleJson)).Json.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Contains("acme-sdk", (await host.GetAsync("/simple/", token)).Body, StringComparison.Ordinal);

        // A token whose versions match none of the project's: the project is missing everywhere.
        var none = (await host.CreateTokenAsync(new { name = "future", scopes = new[] { "read" }, projects = new[] { "acme-*" }, versions = ">=9" })).Basic;
        var noneHtml = await host.GetAsync("/simple/", none);
        var noneJson = await host.GetAsync("/simple/", none, SimpleJson);
        Assert.Equal(HttpStatusCode.OK, noneHtml.Status);
        Assert.DoesNotContain("acme-sdk", noneHtml.Body, StringComparison.Ordinal);
        Assert.Empty(noneJson.Json.GetProperty("projects").EnumerateArray());
        var hiddenPage = await host.GetAsync("/simple/acme-sdk/", none);
        var missingPage = await host.GetAsync("/simple/acme-nope/", none);
        Assert.Equal(HttpStatusCode.NotFound, hiddenPage.Status);
        Assert.Equal(missingPage.Detail!.Replace("acme-nope", "acme-sdk", StringComparison.Ordinal), hiddenPage.Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync("/pypi/acme-sdk/json", none)).Status);
    }

    [Fact]
    public async Task A_created_token_shows_its_secret_once_and_only_its_hash_is_stored()
    {
        var host = Start();
        await host.PublishAsync("acme-app", "1.0");

        var created = await host.PostJsonAsync("/api/tokens", new { name = "ci-reader", scopes = new[] { "read" }, projects = new[] { "acme-*" }, description = "CI" }, AccessHost.Admin);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        var json = created.Json;
        var id = json.GetProperty("id").GetInt64();
        var secret = json.GetProperty("token").GetString()!;
        Assert.Matches("^bld_[0-9A-Za-z]{55}$", secret);
        Assert.Equal($"/api/tokens/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal("ci-reader", json.GetProperty("name").GetString());
        Assert.Equal(["read"], json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(["acme-*"], json.GetProperty("projects").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("active", json.GetProperty("state").GetString());
        Assert.Equal("admin-token", json.GetProperty("createdBy").GetString());
        Assert.Equal(secret[..8] + "…", json.GetProperty("hint").GetString());
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", AccessHost.BasicOf("__token__", secret))).Status);

        // Never again through the API...
        var listed = await host.GetAsync("/api/tokens", AccessHost.Admin);
        var one = await host.GetAsync($"/api/tokens/{id}", AccessHost.Admin);
        foreach (var answer in new[] { listed, one })
        {
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            Assert.DoesNotContain(secret[4..], answer.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("\"token\"", answer.Body, StringComparison.Ordinal);
        }

        Assert.Equal(id, Assert.Single(listed.Json.EnumerateArray()).GetProperty("id").GetInt64());
        Assert.Equal("ci-reader", one.Json.GetProperty("name").GetString());

        // ...and at rest only its SHA-256: no column of the row, and no byte of the database, holds the secret.
        await using (var connection = host.OpenSqlite())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT * FROM builder_tokens WHERE Id = $id";
            command.Parameters.AddWithValue("$id", id);
            await using var row = await command.ExecuteReaderAsync();
            Assert.True(await row.ReadAsync());
            var columns = 0;
            for (var i = 0; i < row.FieldCount; i++)
            {
                var value = Convert.ToString(row.GetValue(i), CultureInfo.InvariantCulture) ?? string.Empty;
                Assert.DoesNotContain(secret[8..], value, StringComparison.Ordinal);
                columns++;
            }

            Assert.True(columns > 10, $"only {columns} columns");
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(secret))), row.GetString(row.GetOrdinal("SecretHash")));
        }

        var bytes = host.DatabaseBytes();
        Assert.True(bytes.Length > 0);
        Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(secret[8..])));
    }

    [Fact]
    public async Task Invalid_token_requests_are_400_naming_the_field_and_create_nothing()
    {
        var host = Start();
        var before = await host.WithDbAsync(db => db.Tokens.CountAsync());
        var read = new[] { "read" };
        var cases = new (string Label, object Body, string Field)[]
        {
            ("missing name", new { scopes = read }, "'name'"),
            ("blank name", new { name = "  ", scopes = read }, "'name'"),
            ("no scopes", new { name = "x", scopes = Array.Empty<string>() }, "'scopes'"),
            ("unknown scope", new { name = "x", scopes = new[] { "wizard" } }, "scopes"),
            ("versions on an upload token", new { name = "x", scopes = new[] { "upload" }, versions = ">=2" }, "'versions'"),
            ("unreadable versions", new { name = "x", scopes = read, versions = "two or more" }, "'versions'"),
            ("admin limited to projects", new { name = "x", scopes = new[] { "admin" }, projects = new[] { "acme-*" } }, "'projects'"),
            ("path in a glob", new { name = "x", scopes = read, projects = new[] { "../x" } }, "'projects'"),
            ("bad CIDR", new { name = "x", scopes = read, ipRanges = new[] { "10.0.0.0/33" } }, "'ipRanges'"),
            ("not an address", new { name = "x", scopes = read, ipRanges = new[] { "intranet" } }, "'ipRanges'"),
            ("expiry in the past", new { name = "x", scopes = read, expiresAt = host.Clock.GetUtcNow().AddDays(-1) }, "'expiresAt'"),
        };

        foreach (var (label, body, field) in cases)
        {
            var answer = await host.PostJsonAsync("/api/tokens", body, AccessHost.Admin);
            Assert.True(answer.Status == HttpStatusCode.BadRequest, $"{label}: {answer}");
            Assert.Contains(field, answer.Detail, StringComparison.Ordinal);
        }

        var notJson = await host.SendAsync(HttpMethod.Post, "/api/tokens", AccessHost.Admin, new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.Status);
        Assert.Equal(11, cases.Length);
        Assert.Equal(before, await host.WithDbAsync(db => db.Tokens.CountAsync()));
        Assert.Equal(0, await host.WithDbAsync(db => db.Audit.CountAsync(a => a.Action == "token:created")));
    }

    [Fact]
    public async Task A_revoked_token_is_refused_on_its_next_request_with_the_reason()
    {
        var host = Start();
        await host.PublishAsync("acme-app", "1.0");
        var token = await host.CreateTokenAsync(Read("acme-*"));
        var other = await host.CreateTokenAsync(Read("acme-*"));
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status); // verified and remembered

        var revoked = await host.SendAsync(HttpMethod.Delete, $"/api/tokens/{token.Id}", AccessHost.Admin);
        Assert.Equal(HttpStatusCode.OK, revoked.Status);
        Assert.Equal("revoked", revoked.Json.GetProperty("state").GetString());

        foreach (var credentials in new[] { token.Basic, token.Bearer })
        {
            var refused = await host.GetAsync("/simple/acme-app/", credentials);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
            Assert.Equal("Basic realm=\"Builder\"", refused.Challenge);
            Assert.Contains("revoked", refused.Detail, StringComparison.Ordinal);
            Assert.Contains("revoked", refused.ReasonPhrase, StringComparison.Ordinal);
            Assert.DoesNotContain("acme", refused.Body, StringComparison.Ordinal);
        }

        var shown = (await host.GetAsync($"/api/tokens/{token.Id}", AccessHost.Admin)).Json;
        Assert.Equal("revoked", shown.GetProperty("state").GetString());
        Assert.Equal("admin-token", shown.GetProperty("revokedBy").GetString());
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", other.Basic)).Status);
    }

    [Fact]
    public async Task An_expired_token_is_refused_whether_or_not_it_was_used_before()
    {
        var host = Start();
        await host.PublishAsync("acme-app", "1.0");
        var expiresAt = new DateTimeOffset(host.Clock.GetUtcNow().UtcDateTime.Date.AddDays(1).AddHours(13).AddMinutes(7), TimeSpan.Zero);
        var used = await host.CreateTokenAsync(new { name = "used", scopes = new[] { "read" }, expiresAt });
        var unused = await host.CreateTokenAsync(new { name = "unused", scopes = new[] { "read" }, expiresAt });
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", used.Basic)).Status);

        host.Clock.Advance(expiresAt - host.Clock.GetUtcNow() + TimeSpan.FromSeconds(1));

        foreach (var token in new[] { used, unused })
        {
            var refused = await host.GetAsync("/simple/acme-app/", token.Basic);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
            Assert.Equal("Basic realm=\"Builder\"", refused.Challenge);
            Assert.Equal($"token expired on {expiresAt:yyyy-MM-dd} 13:07 UTC", refused.Detail);
            Assert.Equal(refused.Detail, refused.ReasonPhrase);
        }

        Assert.Equal("expired", (await host.GetAsync($"/api/tokens/{used.Id}", AccessHost.Admin)).Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_token_limited_to_address_ranges_works_only_from_inside_them()
    {
        var host = Start(kestrel: true);
        await host.PublishAsync("acme-app", "1.0");
        var outside = await host.CreateTokenAsync(new { name = "office", scopes = new[] { "read" }, ipRanges = new[] { "10.0.0.0/8", "2001:db8::/32" } });
        var inside = await host.CreateTokenAsync(new { name = "here", scopes = new[] { "read" }, ipRanges = new[] { "10.0.0.0/8", "127.0.0.0/8" } });
        var single = await host.CreateTokenAsync(new { name = "one", scopes = new[] { "read" }, ipRanges = new[] { "127.0.0.1" } });

        var refused = await host.GetAsync("/simple/acme-app/", outside.Basic);

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("this token may not be used from 127.0.0.1", refused.Detail);
        Assert.Equal(refused.Detail, refused.ReasonPhrase);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", inside.Basic)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", single.Basic)).Status);
        Assert.Equal(["127.0.0.1/32"], single.Json.GetProperty("ipRanges").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Tokens_that_are_not_admin_cannot_manage_tokens()
    {
        var host = Start();
        var read = await host.CreateTokenAsync(Read("acme-*"));
        var upload = await host.CreateTokenAsync(new { name = "up", scopes = new[] { "upload" } });
        var before = await host.WithDbAsync(db => db.Tokens.CountAsync());

        foreach (var token in new[] { read, upload })
        {
            var create = await host.PostJsonAsync("/api/tokens", new { name = "escalate", scopes = new[] { "admin" } }, token.Bearer);
            var list = await host.GetAsync("/api/tokens", token.Bearer);
            var revoke = await host.SendAsync(HttpMethod.Delete, $"/api/tokens/{read.Id}", token.Bearer);
            foreach (var answer in new[] { create, list, revoke })
            {
                Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
                Assert.Contains("a non-admin token may not", answer.Detail, StringComparison.Ordinal);
            }
        }

        Assert.Equal(before, await host.WithDbAsync(db => db.Tokens.CountAsync()));
        Assert.Equal("active", (await host.GetAsync($"/api/tokens/{read.Id}", AccessHost.Admin)).Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_person_creates_tokens_for_themselves_within_their_own_rights()
    {
        var host = Start();
        await host.PublishAsync("acme-app", "1.0");
        await host.PublishAsync("other-lib", "1.0");
        await host.CreatePersonAsync("alice", "alice-password-1", new { role = "reader", projects = new[] { "acme-*" } });
        var alice = AccessHost.BasicOf("alice", "alice-password-1");

        // A read token for every project: it still reads only what alice may read.
        var own = await host.CreateTokenAsync(new { name = "alice-laptop", scopes = new[] { "read" } }, alice);
        Assert.Equal("alice", own.Json.GetProperty("owner").GetString());
        Assert.Equal("person:alice", own.Json.GetProperty("createdBy").GetString());
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", own.Basic)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync("/simple/other-lib/", own.Basic)).Status);
        Assert.DoesNotContain("other-lib", (await host.GetAsync("/simple/", own.Basic)).Body, StringComparison.Ordinal);

        var admin = await host.PostJsonAsync("/api/tokens", new { name = "x", scopes = new[] { "admin" } }, alice);
        var upload = await host.PostJsonAsync("/api/tokens", new { name = "x", scopes = new[] { "upload" }, projects = new[] { "acme-*" } }, alice);
        var forSomeoneElse = await host.PostJsonAsync("/api/tokens", new { name = "x", scopes = new[] { "read" }, owner = "bob" }, alice);
        var withHerToken = await host.PostJsonAsync("/api/tokens", new { name = "x", scopes = new[] { "read" } }, own.Bearer);
        Assert.Equal(HttpStatusCode.Forbidden, admin.Status);
        Assert.Contains("scope 'admin'", admin.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, upload.Status);
        Assert.Contains("scope 'upload'", upload.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, forSomeoneElse.Status);
        Assert.Contains("'owner'", forSomeoneElse.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, withHerToken.Status);

        // She sees and revokes her own tokens only.
        var admins = await host.CreateTokenAsync(Read("acme-*"));
        Assert.Equal([own.Id], (await host.GetAsync("/api/tokens", alice)).Json.EnumerateArray().Select(t => t.GetProperty("id").GetInt64()));
        Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync($"/api/tokens/{admins.Id}", alice)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.SendAsync(HttpMethod.Delete, $"/api/tokens/{admins.Id}", alice)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(HttpMethod.Delete, $"/api/tokens/{own.Id}", alice)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.GetAsync("/simple/acme-app/", own.Basic)).Status);
        Assert.Equal(2, await host.WithDbAsync(db => db.Tokens.CountAsync()));
    }

    [Fact]
    public async Task A_persons_tokens_stop_working_when_the_person_is_disabled_and_work_again_when_enabled()
    {
        var host = Start();
        await host.PublishAsync("acme-app", "1.0");
        await host.CreatePersonAsync("bob", "bob-password-12", new { role = "reader", projects = new[] { "acme-*" } });
        var bob = AccessHost.BasicOf("bob", "bob-password-12");
        var token = await host.CreateTokenAsync(new { name = "bob-ci", scopes = new[] { "read" } }, bob);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", bob)).Status);

        Assert.Equal(HttpStatusCode.OK, (await host.PatchJsonAsync("/api/people/bob", new { disabled = true }, AccessHost.Admin)).Status);

        var byToken = await host.GetAsync("/simple/acme-app/", token.Basic);
        var byPassword = await host.GetAsync("/simple/acme-app/", bob);
        Assert.Equal(HttpStatusCode.Unauthorized, byToken.Status);
        Assert.Equal("the token's owner 'bob' is disabled", byToken.Detail);
        Assert.Equal(HttpStatusCode.Unauthorized, byPassword.Status);
        Assert.Equal("this account is disabled", byPassword.Detail);
        Assert.Equal("Basic realm=\"Builder\"", byToken.Challenge);

        Assert.Equal(HttpStatusCode.OK, (await host.PatchJsonAsync("/api/people/bob", new { disabled = false }, AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", bob)).Status);
    }

    [Fact]
    public async Task A_token_made_by_a_persons_token_belongs_to_that_person_and_stops_when_they_are_disabled()
    {
        var host = Start();
        await host.PublishAsync("acme-app", "1.0");
        await host.CreatePersonAsync("dana", "dana-password-12", new { role = "admin" });
        var dana = AccessHost.BasicOf("dana", "dana-password-12");
        var first = await host.CreateTokenAsync(new { name = "dana-admin", scopes = new[] { "admin" } }, dana);
        var second = await host.CreateTokenAsync(new { name = "made-by-a-token", scopes = new[] { "admin" } }, first.Bearer);
        var third = await host.CreateTokenAsync(new { name = "made-by-that-one", scopes = new[] { "read" } }, second.Bearer);
        // The bootstrap admin token acts for no one, and neither do the tokens it makes (unless given an owner).
        var unowned = await host.CreateTokenAsync(new { name = "bootstrap-made", scopes = new[] { "admin" } });
        var fromUnowned = await host.CreateTokenAsync(new { name = "made-by-unowned", scopes = new[] { "read" } }, unowned.Bearer);

        foreach (var token in new[] { first, second, third })
        {
            Assert.Equal("dana", token.Json.GetProperty("owner").GetString());
            Assert.Equal("dana", (await host.GetAsync($"/api/tokens/{token.Id}", AccessHost.Admin)).Json.GetProperty("owner").GetString());
        }

        Assert.Equal($"token:{first.Id}", second.Json.GetProperty("createdBy").GetString());
        Assert.Equal(JsonValueKind.Null, fromUnowned.Json.GetProperty("owner").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/api/people", second.Bearer)).Status);

        Assert.Equal(HttpStatusCode.OK, (await host.PatchJsonAsync("/api/people/dana", new { disabled = true }, AccessHost.Admin)).Status);

        foreach (var (token, path) in new[] { (second, "/api/people"), (third, "/simple/acme-app/") })
        {
            var refused = await host.GetAsync(path, token.Bearer);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
            Assert.Equal("the token's owner 'dana' is disabled", refused.Detail);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.PostJsonAsync("/api/tokens", new { name = "escape", scopes = new[] { "admin" } }, second.Bearer)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", fromUnowned.Bearer)).Status);
    }

    /// <summary>Polls the token's lastUsedAt until it reaches <paramref name="atLeast"/> (last uses are written every few seconds).</summary>
    private static async Task<JsonElement> WaitForLastUseAsync(AccessHost host, long id, DateTimeOffset atLeast)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var shown = (await host.GetAsync($"/api/tokens/{id}", AccessHost.Admin)).Json;
            if (shown.GetProperty("lastUsedAt").GetDateTimeOffset() >= atLeast || DateTime.UtcNow > deadline)
            {
                return shown;
            }

            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task A_tokens_first_use_is_recorded_with_time_and_address()
    {
        var host = Start(kestrel: true);
        await host.PublishAsync("acme-app", "1.0");
        var token = await host.CreateTokenAsync(Read("acme-*"));
        var unused = (await host.GetAsync($"/api/tokens/{token.Id}", AccessHost.Admin)).Json;
        Assert.Equal(JsonValueKind.Null, unused.GetProperty("firstUsedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, unused.GetProperty("lastUsedAt").ValueKind);

        var first = host.Clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);

        var shown = (await host.GetAsync($"/api/tokens/{token.Id}", AccessHost.Admin)).Json;
        Assert.True(shown.GetProperty("firstUsedAt").GetDateTimeOffset() >= first, shown.ToString());
        Assert.Equal(shown.GetProperty("firstUsedAt").GetDateTimeOffset(), shown.GetProperty("lastUsedAt").GetDateTimeOffset());
        Assert.Equal("127.0.0.1", shown.GetProperty("lastUsedFrom").GetString());
    }

    [Fact]
    public async Task A_token_used_again_within_seconds_has_its_last_use_recorded()
    {
        var host = Start(kestrel: true);
        await host.PublishAsync("acme-app", "1.0");
        var token = await host.CreateTokenAsync(Read("acme-*"));
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);
        var first = (await host.GetAsync($"/api/tokens/{token.Id}", AccessHost.Admin)).Json.GetProperty("firstUsedAt").GetDateTimeOffset();

        host.Clock.Advance(TimeSpan.FromSeconds(5));
        var later = host.Clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);

        var shown = await WaitForLastUseAsync(host, token.Id, later);
        Assert.True(shown.GetProperty("lastUsedAt").GetDateTimeOffset() >= later, $"the use at {later:O} was not recorded: {shown}");
        Assert.Equal(first, shown.GetProperty("firstUsedAt").GetDateTimeOffset());
        Assert.Equal("127.0.0.1", shown.GetProperty("lastUsedFrom").GetString());
    }

    [Fact]
    public async Task A_token_used_once_in_a_while_has_each_use_recorded()
    {
        var host = Start(kestrel: true);
        await host.PublishAsync("acme-app", "1.0");
        var token = await host.CreateTokenAsync(Read("acme-*"));
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);

        // A nightly job: one request, ten minutes later another (the verified token is looked up again in between).
        host.Clock.Advance(TimeSpan.FromMinutes(10));
        var later = host.Clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);

        var shown = await WaitForLastUseAsync(host, token.Id, later);
        Assert.True(shown.GetProperty("lastUsedAt").GetDateTimeOffset() >= later, $"the use at {later:O} was not recorded: {shown}");
    }

    [Fact]
    public async Task A_change_of_a_persons_roles_applies_to_their_next_request_and_to_their_tokens()
    {
        var host = Start();
        await host.PublishAsync("acme-app", "1.0");
        await host.PublishAsync("other-lib", "1.0");
        // A password with ':' in it: HTTP Basic splits at the first one, and user names have none.
        await host.CreatePersonAsync("carol", "carol:pass:word", new { role = "reader", projects = new[] { "acme-*" } });
        var carol = AccessHost.BasicOf("carol", "carol:pass:word");
        var token = await host.CreateTokenAsync(new { name = "carol-ci", scopes = new[] { "read" } }, carol);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", carol)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", token.Basic)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.UploadAsync(host.WheelFile("acme-app", "2.0"), "acme-app", "2.0", carol)).Status);

        var changed = await host.PatchJsonAsync("/api/people/carol", new { roles = new object[] { new { role = "publisher", projects = new[] { "other-*" } } } }, AccessHost.Admin);

        Assert.Equal(HttpStatusCode.OK, changed.Status);
        foreach (var credentials in new[] { carol, token.Basic })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync("/simple/acme-app/", credentials)).Status);
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/other-lib/", credentials)).Status);
        }

        Assert.Equal(HttpStatusCode.OK, (await host.UploadAsync(host.WheelFile("other-lib", "2.0"), "other-lib", "2.0", carol)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.UploadAsync(host.WheelFile("acme-app", "2.0"), "acme-app", "2.0", carol)).Status);
        // Her read token does not become an upload token; a new upload token works within her new role only.
        Assert.Equal(HttpStatusCode.Forbidden, (await host.UploadAsync(host.WheelFile("other-lib", "3.0"), "other-lib", "3.0", token.Basic)).Status);
        var uploader = await host.CreateTokenAsync(new { name = "carol-upload", scopes = new[] { "upload" } }, carol);
        Assert.Equal(HttpStatusCode.OK, (await host.UploadAsync(host.WheelFile("other-lib", "3.0"), "other-lib", "3.0", uploader.Basic)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.UploadAsync(host.WheelFile("acme-app", "3.0"), "acme-app", "3.0", uploader.Basic)).Status);
    }

    [Fact]
    public async Task A_changed_password_ends_the_old_one_at_once_although_logins_are_remembered()
    {
        var host = Start();
        await host.PublishAsync("acme-app", "1.0");
        await host.CreatePersonAsync("erin", "erins-first-password", new { role = "reader" });
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", AccessHost.BasicOf("erin", "erins-first-password"))).Status);

        Assert.Equal(HttpStatusCode.OK, (await host.PatchJsonAsync("/api/people/erin", new { password = "erins-second-password" }, AccessHost.Admin)).Status);

        var old = await host.GetAsync("/simple/acme-app/", AccessHost.BasicOf("erin", "erins-first-password"));
        Assert.Equal(HttpStatusCode.Unauthorized, old.Status);
        Assert.Equal("unknown user name or wrong password", old.Detail);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-app/", AccessHost.BasicOf("erin", "erins-second-password"))).Status);
        var changed = await host.AuditAsync();
        Assert.Contains(changed, e => e.Action == "person:changed" && e.Target == "person:erin" && e.Detail == "password");
        Assert.DoesNotContain(changed, e => (e.Detail ?? string.Empty).Contains("erins-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Answers_to_requests_with_credentials_are_not_stored_by_shared_caches()
    {
        // RFC 9111 §3.5: a shared cache (a company proxy, a CDN, nginx's proxy_cache) may store and serve to anyone an
        // answer to a request with Authorization when it says "public". On a private index that would hand one
        // person's pages and files (or an admin's unfiltered page) to the next client asking for the same URL.
        var host = Start();
        var wheel = await host.PublishAsync("acme-app", "1.0");
        var token = await host.CreateTokenAsync(Read("acme-*"));

        var answers = new List<(string Path, Answer Answer)>();
        foreach (var path in new[] { "/simple/", "/simple/acme-app/", $"/files/acme-app/{wheel}", $"/files/acme-app/{wheel}.metadata", "/pypi/acme-app/json" })
        {
            answers.Add((path, await host.GetAsync(path, token.Basic)));
            answers.Add((path, await host.GetAsync(path, AccessHost.Admin)));
        }

        Assert.Equal(10, answers.Count);
        Assert.All(answers, a => Assert.True(a.Answer.Status == HttpStatusCode.OK, $"{a.Path}: {a.Answer}"));
        var shared = answers
            .Where(a => a.Answer.Headers.CacheControl is { } c && (c.Public || (c.MaxAge is not null && !c.Private)))
            .Select(a => $"{a.Path}: Cache-Control: {a.Answer.Headers.CacheControl}")
            .ToList();
        Assert.True(shared.Count == 0, $"{shared.Count} of {answers.Count} answers to requests with credentials may be stored by shared caches:\n" + string.Join('\n', shared));
    }

    [Fact]
    public async Task Uploads_need_the_upload_scope_for_that_project_and_a_refusal_says_why_in_the_reason_phrase()
    {
        var host = Start();
        var upload = await host.CreateTokenAsync(new { name = "ci", scopes = new[] { "upload" }, projects = new[] { "acme-*" } });
        var read = await host.CreateTokenAsync(Read("acme-*"));

        var elsewhere = await host.UploadAsync(host.WheelFile("other-proj", "1.0"), "other-proj", "1.0", upload.Basic);
        var readOnly = await host.UploadAsync(host.WheelFile("acme-new", "1.0"), "acme-new", "1.0", read.Basic);
        var allowed = await host.UploadAsync(host.WheelFile("acme-new", "1.0"), "acme-new", "1.0", upload.Basic);

        Assert.Equal(HttpStatusCode.Forbidden, elsewhere.Status);
        Assert.Equal($"this token (token:{upload.Id}) may not upload to project 'other-proj'", elsewhere.Detail);
        Assert.Equal(elsewhere.Detail, elsewhere.ReasonPhrase);
        Assert.Equal(HttpStatusCode.Forbidden, readOnly.Status);
        Assert.StartsWith($"this token (token:{read.Id}) may not upload", readOnly.ReasonPhrase, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync("/simple/other-proj/", AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-new/", AccessHost.Admin)).Status);
        // An upload-only token reads nothing: it is for publishing.
        Assert.Equal(HttpStatusCode.NotFound, (await host.GetAsync("/simple/acme-new/", upload.Basic)).Status);
    }
}
