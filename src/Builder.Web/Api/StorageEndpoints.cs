using Builder.Index.Collection;
using Builder.Web.Access;
using Builder.Web.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Builder.Web.Api;

/// <summary>Admin routes on the artifact store: garbage collection now (<see cref="StorageCollector"/>), or a dry run that lists what it would remove.</summary>
internal static class StorageEndpoints
{
    public const string Gc = "/api/storage/gc";

    public static void MapStorageAdmin(this IEndpointRouteBuilder app)
    {
        app.MapPost(Gc, async Task<Results<Ok<GcReport>, ProblemHttpResult>> (bool? dryRun, HttpContext http, StorageCollector collector, CancellationToken ct) =>
            await collector.RunAsync(dryRun ?? false, http.Actor(), ct) is { } report
                ? TypedResults.Ok(report)
                : Problems.Of(StatusCodes.Status409Conflict, "a garbage collection is running already (scheduled, or another admin's); ask again when it has finished"))
            .AddEndpointFilter<RequireAdmin>();
    }
}
