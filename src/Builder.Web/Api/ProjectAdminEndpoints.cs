using System.Text.Json;
using Builder.Index;
using Builder.Index.Upstream;
using Builder.Web.Access;
using Builder.Web.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Builder.Web.Api;

public sealed record YankRequest(string? Reason);

/// <summary><c>PATCH /api/projects/{name}</c>: <c>quotaBytes</c> a number, or null for the server's quota (absent: a 400).</summary>
public sealed record ProjectSettingsRequest(JsonElement QuotaBytes);

/// <summary>
/// <c>GET /api/usage</c>: the published bytes and files of every project, with their quotas; the upstream proxy's cache
/// (with its limit, <c>Builder:Upstream:CacheBytes</c>) and builds' staging, as the store lists them.
/// </summary>
public sealed record UsageView(
    long PublishedBytes, int PublishedFiles, long? DefaultQuotaBytes, IReadOnlyList<ProjectUsage> Projects, StoredUsageView UpstreamCache, StoredUsageView Staging);

/// <summary>Files and bytes of one kind of stored object; <c>limitBytes</c> where a limit applies.</summary>
public sealed record StoredUsageView(long Files, long Bytes, long? LimitBytes = null);

/// <summary>
/// Admin routes on projects: yank and unyank (PEP 592) a release or one file, and delete (<see cref="ReleaseAdmin"/>);
/// a project's settings (its quota) and every project's usage (<see cref="ProjectQuotas"/>).
/// </summary>
internal static class ProjectAdminEndpoints
{
    public const string Projects = "/api/projects/{project}";
    public const string Usage = "/api/usage";

    public static void MapProjectAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Projects).AddEndpointFilter<RequireAdmin>();
        group.MapPost("/releases/{version}/yank", (string project, string version, YankRequest? body, HttpContext http, ReleaseAdmin admin, CancellationToken ct) =>
            Answer(admin.SetYankedAsync(project, version, null, true, body?.Reason, http.Actor(), ct)));
        group.MapPost("/releases/{version}/unyank", (string project, string version, HttpContext http, ReleaseAdmin admin, CancellationToken ct) =>
            Answer(admin.SetYankedAsync(project, version, null, false, null, http.Actor(), ct)));
        group.MapPost("/files/{filename}/yank", (string project, string filename, YankRequest? body, HttpContext http, ReleaseAdmin admin, CancellationToken ct) =>
            Answer(admin.SetYankedAsync(project, null, filename, true, body?.Reason, http.Actor(), ct)));
        group.MapPost("/files/{filename}/unyank", (string project, string filename, HttpContext http, ReleaseAdmin admin, CancellationToken ct) =>
            Answer(admin.SetYankedAsync(project, null, filename, false, null, http.Actor(), ct)));
        group.MapDelete("/releases/{version}", (string project, string version, HttpContext http, ReleaseAdmin admin, CancellationToken ct) =>
            Answer(admin.DeleteAsync(project, version, null, http.Actor(), ct)));
        group.MapDelete("/files/{filename}", (string project, string filename, HttpContext http, ReleaseAdmin admin, CancellationToken ct) =>
            Answer(admin.DeleteAsync(project, null, filename, http.Actor(), ct)));
        app.MapPatch(Projects, SetSettingsAsync).AddEndpointFilter<RequireAdmin>();
        app.MapGet(Usage, async (ProjectQuotas quotas, PackageArtifacts artifacts, IOptions<UpstreamOptions> upstream, CancellationToken ct) =>
        {
            var projects = await quotas.AllAsync(ct);
            var stored = await artifacts.MeasureAsync(ct);
            return TypedResults.Ok(new UsageView(
                projects.Sum(p => p.Bytes), projects.Sum(p => p.Files), quotas.ServerQuota, projects,
                new StoredUsageView(stored.Upstream.Files, stored.Upstream.Bytes, upstream.Value.CacheBytes),
                new StoredUsageView(stored.Staging.Files, stored.Staging.Bytes)));
        }).AddEndpointFilter<RequireAdmin>();
    }

    private static async Task<Results<Ok<ProjectUsage>, ProblemHttpResult>> SetSettingsAsync(
        string project, ProjectSettingsRequest? body, HttpContext http, ProjectSettingsAdmin settings, CancellationToken cancellationToken)
    {
        long? quota;
        switch (body?.QuotaBytes.ValueKind)
        {
            case JsonValueKind.Null:
                quota = null;
                break;
            case JsonValueKind.Number when body.QuotaBytes.TryGetInt64(out var bytes):
                quota = bytes;
                break;
            default:
                return Problems.BadRequest("the body must set \"quotaBytes\": the most bytes the project's files may take (a whole number, 0 or more), or null for the server's quota");
        }

        var result = await settings.SetQuotaAsync(project.Trim(), quota, http.Actor(), cancellationToken);
        return result.Usage is { } usage ? TypedResults.Ok(usage) : Problems.Of(result.Status, result.Problem!);
    }

    private static async Task<Results<Ok<FilesChanged>, ProblemHttpResult>> Answer(Task<FilesChangeResult> action)
    {
        var result = await action;
        return result.Changed is { } changed ? TypedResults.Ok(changed) : Problems.Of(result.Status, result.Problem!);
    }
}
