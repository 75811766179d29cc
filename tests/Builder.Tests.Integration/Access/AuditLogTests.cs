using System.Globalization;
using System.Net;
using System.Text.Json;
using Builder.Access;
using Builder.Core.Access;
using Builder.Tests.Integration.Infrastructure;
using Npgsql;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// The audit log: who did what, with what outcome, to which project, from where and with which client; the admin API
/// that reads it (filters, pages); and that neither a route nor the application's own database connection can change it.
/// </summary>
public sealed class AuditLogTests : IDisposable
{
    private const string Repository = "acme/audit";
    private const string WebhookSecret = "audit-webhook-secret-0123456789";
    private const string Attacker = "203.0.113.50";

    private readonly List<AccessHost> _hosts = [];

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.Dispose();
        }
    }

    private AccessHost Start(bool kestrel = true, string? postgres = null)
    {
        var host = new AccessHost(kestrel, new()
        {
            ["Builder:Access:KnownProxies:0"] = "127.0.0.1",
            ["Builder:Access:FailedAuthLimit"] = "5",
            ["Builder:Access:FailedAuthWindowSeconds"] = "3600",
        }, postgres);
        _hosts.Add(host);
        return host;
    }

    /// <summary>What <see cref="RecordEverythingAsync"/> did, to find its events.</summary>
    private sealed record Recorded(long Revoked, long Uploader, long Reader, int Uses);

    /// <summary>Does one of every audited thing through HTTP, from 127.0.0.1 (and the attacker's address behind the proxy).</summary>
    private static async Task<Recorded> RecordEverythingAsync(AccessHost host)
    {
        await host.PublishAsync("acme-audit", "0.9");
        var revoked = await host.CreateTokenAsync(new { name = "short-lived", scopes = new[] { "read" }, projects = new[] { "acme-*" } });
        var uploader = await host.CreateTokenAsync(new { name = "ci-upload", scopes = new[] { "upload" }, projects = new[] { "acme-*" } });
        var reader = await host.CreateTokenAsync(new { name = "ci-read", scopes = new[] { "read" } });

        const int Uses = 20;
        for (var i = 0; i < Uses; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-audit/", revoked.Basic)).Status);
            host.Clock.Advance(TimeSpan.FromSeconds(2)); // so the verified token is also touched, and looked up again
        }

        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(HttpMethod.Delete, $"/api/tokens/{revoked.Id}", AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.GetAsync("/simple/", revoked.Basic)).Status);

        await host.CreatePersonAsync("auditee", "auditee-password", new { role = "reader", projects = new[] { "acme-*" } });
        // The two requests below are one login: the second finds it verified, unless the watcher's tick for the person's
        // creation falls between them and forgets it. Wait for that tick first.
        await host.AccessChangesHeardAsync();
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/", AccessHost.BasicOf("auditee", "auditee-password"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.GetAsync("/simple/acme-audit/", AccessHost.BasicOf("auditee", "auditee-password"))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.GetAsync("/simple/", AccessHost.BasicOf("auditee", "not-the-password"))).Status);

        Assert.Equal(HttpStatusCode.OK, (await host.UploadAsync(host.WheelFile("acme-audit", "1.0"), "acme-audit", "1.0", uploader.Basic)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.UploadAsync(host.WheelFile("other-audit", "1.0"), "other-audit", "1.0", uploader.Basic)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.UploadAsync(host.WheelFile("acme-audit", "1.1"), "acme-audit", "1.1", reader.Basic)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.PostJsonAsync("/api/projects/acme-audit/releases/1.0/yank", new { reason = "broken" }, AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.SendAsync(HttpMethod.Delete, "/api/projects/acme-audit/files/acme_audit-0.9-py3-none-any.whl", AccessHost.Admin)).Status);

        var repository = await host.RegisterRepositoryAsync(Repository, WebhookSecret);
        Assert.Equal(HttpStatusCode.OK, (await host.PatchJsonAsync($"/api/repositories/{repository}", new { relayProjects = new[] { "acme-*" } }, AccessHost.Admin)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.SendWebhookAsync(Repository, "v1.0", "a-forged-webhook-secret-000000")).Status);

        // Guessing from behind the proxy: the fifth failure reaches the limit.
        for (var i = 0; i < 5; i++)
        {
            var guess = await host.SendAsync(HttpMethod.Get, "/simple/", AccessHost.BasicOf("auditee", "guess-" + i), configure: r => r.Headers.Add("X-Forwarded-For", Attacker));
            Assert.Equal(HttpStatusCode.Unauthorized, guess.Status);
        }

        return new Recorded(revoked.Id, uploader.Id, reader.Id, Uses);
    }

    [Fact]
    public async Task Every_audited_action_is_recorded_with_principal_outcome_project_address_and_user_agent()
    {
        var host = Start();
        var recorded = await RecordEverythingAsync(host);
        var events = await host.AuditAsync();

        // (action, principal, outcome, project, target, address, how many)
        var expected = new (string Action, string Principal, string Outcome, string? Project, string? Target, string Address, int Count)[]
        {
            ("token:created", "admin-token", "ok", null, $"token:{recorded.Revoked}", "127.0.0.1", 1),
            ("token:first_used", $"token:{recorded.Revoked}", "ok", null, $"token:{recorded.Revoked}", "127.0.0.1", 1),
            ("token:revoked", "admin-token", "ok", null, $"token:{recorded.Revoked}", "127.0.0.1", 1),
            ("token:refused", $"token:{recorded.Revoked}", "refused", null, null, "127.0.0.1", 1),
            ("person:created", "admin-token", "ok", null, "person:auditee", "127.0.0.1", 1),
            ("person:login", "person:auditee", "ok", null, null, "127.0.0.1", 1),
            ("person:login_failed", "person:auditee", "refused", null, null, "127.0.0.1", 1),
            ("person:login_failed", "person:auditee", "refused", null, null, Attacker, 5),
            ("file:uploaded", $"token:{recorded.Uploader}", "ok", "acme-audit", "file:acme_audit-1.0-py3-none-any.whl", "127.0.0.1", 1),
            ("file:upload_refused", $"token:{recorded.Uploader}", "refused", "other-audit", "file:other_audit-1.0-py3-none-any.whl", "127.0.0.1", 1),
            ("file:upload_refused", $"token:{recorded.Reader}", "refused", null, null, "127.0.0.1", 1),
            ("release:yanked", "admin-token", "ok", "acme-audit", "release:1.0", "127.0.0.1", 1),
            ("file:deleted", "admin-token", "ok", "acme-audit", "file:acme_audit-0.9-py3-none-any.whl", "127.0.0.1", 1),
            ("repository:registered", "admin-token", "ok", null, $"repository:{Repository}", "127.0.0.1", 1),
            ("repository:changed", "admin-token", "ok", null, $"repository:{Repository}", "127.0.0.1", 1),
            ("webhook:refused", "webhook", "refused", null, $"repository:{Repository}", "127.0.0.1", 1),
            ("auth:rate_limited", "anonymous", "refused", null, null, Attacker, 1),
        };

        var checkedEvents = 0;
        foreach (var (action, principal, outcome, project, target, address, count) in expected)
        {
            var matching = events.Where(e => e.Action == action && e.Principal == principal && e.Address == address && e.Project == project && (target is null || e.Target == target)).ToList();
            Assert.True(matching.Count == count, $"{action} by {principal} from {address} on {project ?? "-"}: {matching.Count} events, expected {count}:\n" + Describe(events));
            foreach (var e in matching)
            {
                Assert.Equal(outcome, e.Outcome);
                Assert.Equal(AccessHost.UserAgent, e.UserAgent);
                if (target is not null)
                {
                    Assert.Equal(target, e.Target);
                }

                Assert.False(string.IsNullOrWhiteSpace(e.Detail), $"{action} has no detail");
                checkedEvents++;
            }
        }

        Assert.Equal(expected.Sum(e => e.Count), checkedEvents);
        // First use once, whatever the number of uses; the three token creations; nothing else unexpected.
        Assert.Single(events, e => e.Action == AuditActions.TokenFirstUsed && e.Principal == $"token:{recorded.Revoked}");
        Assert.Equal(3, events.Count(e => e.Action == AuditActions.TokenCreated));
        Assert.Equal(3, events.Count(e => e.Action == AuditActions.TokenFirstUsed)); // with the uploader's and the reader's first uploads
        Assert.Contains("revoked", events.Single(e => e.Action == "token:refused").Detail, StringComparison.Ordinal);
        Assert.Contains("does not match the webhook secret of 'acme/audit'", events.Single(e => e.Action == "webhook:refused").Detail, StringComparison.Ordinal);
        Assert.Contains("5 failed authentications within 3600 s", events.Single(e => e.Action == "auth:rate_limited").Detail, StringComparison.Ordinal);
    }

    private static string Describe(IEnumerable<AuditEvent> events) =>
        string.Join('\n', events.Select(e => $"  {e.Id} {e.Action} {e.Principal} {e.Outcome} {e.Project} {e.Target} {e.Address} {e.UserAgent}"));

    /// <summary>GET /api/audit, following the next links; fails the test unless each page is 200.</summary>
    private static async Task<(List<long> Ids, int Pages)> ReadAuditAsync(AccessHost host, string query)
    {
        var ids = new List<long>();
        var pages = 0;
        string? next = "/api/audit?" + query;
        while (next is not null)
        {
            var answer = await host.GetAsync(next, AccessHost.Admin);
            Assert.True(answer.Status == HttpStatusCode.OK, $"{next}: {answer}");
            var page = answer.Json;
            ids.AddRange(page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
            next = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
            pages++;
            Assert.True(pages < 100, "the next links do not end");
        }

        return (ids, pages);
    }

    private static string At(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));

    [Fact]
    public async Task The_audit_api_filters_by_principal_project_action_and_time_and_pages_through_the_results()
    {
        var host = Start();
        var recorded = await RecordEverythingAsync(host);
        var events = await host.AuditAsync();
        List<long> Expect(Func<AuditEvent, bool> filter) => [.. events.Where(filter).OrderByDescending(e => e.Id).Select(e => e.Id)];

        var middle = events[events.Count / 3].At;
        var late = events[2 * events.Count / 3].At;
        var filters = new (string Query, List<long> Expected)[]
        {
            ("limit=1000", Expect(_ => true)),
            ($"principal=token:{recorded.Revoked}", Expect(e => e.Principal == $"token:{recorded.Revoked}")),
            ("principal=admin-token", Expect(e => e.Principal == "admin-token")),
            ("principal=person:auditee", Expect(e => e.Principal == "person:auditee")),
            ("project=acme-audit", Expect(e => e.Project == "acme-audit")),
            ("project=Acme_Audit", Expect(e => e.Project == "acme-audit")),
            ("action=token:created", Expect(e => e.Action == "token:created")),
            ("action=token:", Expect(e => e.Action.StartsWith("token:", StringComparison.Ordinal))),
            ("action=token", []),
            ("action=file:upload_refused&principal=" + Uri.EscapeDataString($"token:{recorded.Uploader}"), Expect(e => e.Action == "file:upload_refused" && e.Principal == $"token:{recorded.Uploader}")),
            ($"since={At(middle)}", Expect(e => e.At >= middle)),
            ($"until={At(middle)}", Expect(e => e.At <= middle)),
            ($"since={At(middle)}&until={At(late)}", Expect(e => e.At >= middle && e.At <= late)),
            ($"since={At(middle)}&action=person:", Expect(e => e.At >= middle && e.Action.StartsWith("person:", StringComparison.Ordinal))),
        };

        foreach (var (query, expected) in filters)
        {
            var (ids, _) = await ReadAuditAsync(host, query);
            Assert.True(expected.SequenceEqual(ids), $"{query}: got [{string.Join(' ', ids)}], expected [{string.Join(' ', expected)}]");
        }

        // Known counts, so the filters above are not all empty.
        Assert.Equal(3, filters[6].Expected.Count);
        Assert.Equal(3, filters[4].Expected.Count);
        Assert.True(filters[7].Expected.Count >= 7, $"{filters[7].Expected.Count} token events");
        Assert.True(filters[10].Expected.Count > 0 && filters[10].Expected.Count < events.Count);
        Assert.True(events.Count >= 25, $"{events.Count} events");

        // Pages: newest first, limit per page, the next link until the end, every event once.
        var (all, pages) = await ReadAuditAsync(host, "limit=4");
        Assert.Equal(Expect(_ => true), all);
        Assert.Equal((events.Count + 3) / 4, pages);
        var (tokens, tokenPages) = await ReadAuditAsync(host, "action=token:&limit=2");
        Assert.Equal(filters[7].Expected, tokens);
        Assert.Equal((tokens.Count + 1) / 2, tokenPages);
        var first = (await host.GetAsync("/api/audit?limit=4", AccessHost.Admin)).Json;
        Assert.Equal(4, first.GetProperty("events").GetArrayLength());
        Assert.Contains("before=", first.GetProperty("next").GetString(), StringComparison.Ordinal);
        Assert.Contains("limit=4", first.GetProperty("next").GetString(), StringComparison.Ordinal);

        foreach (var bad in new[] { "limit=0", "limit=1001", "since=yesterday", "before=x" })
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await host.GetAsync("/api/audit?" + bad, AccessHost.Admin)).Status);
        }
    }

    [Fact]
    public async Task No_route_changes_or_removes_an_audit_event()
    {
        var host = Start(kestrel: false);
        await host.CreateTokenAsync(new { name = "something", scopes = new[] { "read" } });
        await host.CreatePersonAsync("someone", "someone-password");
        var before = await host.AuditAsync();
        var snapshot = JsonSerializer.Serialize(before);
        var id = before[0].Id;

        var attempts = new List<(string Method, string Path, HttpStatusCode Status)>();
        foreach (var method in new[] { "PUT", "PATCH", "DELETE", "POST" })
        {
            foreach (var path in new[] { "/api/audit", "/api/audit/", "/api/audit?action=token:created" })
            {
                attempts.Add((method, path, (await host.SendAsync(new HttpMethod(method), path, AccessHost.Admin, new StringContent("{\"action\":\"x\"}", System.Text.Encoding.UTF8, "application/json"))).Status));
            }
        }

        foreach (var method in new[] { "GET", "PUT", "PATCH", "DELETE", "POST" })
        {
            foreach (var path in new[] { $"/api/audit/{id}", $"/api/audit/{id}/delete", "/api/audit/all" })
            {
                attempts.Add((method, path, (await host.SendAsync(new HttpMethod(method), path, AccessHost.Admin, method == "GET" ? null : new StringContent("{}", System.Text.Encoding.UTF8, "application/json"))).Status));
            }
        }

        Assert.Equal(27, attempts.Count);
        Assert.All(attempts.Take(12), a => Assert.True(a.Status == HttpStatusCode.MethodNotAllowed, $"{a.Method} {a.Path}: {(int)a.Status}"));
        Assert.All(attempts.Skip(12), a => Assert.True(a.Status == HttpStatusCode.NotFound, $"{a.Method} {a.Path}: {(int)a.Status}"));
        var after = await host.AuditAsync();
        Assert.Equal(before.Count, after.Count);
        Assert.Equal(snapshot, JsonSerializer.Serialize(after));
    }

    [Fact]
    public async Task The_embedded_database_refuses_to_update_or_delete_audit_rows()
    {
        var host = Start(kestrel: false);
        await host.CreateTokenAsync(new { name = "something", scopes = new[] { "read" } });
        var before = JsonSerializer.Serialize(await host.AuditAsync());

        var refusals = new List<string>();
        await using (var connection = host.OpenSqlite())
        {
            foreach (var sql in new[]
            {
                "UPDATE builder_audit SET Outcome = 'ok', Detail = 'rewritten'",
                "UPDATE builder_audit SET Principal = 'nobody' WHERE Id = (SELECT MIN(Id) FROM builder_audit)",
                "DELETE FROM builder_audit",
                "DELETE FROM builder_audit WHERE Id = (SELECT MAX(Id) FROM builder_audit)",
            })
            {
                await using var command = connection.CreateCommand();
                command.CommandText = sql;
                var refused = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => command.ExecuteNonQueryAsync());
                refusals.Add(refused.Message);
            }
        }

        Assert.Equal(4, refusals.Count);
        Assert.Contains("builder_audit is append-only: UPDATE is not allowed", refusals[0], StringComparison.Ordinal);
        Assert.Contains("builder_audit is append-only: UPDATE is not allowed", refusals[1], StringComparison.Ordinal);
        Assert.Contains("builder_audit is append-only: DELETE is not allowed", refusals[2], StringComparison.Ordinal);
        Assert.Contains("builder_audit is append-only: DELETE is not allowed", refusals[3], StringComparison.Ordinal);
        Assert.Equal(before, JsonSerializer.Serialize(await host.AuditAsync()));

        // Append-only, not read-only: the app still records.
        var count = (await host.AuditAsync()).Count;
        await host.CreateTokenAsync(new { name = "another", scopes = new[] { "read" } });
        Assert.Equal(count + 1, (await host.AuditAsync()).Count);
    }

    [Fact]
    public async Task PostgreSQL_refuses_to_update_delete_or_truncate_audit_rows()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var host = Start(kestrel: false, postgres: database.ConnectionString);
        await host.CreateTokenAsync(new { name = "something", scopes = new[] { "read" } });
        await host.CreatePersonAsync("someone", "someone-password");
        var before = JsonSerializer.Serialize(await host.AuditAsync());
        var count = await database.ScalarAsync("SELECT COUNT(*) FROM builder_audit");
        Assert.Equal(2, count);

        var refusals = new List<string>();
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            foreach (var sql in new[]
            {
                "UPDATE builder_audit SET \"Outcome\" = 'ok', \"Detail\" = 'rewritten'",
                "DELETE FROM builder_audit",
                "DELETE FROM builder_audit WHERE \"Id\" = (SELECT MAX(\"Id\") FROM builder_audit)",
                "TRUNCATE builder_audit",
            })
            {
                await using var command = new NpgsqlCommand(sql, connection);
                var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
                refusals.Add(refused.MessageText);
            }
        }

        Assert.Equal(
            [
                "builder_audit is append-only: UPDATE is not allowed",
                "builder_audit is append-only: DELETE is not allowed",
                "builder_audit is append-only: DELETE is not allowed",
                "builder_audit is append-only: TRUNCATE is not allowed",
            ],
            refusals);
        Assert.Equal(count, await database.ScalarAsync("SELECT COUNT(*) FROM builder_audit"));
        Assert.Equal(before, JsonSerializer.Serialize(await host.AuditAsync()));

        await host.CreateTokenAsync(new { name = "another", scopes = new[] { "read" } });
        Assert.Equal(count + 1, await database.ScalarAsync("SELECT COUNT(*) FROM builder_audit"));
        host.Dispose();
        _hosts.Remove(host);
    }
}
