using System.Globalization;
using Builder.Access;
using Builder.Core.Access;
using Builder.Data;
using Builder.Web.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Builder.Web.Access;

public sealed record WhoAmI(string Principal, string Kind, string? Person, bool Admin, IReadOnlyList<string> Grants, string? Within);

public sealed record AuditPage(IReadOnlyList<AuditEvent> Events, string? Next);

/// <summary>
/// Tokens (<c>/api/tokens</c>: admins manage all, people their own), people (<c>/api/people</c>, admin), the audit log
/// (<c>/api/audit</c>, admin, read-only: there is no route that changes or removes an event) and <c>/api/whoami</c>.
/// </summary>
internal static class AccessEndpoints
{
    public const string Tokens = "/api/tokens";
    public const string People = "/api/people";
    public const string Audit = "/api/audit";
    public const string Me = "/api/whoami";

    private const int DefaultPage = 100;
    private const int MaxPage = 1000;

    public static void MapAccessApi(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup(Tokens).AddEndpointFilter<RequireAdminOrPerson>();
        tokens.MapPost("/", CreateTokenAsync);
        tokens.MapGet("/", (HttpContext http, TokenService service, CancellationToken ct) => ListTokensAsync(http, service, ct));
        tokens.MapGet("/{id:long}", GetTokenAsync);
        tokens.MapDelete("/{id:long}", RevokeTokenAsync);

        var people = app.MapGroup(People).AddEndpointFilter<RequireAdmin>();
        people.MapPost("/", CreatePersonAsync);
        people.MapGet("/", async (PeopleService service, CancellationToken ct) => TypedResults.Ok(await service.ListAsync(ct)));
        people.MapGet("/{userName}", GetPersonAsync);
        people.MapMethods("/{userName}", ["PATCH"], ChangePersonAsync);

        app.MapGet(Audit, ReadAuditAsync).AddEndpointFilter<RequireAdmin>();
        app.MapGet(Me, (HttpContext http) => TypedResults.Ok(Describe(http.Principal()))).AddEndpointFilter<RequireCredentials>();
    }

    private static async Task<IResult> CreateTokenAsync(TokenRequest? body, HttpContext http, TokenService service, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Problems.BadRequest("the body must be JSON: {\"name\":\"ci-reader\",\"scopes\":[\"read\"],\"projects\":[\"acme-*\"],\"expiresAt\":\"2027-01-01T00:00:00Z\"}");
        }

        var result = await service.CreateAsync(body, http.Principal(), http.Actor(), cancellationToken);
        return result.Token is null
            ? Problems.Of(result.Status, result.Problem!)
            : TypedResults.Created($"{Tokens}/{result.Token.Id}", new CreatedTokenJson(result.Token, result.Secret!));
    }

    private static async Task<Ok<List<TokenView>>> ListTokensAsync(HttpContext http, TokenService service, CancellationToken cancellationToken) =>
        TypedResults.Ok(await service.ListAsync(http.Principal(), cancellationToken));

    private static async Task<Results<Ok<TokenView>, ProblemHttpResult>> GetTokenAsync(long id, HttpContext http, TokenService service, CancellationToken cancellationToken) =>
        await service.GetAsync(id, http.Principal(), cancellationToken) is { } token ? TypedResults.Ok(token) : NoSuchToken(id);

    private static async Task<Results<Ok<TokenView>, ProblemHttpResult>> RevokeTokenAsync(long id, HttpContext http, TokenService service, CancellationToken cancellationToken) =>
        await service.RevokeAsync(id, http.Principal(), http.Actor(), cancellationToken) is { } token ? TypedResults.Ok(token) : NoSuchToken(id);

    private static ProblemHttpResult NoSuchToken(long id) =>
        Problems.NotFound($"no token {id.ToString(CultureInfo.InvariantCulture)} (or not one of yours)");

    private static async Task<IResult> CreatePersonAsync(PersonRequest? body, HttpContext http, PeopleService service, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Problems.BadRequest("the body must be JSON: {\"userName\":\"alice\",\"password\":\"...\",\"roles\":[{\"role\":\"reader\",\"projects\":[\"acme-*\"]}]}");
        }

        var result = await service.CreateAsync(body, http.Actor(), cancellationToken);
        return result.Person is null
            ? Problems.Of(result.Status, result.Problem!)
            : TypedResults.Created($"{People}/{Uri.EscapeDataString(result.Person.UserName)}", result.Person);
    }

    private static async Task<Results<Ok<PersonView>, ProblemHttpResult>> GetPersonAsync(string userName, PeopleService service, CancellationToken cancellationToken) =>
        await service.GetAsync(userName, cancellationToken) is { } person
            ? TypedResults.Ok(person)
            : Problems.NotFound($"no person named '{userName}'");

    private static async Task<IResult> ChangePersonAsync(string userName, PersonRequest? body, HttpContext http, PeopleService service, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Problems.BadRequest("the body must be JSON naming what to change: password, roles, displayName, email, disabled");
        }

        var result = await service.UpdateAsync(userName, body, http.Actor(), cancellationToken);
        return result.Person is null ? Problems.Of(result.Status, result.Problem!) : TypedResults.Ok(result.Person);
    }

    /// <summary>
    /// Newest first. Filters: <c>principal</c> (exact, e.g. token:12), <c>project</c>, <c>action</c> (exact, or a prefix
    /// ending in ':' such as <c>token:</c>), <c>since</c>/<c>until</c> (ISO 8601); pages of <c>limit</c> events (default
    /// 100, at most 1000), the next page from <c>next</c>.
    /// </summary>
    private static async Task<IResult> ReadAuditAsync(
        HttpRequest request, string? principal, string? project, string? action, DateTimeOffset? since, DateTimeOffset? until, long? before, int? limit,
        BuilderDbContext db, CancellationToken cancellationToken)
    {
        var size = limit ?? DefaultPage;
        if (size is < 1 or > MaxPage)
        {
            return Problems.BadRequest($"'limit' must be between 1 and {MaxPage}");
        }

        var (events, nextBefore) = await AuditQuery.ReadAsync(db, new AuditFilter(principal, project, action, since, until, before), size, cancellationToken);
        string? next = null;
        if (nextBefore is { } older)
        {
            var query = System.Web.HttpUtility.ParseQueryString(request.QueryString.Value ?? string.Empty);
            query["before"] = older.ToString(CultureInfo.InvariantCulture);
            next = $"{Audit}?{query}";
        }

        return TypedResults.Ok(new AuditPage(events, next));
    }

    private static WhoAmI Describe(Principal principal) => new(
        principal.Id,
        principal.Kind.ToString().ToLowerInvariant(),
        principal.PersonName,
        principal.Rights.IsAdmin,
        [.. principal.Rights.Grants.Select(g => g.ToString())],
        principal.Rights.Bound?.ToString());

    /// <summary>The created token's fields with the secret beside them, as one JSON object.</summary>
    private sealed record CreatedTokenJson(
        long Id, string Name, string? Description, string Hint, IReadOnlyList<string> Scopes, IReadOnlyList<string>? Projects, string? Versions,
        IReadOnlyList<string>? IpRanges, DateTimeOffset? ExpiresAt, string? Owner, string CreatedBy, DateTimeOffset CreatedAt, string State, string Token)
    {
        public CreatedTokenJson(TokenView v, string token)
            : this(v.Id, v.Name, v.Description, v.Hint, v.Scopes, v.Projects, v.Versions, v.IpRanges, v.ExpiresAt, v.Owner, v.CreatedBy, v.CreatedAt, v.State, token)
        {
        }
    }
}

/// <summary>Token management: admins (any token) and people signed in with their password (their own); not other tokens.</summary>
internal sealed class RequireAdminOrPerson : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var principal = http.Principal();
        if (!principal.Rights.IsAdmin && principal.Kind != PrincipalKind.Person)
        {
            return http.ChallengeOrForbid("tokens are managed by admins, and by people (with their user name and password) for themselves; a non-admin token may not");
        }

        return await next(context);
    }
}
