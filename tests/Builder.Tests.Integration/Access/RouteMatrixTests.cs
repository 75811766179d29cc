using System.Net.Http.Headers;
using System.Net.Http.Json;
using Builder.Tests.Integration.Infrastructure;
using Builder.Tests.Integration.Upload;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// Every endpoint of the app × every kind of principal, with the exact status each must get. The table is checked
/// against the app's own endpoint list: a route added without a row here (or a row for a route that is gone) fails.
/// </summary>
public sealed class RouteMatrixTests : IDisposable
{
    /// <summary>The columns of the table, in order.</summary>
    private enum Who
    {
        Anonymous,
        ReadAcme,      // read token for acme-*
        ReadOther,     // read token for other-*
        ReadAppV2,     // read token for acme-app, versions >=2
        UploadAcme,    // upload token for acme-*
        AdminScoped,   // API token with the admin scope
        Bootstrap,     // the configured Builder:AdminToken
        Reader,        // local person, reader of acme-* (HTTP Basic user:password)
        NoRole,        // local person without any role
        Metrics,       // the configured Builder:Metrics:Token (for Prometheus)
    }

    private const string App = "acme-app";
    private const string Wheel1 = "acme_app-1.0-py3-none-any.whl";
    private const string Wheel2 = "acme_app-2.0-py3-none-any.whl";
    private const string Repository = "acme/app";
    private const string WebhookSecret = "matrix-webhook-secret-0123456789";
    private const string MetricsToken = "matrix-metrics-token-0123456789";

    // One row per route (some routes have a second row for a second case). Columns:
    //     Anon RdAcme RdOther RdV2 UpAcme AdmTok Boot Reader NoRole Metrics
    private static readonly Row[] Table =
    [
        // The simple index, files and the JSON API: 401 without credentials (private by default), 404 for what the principal may not see.
        new("GET", "/simple/", _ => Get("/simple/"),
            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        new("HEAD", "/simple/", _ => Get("/simple/"),
            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        new("GET", "/simple/{project}/", _ => Get($"/simple/{App}/"),
            [401, 200, 404, 200, 404, 200, 200, 200, 404, 404]),
        new("HEAD", "/simple/{project}/", _ => Get($"/simple/{App}/"),
            [401, 200, 404, 200, 404, 200, 200, 200, 404, 404]),
        new("GET", "/files/{project}/{filename}", _ => Get($"/files/{App}/{Wheel1}"),
            [401, 200, 404, 404, 404, 200, 200, 200, 404, 404]),
        new("GET", "/files/{project}/{filename}", _ => Get($"/files/{App}/{Wheel2}"),
            [401, 200, 404, 200, 404, 200, 200, 200, 404, 404]),
        new("GET", "/files/{project}/{filename}", _ => Get($"/files/{App}/{Wheel1}.metadata"),
            [401, 200, 404, 404, 404, 200, 200, 200, 404, 404]),
        new("HEAD", "/files/{project}/{filename}", _ => Get($"/files/{App}/{Wheel1}"),
            [401, 200, 404, 404, 404, 200, 200, 200, 404, 404]),
        // Provenance: the file's access rule; this matrix's files were uploaded (no provenance), so 404 for every
        // principal that may browse (the same answer as for a file it may not read). The CA is public.
        new("GET", "/integrity/{project}/{version}/{filename}/provenance", _ => Get($"/integrity/{App}/1.0/{Wheel1}/provenance"),
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        new("HEAD", "/integrity/{project}/{version}/{filename}/provenance", _ => Get($"/integrity/{App}/1.0/{Wheel1}/provenance"),
            [401, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        new("GET", "/api/provenance/ca.pem", _ => Get("/api/provenance/ca.pem"),
            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        new("GET", "/pypi/{project}/json", _ => Get($"/pypi/{App}/json"),
            [401, 200, 404, 200, 404, 200, 200, 200, 404, 404]),
        new("GET", "/pypi/{project}/{version}/json", _ => Get($"/pypi/{App}/1.0/json"),
            [401, 200, 404, 404, 404, 200, 200, 200, 404, 404]),
        new("GET", "/pypi/{project}/{version}/json", _ => Get($"/pypi/{App}/2.0/json"),
            [401, 200, 404, 200, 404, 200, 200, 200, 404, 404]),

        // The catalog (the web UI's listings as JSON): read rights like the index; a principal without any lists nothing.
        new("GET", "/api/projects", _ => Get("/api/projects"),
            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        new("GET", "/api/projects/{project}", _ => Get($"/api/projects/{App}"),
            [401, 200, 404, 200, 404, 200, 200, 200, 404, 404]),

        // Uploads: the upload scope for the project (or admin); a person needs the publisher role.
        new("POST", "/legacy/", c => c.World.UploadRequest(),
            [401, 403, 403, 403, 200, 200, 200, 403, 403, 403]),

        // Webhooks: the signature decides, whoever else the request claims to be.
        new("POST", "/webhooks/github", _ => MatrixWorld.WebhookRequest(signed: true),
            [202, 202, 202, 202, 202, 202, 202, 202, 202, 202]),
        new("POST", "/webhooks/github", _ => MatrixWorld.WebhookRequest(signed: false),
            [401, 401, 401, 401, 401, 401, 401, 401, 401, 401]),
        // GitLab and Gitea: no such project is registered, so every request is the one 401 (a token or password does not help).
        new("POST", "/webhooks/gitlab", _ => MatrixWorld.GitLabWebhookRequest(),
            [401, 401, 401, 401, 401, 401, 401, 401, 401, 401]),
        new("POST", "/webhooks/gitea", _ => MatrixWorld.GiteaWebhookRequest(),
            [401, 401, 401, 401, 401, 401, 401, 401, 401, 401]),

        // Health: no credentials needed (load balancers ask); they name no project or secret.
        new("GET", "/healthz", _ => Get("/healthz"),
            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        new("GET", "/readyz", _ => Get("/readyz"),
            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),

        // Metrics: admins and the metrics token (which may do nothing else: an empty listing, 403 or 404 everywhere else).
        new("GET", "/metrics", _ => Get("/metrics"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 200]),

        // Builds: credentials always, and read on the build's project and version (the build is of acme-app 1.0).
        new("GET", "/api/builds/{id:long}", c => Get($"/api/builds/{c.World.BuildId}"),
            [401, 200, 404, 404, 404, 200, 200, 200, 404, 404]),
        new("GET", "/api/builds/{id:long}/log", c => Get($"/api/builds/{c.World.BuildId}/log?follow=false"),
            [401, 200, 404, 404, 404, 200, 200, 200, 404, 404]),
        new("GET", "/api/builds/{id:long}/events", c => Get($"/api/builds/{c.World.BuildId}/events"),
            [401, 200, 404, 404, 404, 200, 200, 200, 404, 404]),
        // The build list: credentials always; each principal sees the builds it may (none: an empty list).
        new("GET", "/api/builds", _ => Get("/api/builds"),
            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        // Build again: admin; the matrix's build is still queued, so even an admin gets 409 (nothing is built twice).
        new("POST", "/api/builds/{id:long}/retry", c => Task.FromResult(new Req($"/api/builds/{c.World.BuildId}/retry")),
            [401, 403, 403, 403, 403, 409, 409, 403, 403, 403]),

        // Repositories: admin.
        new("POST", "/api/repositories/", c => Json($"/api/repositories/", new { provider = "github", name = $"acme/matrix-{c.World.Next()}", cloneUrl = "https://git.example.invalid/m.git" }),
            [401, 403, 403, 403, 403, 201, 201, 403, 403, 403]),
        new("GET", "/api/repositories/", _ => Get("/api/repositories/"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("GET", "/api/repositories/{id:long}", c => Get($"/api/repositories/{c.World.RepositoryId}"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("PATCH", "/api/repositories/{id:long}", c => Json($"/api/repositories/{c.World.RepositoryId}", new { relayProjects = new[] { "acme-*" } }),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        // The manual trigger: admin; a tag that names no version is refused before the repository is read (no clone here).
        new("POST", "/api/repositories/{id:long}/builds", c => Json($"/api/repositories/{c.World.RepositoryId}/builds", new { tag = "not-a-version" }),
            [401, 403, 403, 403, 403, 400, 400, 403, 403, 403]),
        new("GET", "/api/repositories/{id:long}/deliveries", c => Get($"/api/repositories/{c.World.RepositoryId}/deliveries"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),

        // Yank, unyank, delete: admin. Deletions get a release or file of their own per cell.
        new("POST", "/api/projects/{project}/releases/{version}/yank", _ => Json("/api/projects/acme-mut/releases/1.0/yank", new { reason = "matrix" }),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("POST", "/api/projects/{project}/releases/{version}/unyank", _ => Json("/api/projects/acme-mut/releases/1.0/unyank", new { }),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("POST", "/api/projects/{project}/files/{filename}/yank", _ => Json("/api/projects/acme-mut/files/acme_mut-1.0-py3-none-any.whl/yank", new { }),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("POST", "/api/projects/{project}/files/{filename}/unyank", _ => Json("/api/projects/acme-mut/files/acme_mut-1.0-py3-none-any.whl/unyank", new { }),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("DELETE", "/api/projects/{project}/releases/{version}", async c => new Req($"/api/projects/acme-del/releases/{await c.World.FreshReleaseAsync("acme-del")}"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("DELETE", "/api/projects/{project}/files/{filename}", async c => new Req($"/api/projects/acme-delf/files/{await c.World.FreshFileAsync("acme-delf")}"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),

        // Garbage collection of the artifact store: admin (a dry run here, so the matrix's own files stay).
        new("POST", "/api/storage/gc", _ => Task.FromResult(new Req("/api/storage/gc?dryRun=true")),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        // A project's settings (its quota) and every project's usage: admin.
        new("PATCH", "/api/projects/{project}", _ => Json($"/api/projects/{App}", new { quotaBytes = (long?)null }),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("GET", "/api/usage", _ => Get("/api/usage"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),

        // The upstream proxy's rules: admin (the proxy itself is off here; the rules are kept all the same).
        new("POST", "/api/upstream/allow", c => Json("/api/upstream/allow", new { project = $"matrix-{c.World.Next()}", reason = "matrix" }),
            [401, 403, 403, 403, 403, 201, 201, 403, 403, 403]),
        new("POST", "/api/upstream/reserve", c => Json("/api/upstream/reserve", new { project = $"matrix-{c.World.Next()}", reason = "matrix" }),
            [401, 403, 403, 403, 403, 201, 201, 403, 403, 403]),
        new("GET", "/api/upstream/rules", _ => Get("/api/upstream/rules"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        // No rule 999999: admins learn that (404), everyone else is refused before.
        new("DELETE", "/api/upstream/rules/{id:long}", _ => Get("/api/upstream/rules/999999"),
            [401, 403, 403, 403, 403, 404, 404, 403, 403, 403]),

        // Tokens: admins (any token) and people (their own); never other tokens, nor a person without a role (such a
        // token could do nothing). The token asked for is the reader's own.
        new("POST", "/api/tokens/", c => Json("/api/tokens/", new { name = $"matrix-{c.World.Next()}", scopes = new[] { "read" }, projects = new[] { "acme-*" } }),
            [401, 403, 403, 403, 403, 201, 201, 201, 403, 403]),
        new("GET", "/api/tokens/", _ => Get("/api/tokens/"),
            [401, 403, 403, 403, 403, 200, 200, 200, 200, 403]),
        new("GET", "/api/tokens/{id:long}", c => Get($"/api/tokens/{c.World.ReadersTokenId}"),
            [401, 403, 403, 403, 403, 200, 200, 200, 404, 403]),
        new("DELETE", "/api/tokens/{id:long}", async c => new Req($"/api/tokens/{await c.World.FreshReadersTokenAsync()}"),
            [401, 403, 403, 403, 403, 200, 200, 200, 404, 403]),

        // Trusted publishers: admin. The exchange is open to anyone (the ID token is the credential): a body without a
        // token is 400 for every principal.
        new("POST", "/api/trusted-publishers/", c => Json("/api/trusted-publishers/", new
        {
            name = $"matrix-{c.World.Next()}", issuer = GitHubActionsIssuer, claims = new { repository = "acme/matrix" }, scopes = new[] { "read" },
        }),
            [401, 403, 403, 403, 403, 201, 201, 403, 403, 403]),
        new("GET", "/api/trusted-publishers/", _ => Get("/api/trusted-publishers/"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        // No publisher 999999: admins learn that (404), everyone else is refused before.
        new("DELETE", "/api/trusted-publishers/{id:long}", _ => Get("/api/trusted-publishers/999999"),
            [401, 403, 403, 403, 403, 404, 404, 403, 403, 403]),
        new("POST", "/api/oidc/mint-token", _ => Json("/api/oidc/mint-token", new { }),
            [400, 400, 400, 400, 400, 400, 400, 400, 400, 400]),

        // People and the audit log: admin.
        new("POST", "/api/people/", c => Json("/api/people/", new { userName = $"matrix-{c.World.Next()}", password = "a-long-enough-password", roles = Array.Empty<object>() }),
            [401, 403, 403, 403, 403, 201, 201, 403, 403, 403]),
        new("GET", "/api/people/", _ => Get("/api/people/"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("GET", "/api/people/{userName}", _ => Get("/api/people/reader"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("PATCH", "/api/people/{userName}", c => Json("/api/people/patchme", new { displayName = $"Patched {c.World.Next()}" }),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("GET", "/api/audit", _ => Get("/api/audit"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        // Retention policies: admin. No policy 999999: admins learn that (404), everyone else is refused before.
        new("POST", "/api/retention-policies/", _ => Json("/api/retention-policies/", new { projects = new[] { "matrix-*" }, keepLatest = 3, action = "yank" }),
            [401, 403, 403, 403, 403, 201, 201, 403, 403, 403]),
        new("GET", "/api/retention-policies/", _ => Get("/api/retention-policies/"),
            [401, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        new("DELETE", "/api/retention-policies/{id:long}", _ => Get("/api/retention-policies/999999"),
            [401, 403, 403, 403, 403, 404, 404, 403, 403, 403]),
        new("GET", "/api/retention-policies/{id:long}/preview", _ => Get("/api/retention-policies/999999/preview"),
            [401, 403, 403, 403, 403, 404, 404, 403, 403, 403]),
        new("POST", "/api/retention-policies/{id:long}/run", _ => Get("/api/retention-policies/999999/run"),
            [401, 403, 403, 403, 403, 404, 404, 403, 403, 403]),
        new("GET", "/api/whoami", _ => Get("/api/whoami"),
            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),

        // The web UI's pages (Razor Pages: every method maps to the page; GET is what a browser sends). They take the same
        // principals (a browser's session cookie is one more way to be a person: UiSessionTests). Without credentials a
        // page redirects to /sign-in (302); what a principal may not see is the same 404 page as what does not exist;
        // admin pages are 403 for others. Refusals say why on the page.
        Page("", _ => Get("/"),
            [302, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        Page("project/{name}", _ => Get($"/project/{App}/"),
            [302, 200, 404, 200, 404, 200, 200, 200, 404, 404]),
        Page("project/{name}/{version}", _ => Get($"/project/{App}/1.0/"),
            [302, 200, 404, 404, 404, 200, 200, 200, 404, 404]),
        Page("builds", _ => Get("/builds"),
            [302, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        Page("builds/{id:long}", c => Get($"/builds/{c.World.BuildId}"),
            [302, 200, 404, 404, 404, 200, 200, 200, 404, 404]),
        Page("repositories", _ => Get("/repositories"),
            [302, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        Page("repositories/{id:long}", c => Get($"/repositories/{c.World.RepositoryId}"),
            [302, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        Page("tokens", _ => Get("/tokens"),
            [302, 403, 403, 403, 403, 200, 200, 200, 200, 403]),
        Page("audit", _ => Get("/audit"),
            [302, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        Page("retention", _ => Get("/retention"),
            [302, 403, 403, 403, 403, 200, 200, 403, 403, 403]),
        Page("sign-in", _ => Get("/sign-in"),
            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        Page("sign-out", _ => Get("/sign-out"),
            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        // The UI's assets: public (a stylesheet and a script say nothing private), content-hashed, immutable.
        new("GET", UiAssets.Route, _ => Get(AppScript()),
            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        new("HEAD", UiAssets.Route, _ => Get(AppScript()),
            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ];

    // The failed-authentication limit is not what the matrix is about: its 30 refused webhook deliveries (and 401s) all
    // count against one address.
    private const string GitHubActionsIssuer = "https://token.actions.githubusercontent.com";

    private readonly AccessHost _host = new(settings: new()
    {
        ["Builder:Metrics:Token"] = MetricsToken,
        ["Builder:Access:FailedAuthLimit"] = "1000",
        // Trusted publishers name a configured issuer; creating one fetches nothing from it.
        ["Builder:Oidc:Issuers:0"] = GitHubActionsIssuer,
    });

    public void Dispose() => _host.Dispose();

    private static Task<Req> Get(string path) => Task.FromResult(new Req(path));

    /// <summary>A UI page's row: Razor Pages map every method ("*"); a browser GETs it.</summary>
    private static Row Page(string pattern, Func<Cell, Task<Req>> request, int[] expected) =>
        new("*", pattern, request, expected) { SendMethod = "GET", IsPage = true };

    /// <summary>app.js at its content-hashed URL.</summary>
    private static string AppScript() => new Builder.Web.Ui.UiAssets().Url("js/app.js");

    private static Task<Req> Json(string path, object body) => Task.FromResult(new Req(path, () => JsonContent.Create(body)));

    /// <summary>(method, route pattern) of every endpoint the app maps.</summary>
    private HashSet<string> AppEndpoints()
    {
        var endpoints = _host.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints;
        var pairs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in endpoints)
        {
            var route = Assert.IsType<RouteEndpoint>(endpoint);
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"];
            foreach (var method in methods)
            {
                pairs.Add($"{method} {route.RoutePattern.RawText}");
            }
        }

        return pairs;
    }

    [Fact]
    public void The_table_has_a_row_for_every_endpoint_and_no_row_for_an_endpoint_the_app_lacks()
    {
        var app = AppEndpoints();
        var table = Table.Select(r => $"{r.Method} {r.Pattern}").ToHashSet(StringComparer.Ordinal);

        var missing = app.Except(table).Order(StringComparer.Ordinal).ToList();
        var extra = table.Except(app).Order(StringComparer.Ordinal).ToList();

        Assert.True(missing.Count == 0, "endpoints without a row in the matrix (add one per principal):\n" + string.Join('\n', missing));
        Assert.True(extra.Count == 0, "rows for endpoints the app does not map:\n" + string.Join('\n', extra));
        // 59 API routes, 63 (method, pattern) pairs (GET and HEAD of the three index routes and the provenance route count
        // twice), 12 UI pages (every method) and the UI's assets (GET and HEAD).
        Assert.Equal(77, app.Count);
        Assert.Equal(app.Count, table.Count);
    }

    [Fact]
    public async Task Every_route_answers_every_kind_of_principal_with_the_designed_status()
    {
        var world = await MatrixWorld.CreateAsync(_host);
        var mismatches = new List<string>();
        var cells = 0;
        var challenges = 0;
        var whos = Enum.GetValues<Who>();
        foreach (var row in Table)
        {
            Assert.Equal(whos.Length, row.Expected.Length);
            foreach (var who in whos)
            {
                var request = await row.Request(new Cell(who, world));
                var answer = await _host.SendAsync(new HttpMethod(row.SendMethod), request.Path, world.Credentials(who), request.Content?.Invoke(), request.Configure);
                cells++;
                var expected = row.Expected[(int)who];
                if (answer.Code != expected)
                {
                    mismatches.Add($"{row.Method} {request.Path} as {who}: expected {expected}, got {answer}");
                    continue;
                }

                // A request without credentials that needs them is challenged (pip and uv send credentials only after that).
                if (expected == 401 && who == Who.Anonymous && !row.Pattern.StartsWith("/webhooks/", StringComparison.Ordinal))
                {
                    challenges++;
                    if (answer.Challenge != "Basic realm=\"Builder\"")
                    {
                        mismatches.Add($"{row.Method} {request.Path} as {who}: 401 without the Basic challenge ({answer.Challenge})");
                    }
                }

                // Refusals say why: as problem details (HEAD answers have no body), on a page in its problem paragraph.
                if (expected is 401 or 403 or 404 && row.SendMethod != "HEAD" && (row.IsPage ? !answer.Body.Contains("class=\"problem\"", StringComparison.Ordinal) : string.IsNullOrWhiteSpace(answer.Detail)))
                {
                    mismatches.Add($"{row.Method} {request.Path} as {who}: {expected} without saying why: {answer}");
                }

                // A page asks anonymous visitors to sign in, and comes back to itself afterwards.
                if (expected == 302 && answer.Headers.Location?.OriginalString.StartsWith("/sign-in?returnUrl=", StringComparison.Ordinal) != true)
                {
                    mismatches.Add($"{row.Method} {request.Path} as {who}: 302 to {answer.Headers.Location}, not to the sign-in page");
                }
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cells} cells differ from the design:\n" + string.Join('\n', mismatches));
        Assert.Equal(Table.Length * whos.Length, cells);
        // Every API row but the four webhook rows, the two health rows, the CA's and the token exchange's challenges
        // anonymous requests: 59 of 67; the 12 pages redirect to the sign-in page (or are it) and the 2 asset rows are public.
        Assert.Equal(81, Table.Length);
        Assert.Equal(59, challenges);
    }

    private sealed record Req(string Path, Func<HttpContent>? Content = null, Action<HttpRequestMessage>? Configure = null);

    private sealed record Cell(Who Who, MatrixWorld World);

    private sealed record Row(string Method, string Pattern, Func<Cell, Task<Req>> Request, int[] Expected)
    {
        /// <summary>The method the cell sends (the pattern's, but GET for a page, which maps every method).</summary>
        public string SendMethod { get; init; } = Method;

        /// <summary>A UI page: HTML answers, a redirect to the sign-in page instead of a challenge.</summary>
        public bool IsPage { get; init; }
    }

    /// <summary>The data every cell reads: published releases, a build of acme-app 1.0, the principals' credentials.</summary>
    private sealed class MatrixWorld
    {
        private readonly AccessHost _host;
        private readonly Dictionary<Who, AuthenticationHeaderValue?> _credentials = [];
        private int _next;

        private MatrixWorld(AccessHost host) => _host = host;

        public long BuildId { get; private set; }

        public long RepositoryId { get; private set; }

        public long ReadersTokenId { get; private set; }

        public static async Task<MatrixWorld> CreateAsync(AccessHost host)
        {
            var world = new MatrixWorld(host);
            await host.PublishAsync(App, "1.0", sdist: true);
            await host.PublishAsync(App, "2.0");
            await host.PublishAsync("other-lib", "1.0");
            await host.PublishAsync("acme-mut", "1.0");

            await host.CreatePersonAsync("reader", "reader-password-1", new { role = "reader", projects = new[] { "acme-*" } });
            await host.CreatePersonAsync("norole", "norole-password-1");
            await host.CreatePersonAsync("patchme", "patchme-password-1");
            world._credentials[Who.Anonymous] = null;
            world._credentials[Who.ReadAcme] = (await host.CreateTokenAsync(new { name = "read-acme", scopes = new[] { "read" }, projects = new[] { "acme-*" } })).Basic;
            world._credentials[Who.ReadOther] = (await host.CreateTokenAsync(new { name = "read-other", scopes = new[] { "read" }, projects = new[] { "other-*" } })).Basic;
            world._credentials[Who.ReadAppV2] = (await host.CreateTokenAsync(new { name = "read-v2", scopes = new[] { "read" }, projects = new[] { App }, versions = ">=2" })).Basic;
            world._credentials[Who.UploadAcme] = (await host.CreateTokenAsync(new { name = "upload-acme", scopes = new[] { "upload" }, projects = new[] { "acme-*" } })).Basic;
            world._credentials[Who.AdminScoped] = (await host.CreateTokenAsync(new { name = "admin", scopes = new[] { "admin" } })).Bearer;
            world._credentials[Who.Bootstrap] = AccessHost.Admin;
            world._credentials[Who.Reader] = AccessHost.BasicOf("reader", "reader-password-1");
            world._credentials[Who.NoRole] = AccessHost.BasicOf("norole", "norole-password-1");
            world._credentials[Who.Metrics] = AccessHost.BearerOf(MetricsToken);
            world.ReadersTokenId = await world.FreshReadersTokenAsync();

            world.RepositoryId = await host.RegisterRepositoryAsync(Repository, WebhookSecret);
            world.BuildId = await host.CreateBuildAsync(Repository, WebhookSecret, "v1.0", App, "1.0");
            return world;
        }

        public AuthenticationHeaderValue? Credentials(Who who) => _credentials[who];

        public int Next() => Interlocked.Increment(ref _next);

        /// <summary>A token the reader owns, made by the admin.</summary>
        public async Task<long> FreshReadersTokenAsync() =>
            (await _host.CreateTokenAsync(new { name = $"readers-{Next()}", scopes = new[] { "read" }, owner = "reader" })).Id;

        public async Task<string> FreshReleaseAsync(string project)
        {
            var version = $"1.{Next()}";
            await _host.PublishAsync(project, version);
            return version;
        }

        public Task<string> FreshFileAsync(string project) => _host.PublishAsync(project, $"1.{Next()}");

        public Task<Req> UploadRequest()
        {
            var version = $"1.{Next()}";
            var wheel = _host.WheelFile("acme-up", version);
            return Task.FromResult(new Req("/legacy/", () => LegacyUpload.Twine(wheel, "acme-up", version).ToContent()));
        }

        public static Task<Req> GitLabWebhookRequest()
        {
            var payload = """{"object_kind":"tag_push","ref":"refs/tags/v1.0.0","before":"0000000000000000000000000000000000000000","after":"82b3d5ae55f7080f1e6022629cdb57bfae7cccc7","checkout_sha":"82b3d5ae55f7080f1e6022629cdb57bfae7cccc7","project":{"path_with_namespace":"acme/matrix-gitlab","web_url":"http://gitlab.example.invalid/acme/matrix-gitlab"}}"""u8.ToArray();
            return Task.FromResult(new Req(
                "/webhooks/gitlab",
                () => new ByteArrayContent(payload) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
                r =>
                {
                    r.Headers.Add("X-Gitlab-Event", "Tag Push Hook");
                    r.Headers.Add("X-Gitlab-Token", "some-token-of-sixteen-plus");
                }));
        }

        public static Task<Req> GiteaWebhookRequest()
        {
            var payload = System.Text.Encoding.UTF8.GetBytes(BuilderClient.PushPayload("acme/matrix-gitea", "refs/tags/v1.0.0", new string('0', 40), new string('a', 40)));
            return Task.FromResult(new Req(
                "/webhooks/gitea",
                () => new ByteArrayContent(payload) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
                r =>
                {
                    r.Headers.Add("X-Gitea-Event", "push");
                    r.Headers.Add("X-Gitea-Signature", Convert.ToHexStringLower(new byte[32]));
                }));
        }

        public static Task<Req> WebhookRequest(bool signed)
        {
            var payload = System.Text.Encoding.UTF8.GetBytes(BuilderClient.PushPayload(Repository, "refs/tags/v-matrix", new string('0', 40), new string('a', 40)));
            var signature = Builder.Core.Webhooks.WebhookSignature.Compute(signed ? WebhookSecret : "not-the-webhook-secret-at-all", payload);
            return Task.FromResult(new Req(
                "/webhooks/github",
                () => new ByteArrayContent(payload) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
                r =>
                {
                    r.Headers.Add("X-GitHub-Event", "push");
                    r.Headers.Add("X-Hub-Signature-256", signature);
                }));
        }
    }
}
