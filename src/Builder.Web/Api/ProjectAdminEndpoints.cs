using Builder.Index;
using Builder.Web.Access;
using Builder.Web.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Builder.Web.Api;

public sealed record YankRequest(string? Reason);

/// <summary>Admin routes on published files: yank and unyank (PEP 592) a release or one file, and delete (<see cref="ReleaseAdmin"/>).</summary>
internal static class ProjectAdminEndpoints
{
    public const string Projects = "/api/projects/{project}";

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
    }

    private static async Task<Results<Ok<FilesChanged>, ProblemHttpResult>> Answer(Task<FilesChangeResult> action)
    {
        var result = await action;
        return result.Changed is { } changed ? TypedResults.Ok(changed) : Problems.Of(result.Status, result.Problem!);
    }
}
