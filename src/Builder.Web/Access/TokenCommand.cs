using System.Globalization;
using Builder.Access;
using Builder.Core.Access;

namespace Builder.Web.Access;

/// <summary>
/// <c>Builder.Web token create|list|revoke ...</c>: manages API tokens from the server's own command line, with the
/// server's configuration and database and no HTTP (the bootstrap path: the first admin token of an installation).
/// <c>create</c> writes the secret alone on standard output (so <c>TOKEN=$(... token create ...)</c> works) and
/// everything else on standard error. Exit code 0: done; 1: refused (the message says why); 2: usage error.
/// </summary>
internal static class TokenCommand
{
    public const string Name = "token";
    public const int Success = 0;
    public const int Refused = 1;
    public const int UsageError = 2;

    private const string Usage = """
        usage: Builder.Web token create --name NAME --scope read|upload|admin [--scope ...] [--project GLOB ...]
                                        [--versions SPECIFIER] [--expires 90d|12h|2027-01-31] [--ip CIDR ...]
                                        [--description TEXT] [--owner USER]
               Builder.Web token list
               Builder.Web token revoke ID
        """;

    public static async Task<int> RunAsync(IHost host, string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is not ("create" or "list" or "revoke"))
        {
            await error.WriteLineAsync(Usage);
            return UsageError;
        }

        // Arguments are checked before the host starts: a usage error touches no data directory or database.
        TokenRequest? request = null;
        long id = 0;
        if (args[0] == "create" && !TryParseCreate(args[1..], host.Services.GetRequiredService<TimeProvider>().GetUtcNow(), out request, out var problem))
        {
            await error.WriteLineAsync($"token create: {problem}\n{Usage}");
            return UsageError;
        }

        if (args[0] == "revoke" && (args.Length < 2 || !long.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out id)))
        {
            await error.WriteLineAsync("token revoke: which token? give its id (token list shows them)\n" + Usage);
            return UsageError;
        }

        await host.StartAsync();
        try
        {
            await using var scope = host.Services.CreateAsyncScope();
            var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
            var principal = new Principal(AuditActor.CommandLine.Principal, PrincipalKind.CommandLine, AccessRights.Administrator);
            switch (args[0])
            {
                case "create":
                    var result = await tokens.CreateAsync(request!, principal, AuditActor.CommandLine, CancellationToken.None);
                    if (result.Token is not { } created)
                    {
                        await error.WriteLineAsync($"token create: {result.Problem}");
                        return Refused;
                    }

                    await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"Created token {created.Id} '{created.Name}': scopes {string.Join(' ', created.Scopes)}; projects {(created.Projects is null ? "*" : string.Join(' ', created.Projects))}{(created.Versions is null ? string.Empty : "; versions " + created.Versions)}; expires {(created.ExpiresAt is { } e ? e.ToString("O", CultureInfo.InvariantCulture) : "never")}."));
                    await output.WriteLineAsync(result.Secret);
                    await error.WriteLineAsync("Store it now: the secret is shown only this once (Builder keeps only its hash).");
                    return Success;
                case "list":
                    foreach (var token in await tokens.ListAsync(principal, CancellationToken.None))
                    {
                        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"{token.Id}\t{token.Name}\t{token.State}\t{string.Join(',', token.Scopes)}\t{(token.Projects is null ? "*" : string.Join(',', token.Projects))}\t{token.Hint}\texpires {(token.ExpiresAt is { } until ? until.ToString("O", CultureInfo.InvariantCulture) : "never")}\tlast used {(token.LastUsedAt is { } u ? u.ToString("O", CultureInfo.InvariantCulture) + " from " + token.LastUsedFrom : "never")}"));
                    }

                    return Success;
                default:
                    if (await tokens.RevokeAsync(id, principal, AuditActor.CommandLine, CancellationToken.None) is not { } revoked)
                    {
                        await error.WriteLineAsync($"token revoke: no token {id}");
                        return Refused;
                    }

                    await error.WriteLineAsync($"Revoked token {revoked.Id} '{revoked.Name}'.");
                    return Success;
            }
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    internal static bool TryParseCreate(string[] args, DateTimeOffset now, out TokenRequest? request, out string? problem)
    {
        request = null;
        problem = null;
        string? name = null, versions = null, description = null, owner = null;
        DateTimeOffset? expires = null;
        List<string> scopes = [], projects = [], ranges = [];
        for (var i = 0; i < args.Length; i++)
        {
            var option = args[i];
            if (!option.StartsWith("--", StringComparison.Ordinal))
            {
                problem = $"unexpected argument '{option}'";
                return false;
            }

            // Settings (--Builder:DataDir=...) are the host's: they configure the server, not the token.
            if (option.Contains('=', StringComparison.Ordinal))
            {
                continue;
            }

            if (i + 1 >= args.Length)
            {
                problem = $"{option} needs a value";
                return false;
            }

            var value = args[++i];
            switch (option)
            {
                case "--name":
                    name = value;
                    break;
                case "--scope":
                    scopes.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--project":
                    projects.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--versions":
                    versions = value;
                    break;
                case "--expires":
                    if (!TryParseExpiry(value, now, out var parsed))
                    {
                        problem = $"--expires '{value}': give a duration (90d, 12h, 30m) or a date (2027-01-31, 2027-01-31T12:00:00Z)";
                        return false;
                    }

                    expires = parsed;
                    break;
                case "--ip":
                    ranges.Add(value);
                    break;
                case "--description":
                    description = value;
                    break;
                case "--owner":
                    owner = value;
                    break;
                default:
                    problem = $"unknown option {option}";
                    return false;
            }
        }

        if (name is null || scopes.Count == 0)
        {
            problem = name is null ? "--name is required" : "--scope is required (read, upload or admin)";
            return false;
        }

        request = new TokenRequest(name, scopes, projects.Count == 0 ? null : projects, versions, expires, ranges.Count == 0 ? null : ranges, description, owner);
        return true;
    }

    /// <summary>"90d", "12h", "30m" from now, or an ISO 8601 date or time (a date alone means its start, UTC).</summary>
    internal static bool TryParseExpiry(string text, DateTimeOffset now, out DateTimeOffset expires)
    {
        expires = default;
        if (text.Length > 1 && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) && amount > 0)
        {
            TimeSpan? span = text[^1] switch
            {
                'd' => TimeSpan.FromDays(amount),
                'h' => TimeSpan.FromHours(amount),
                'm' => TimeSpan.FromMinutes(amount),
                _ => null,
            };
            if (span is { } duration)
            {
                expires = now + duration;
                return true;
            }
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out expires);
    }
}
