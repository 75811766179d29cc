using System.Net;
using System.Text;
using System.Text.Json;
using Builder.Core.Builds;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// A repository's secrets: clone credentials are write-only, webhook secrets are shown once; both are encrypted at
/// rest (Data Protection) and nowhere in an answer, the audit log or the database file; old plain-text rows are
/// migrated at start.
/// </summary>
public sealed class RepositorySecretsTests : IDisposable
{
    private const string Name = "acme/billing";

    private readonly List<AccessHost> _hosts = [];
    private readonly List<string> _directories = [];

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.Dispose();
        }

        foreach (var directory in _directories)
        {
            TestPaths.DeleteDirectory(directory);
        }
    }

    private AccessHost Start(string? dataDir = null)
    {
        var host = new AccessHost(dataDir: dataDir);
        _hosts.Add(host);
        return host;
    }

    private static async Task<(Builder.Core.Forges.RepositoryCredentials? Credentials, string? WebhookSecret)> DecryptAsync(AccessHost host, string name)
    {
        await using var scope = host.Factory.Services.CreateAsyncScope();
        var repository = await scope.ServiceProvider.GetRequiredService<Builder.Data.BuilderDbContext>().Repositories.AsNoTracking().SingleAsync(r => r.Name == name);
        var secrets = scope.ServiceProvider.GetRequiredService<IRepositorySecrets>();
        return (secrets.Credentials(repository), secrets.WebhookSecret(repository));
    }

    /// <summary>The repository's row as stored: (CloneUrl, WebhookSecret, ProtectedWebhookSecret, ProtectedCredentials).</summary>
    private static (string CloneUrl, string Plain, string? Protected, string? Credentials) Row(AccessHost host, string name)
    {
        using var connection = host.OpenSqlite();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT CloneUrl, WebhookSecret, ProtectedWebhookSecret, ProtectedCredentials FROM builder_repositories WHERE Name = $name";
        command.Parameters.AddWithValue("$name", name);
        using var row = command.ExecuteReader();
        Assert.True(row.Read(), $"no row for {name}");
        return (row.GetString(0), row.GetString(1), row.IsDBNull(2) ? null : row.GetString(2), row.IsDBNull(3) ? null : row.GetString(3));
    }

    private static void AssertNowhere(string secret, AccessHost host, params Answer[] answers)
    {
        foreach (var answer in answers)
        {
            Assert.DoesNotContain(secret, answer.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, answer.Headers.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(-1, host.DatabaseBytes().AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)));
    }

    [Fact]
    public async Task Clone_credentials_are_write_only_and_in_no_answer_no_audit_event_and_no_database_byte()
    {
        var host = Start();
        const string First = "ghp_FirstCloneToken0123456789abcdef";
        const string Second = "ghp_SecondCloneToken0123456789abcdef";

        var registered = await host.PostJsonAsync("/api/repositories", new
        {
            provider = "github",
            name = Name,
            cloneUrl = "https://github.com/acme/billing.git",
            credentials = new { username = "x-access-token", token = First },
        }, AccessHost.Admin);
        Assert.Equal(HttpStatusCode.Created, registered.Status);
        var id = registered.Json.GetProperty("id").GetInt64();
        Assert.True(registered.Json.GetProperty("hasCredentials").GetBoolean());
        Assert.False(registered.Json.TryGetProperty("credentials", out _));

        var list = await host.GetAsync("/api/repositories", AccessHost.Admin);
        var one = await host.GetAsync($"/api/repositories/{id}", AccessHost.Admin);
        var patched = await host.PatchJsonAsync($"/api/repositories/{id}", new { relayProjects = new[] { "acme-*" } }, AccessHost.Admin);
        var replaced = await host.PatchJsonAsync($"/api/repositories/{id}", new { credentials = new { username = "x-access-token", token = Second } }, AccessHost.Admin);
        foreach (var answer in new[] { list, one, patched, replaced })
        {
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            Assert.DoesNotContain("\"credentials\"", answer.Body, StringComparison.Ordinal);
        }

        Assert.True(replaced.Json.GetProperty("hasCredentials").GetBoolean());
        Assert.Equal<Builder.Core.Forges.RepositoryCredentials?>(new CloneCredentials("x-access-token", Second), (await DecryptAsync(host, Name)).Credentials);
        var audit = await host.GetAsync("/api/audit", AccessHost.Admin);
        Assert.Contains("repository:changed", audit.Body, StringComparison.Ordinal);
        AssertNowhere(First, host, registered, list, one, patched, replaced, audit);
        AssertNowhere(Second, host, registered, list, one, patched, replaced, audit);
        AssertNowhere("FirstCloneToken", host);
        Assert.NotNull(Row(host, Name).Credentials);

        var removed = await host.PatchJsonAsync($"/api/repositories/{id}", new { credentials = (object?)null }, AccessHost.Admin);
        Assert.False(removed.Json.GetProperty("hasCredentials").GetBoolean());
        Assert.Null((await DecryptAsync(host, Name)).Credentials);
    }

    [Fact]
    public async Task A_clone_url_with_user_info_is_split_into_a_bare_url_and_encrypted_credentials()
    {
        var host = Start();
        const string Token = "ghp_UrlToken0123456789abcdefABCDEF";

        var registered = await host.PostJsonAsync("/api/repositories", new
        {
            provider = "github",
            name = Name,
            cloneUrl = $"https://x-access-token:{Token}@github.com/acme/billing.git",
        }, AccessHost.Admin);

        Assert.Equal(HttpStatusCode.Created, registered.Status);
        Assert.Equal("https://github.com/acme/billing.git", registered.Json.GetProperty("cloneUrl").GetString());
        Assert.True(registered.Json.GetProperty("hasCredentials").GetBoolean());
        Assert.Equal<Builder.Core.Forges.RepositoryCredentials?>(new CloneCredentials("x-access-token", Token), (await DecryptAsync(host, Name)).Credentials);
        Assert.Equal("https://github.com/acme/billing.git", Row(host, Name).CloneUrl);
        var id = registered.Json.GetProperty("id").GetInt64();

        // A token alone as user info is the token (as git does for GitHub); escaped characters are unescaped.
        var changed = await host.PatchJsonAsync($"/api/repositories/{id}", new { cloneUrl = "https://glpat-Only%2BToken@gitlab.example.invalid/acme/billing.git" }, AccessHost.Admin);
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        Assert.Equal("https://gitlab.example.invalid/acme/billing.git", changed.Json.GetProperty("cloneUrl").GetString());
        Assert.Equal<Builder.Core.Forges.RepositoryCredentials?>(new CloneCredentials("x-access-token", "glpat-Only+Token"), (await DecryptAsync(host, Name)).Credentials);

        var listed = await host.GetAsync("/api/repositories", AccessHost.Admin);
        var audit = await host.GetAsync("/api/audit", AccessHost.Admin);
        AssertNowhere(Token, host, registered, changed, listed, audit);
        AssertNowhere("glpat-Only", host, registered, changed, listed, audit);
    }

    [Fact]
    public async Task The_webhook_secret_is_stored_encrypted_shown_only_when_made_and_still_verifies()
    {
        var host = Start();
        const string Secret = "chosen-webhook-secret-0123456789";
        var id = await host.RegisterRepositoryAsync(Name, Secret);

        var row = Row(host, Name);
        Assert.Equal(string.Empty, row.Plain);
        Assert.NotNull(row.Protected);
        Assert.DoesNotContain(Secret, row.Protected, StringComparison.Ordinal);
        Assert.Equal(Secret, (await DecryptAsync(host, Name)).WebhookSecret);

        var listed = await host.GetAsync("/api/repositories", AccessHost.Admin);
        var one = await host.GetAsync($"/api/repositories/{id}", AccessHost.Admin);
        Assert.Equal(JsonValueKind.Null, one.Json.GetProperty("webhookSecret").ValueKind);
        AssertNowhere(Secret, host, listed, one, await host.GetAsync("/api/audit", AccessHost.Admin));

        Assert.Equal(HttpStatusCode.Accepted, (await host.SendWebhookAsync(Name, "v1.0.0", Secret)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.SendWebhookAsync(Name, "v1.0.1", "some-other-secret-0123456789")).Status);
        Assert.Single(host.Factory.Dispatcher.Enqueued);
    }

    [Fact]
    public async Task Rotating_the_webhook_secret_shows_the_new_one_once_and_the_old_one_stops_verifying()
    {
        var host = Start();
        const string Old = "the-old-webhook-secret-0123456789";
        var id = await host.RegisterRepositoryAsync(Name, Old);
        Assert.Equal(HttpStatusCode.Accepted, (await host.SendWebhookAsync(Name, "v1", Old)).Status);

        var rotated = await host.PatchJsonAsync($"/api/repositories/{id}", new { rotateWebhookSecret = true }, AccessHost.Admin);

        Assert.Equal(HttpStatusCode.OK, rotated.Status);
        var fresh = rotated.Json.GetProperty("webhookSecret").GetString()!;
        Assert.Matches("^[0-9a-f]{64}$", fresh);
        var shownAgain = await host.GetAsync($"/api/repositories/{id}", AccessHost.Admin);
        var listed = await host.GetAsync("/api/repositories", AccessHost.Admin);
        var audit = await host.GetAsync("/api/audit", AccessHost.Admin);
        AssertNowhere(fresh, host, shownAgain, listed, audit);
        Assert.Contains("webhook secret rotated", audit.Body, StringComparison.Ordinal);

        var withOld = await host.SendWebhookAsync(Name, "v2", Old);
        var withNew = await host.SendWebhookAsync(Name, "v3", fresh);
        Assert.Equal(HttpStatusCode.Unauthorized, withOld.Status);
        Assert.Equal(HttpStatusCode.Accepted, withNew.Status);
        Assert.Equal(fresh, (await DecryptAsync(host, Name)).WebhookSecret);
        Assert.Equal(2, host.Factory.Dispatcher.Enqueued.Count);
    }

    private const string LegacySecret = "legacy-plain-webhook-secret-0123456789";
    private const string LegacyToken = "ghp_LegacyCloneToken0123456789abcdef";

    /// <summary>
    /// A data dir as an older Builder left it: acme/billing's webhook secret in the WebhookSecret column and its clone
    /// token in the clone URL (and, with <paramref name="withUnsecured"/>, acme/plain with neither). The host that made
    /// the tables is stopped again before returning.
    /// </summary>
    private async Task<string> LegacyDataDirAsync(bool withUnsecured)
    {
        var dataDir = TestPaths.NewTempDirectory("access-migration");
        _directories.Add(dataDir);
        var first = Start(dataDir);
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/api/repositories", AccessHost.Admin)).Status);
        await using (var connection = first.OpenSqlite())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO builder_repositories (Provider, Name, CloneUrl, WebhookSecret, CreatedAt) VALUES ('github', $name, $url, $secret, '2025-01-01 00:00:00+00:00')"
                + (withUnsecured ? ", ('github', 'acme/plain', 'https://github.com/acme/plain.git', '', '2025-01-01 00:00:00+00:00')" : string.Empty);
            command.Parameters.AddWithValue("$name", Name);
            command.Parameters.AddWithValue("$url", $"https://x-access-token:{LegacyToken}@github.com/acme/billing.git");
            command.Parameters.AddWithValue("$secret", LegacySecret);
            Assert.Equal(withUnsecured ? 2 : 1, await command.ExecuteNonQueryAsync());
        }

        first.Dispose();
        _hosts.Remove(first);
        return dataDir;
    }

    [Fact]
    public async Task A_database_with_plain_text_secrets_is_migrated_at_start()
    {
        var second = Start(await LegacyDataDirAsync(withUnsecured: true));

        var listed = await second.GetAsync("/api/repositories", AccessHost.Admin);

        Assert.Equal(HttpStatusCode.OK, listed.Status);
        var billing = listed.Json.EnumerateArray().Single(r => r.GetProperty("name").GetString() == Name);
        Assert.Equal("https://github.com/acme/billing.git", billing.GetProperty("cloneUrl").GetString());
        Assert.True(billing.GetProperty("hasCredentials").GetBoolean());
        var plain = listed.Json.EnumerateArray().Single(r => r.GetProperty("name").GetString() == "acme/plain");
        Assert.False(plain.GetProperty("hasCredentials").GetBoolean());
        var row = Row(second, Name);
        Assert.Equal("https://github.com/acme/billing.git", row.CloneUrl);
        Assert.Equal(string.Empty, row.Plain);
        Assert.NotNull(row.Protected);
        Assert.DoesNotContain(LegacySecret, row.Protected, StringComparison.Ordinal);
        Assert.NotNull(row.Credentials);
        Assert.DoesNotContain(LegacyToken, row.Credentials, StringComparison.Ordinal);
        var (credentials, webhookSecret) = await DecryptAsync(second, Name);
        Assert.Equal<Builder.Core.Forges.RepositoryCredentials?>(new CloneCredentials("x-access-token", LegacyToken), credentials);
        Assert.Equal(LegacySecret, webhookSecret);
        Assert.DoesNotContain(LegacyToken, listed.Body, StringComparison.Ordinal);

        // The old secret still verifies the old hook.
        Assert.Equal(HttpStatusCode.Accepted, (await second.SendWebhookAsync(Name, "v1.0.0", LegacySecret)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await second.SendWebhookAsync(Name, "v1.0.1", "not-the-legacy-secret-0123456789")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await second.SendWebhookAsync("acme/plain", "v1", string.Empty.PadLeft(20, 'x'))).Status);
    }

    [Fact]
    public async Task After_the_migration_no_plain_text_secret_is_left_in_the_database_file()
    {
        var dataDir = await LegacyDataDirAsync(withUnsecured: false);
        var second = Start(dataDir);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/api/repositories", AccessHost.Admin)).Status);
        Assert.Equal(string.Empty, Row(second, Name).Plain);

        // "A copy of the database alone reveals no secret" (RepositorySecrets): not in a row, nor in the file's free space.
        second.Dispose();
        _hosts.Remove(second);
        var bytes = new List<byte>();
        foreach (var file in Directory.EnumerateFiles(dataDir, "builder.db*"))
        {
            bytes.AddRange(await File.ReadAllBytesAsync(file));
        }

        Assert.NotEmpty(bytes);
        Assert.True(bytes.ToArray().AsSpan().IndexOf(Encoding.UTF8.GetBytes(LegacySecret)) < 0, "the migrated webhook secret is still in the database file in plain text");
        Assert.True(bytes.ToArray().AsSpan().IndexOf(Encoding.UTF8.GetBytes(LegacyToken)) < 0, "the migrated clone token is still in the database file in plain text");
    }
}
