using Builder.Index.Retention;
using Builder.Web.Access;
using Builder.Web.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Builder.Web.Api;

/// <summary>Retention policies (admin): create, list, remove, preview what one would do now, and run one now (<see cref="RetentionPolicies"/>).</summary>
internal static class RetentionEndpoints
{
    public const string Policies = "/api/retention-policies";

    public static void MapRetentionPolicies(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Policies).AddEndpointFilter<RequireAdmin>();
        group.MapPost("/", async Task<Results<Created<RetentionPolicyView>, ProblemHttpResult>> (
            RetentionPolicyRequest? body, HttpContext http, RetentionPolicies policies, CancellationToken ct) =>
        {
            var result = await policies.CreateAsync(body, http.Actor(), ct);
            return result.Value is { } view ? TypedResults.Created($"{Policies}/{view.Id}", view) : Problems.Of(result.Status, result.Problem!);
        });
        group.MapGet("/", async (RetentionPolicies policies, CancellationToken ct) => TypedResults.Ok(await policies.ListAsync(ct)));
        group.MapDelete("/{id:long}", async (long id, HttpContext http, RetentionPolicies policies, CancellationToken ct) =>
            Answer(await policies.DeleteAsync(id, http.Actor(), ct)));
        group.MapGet("/{id:long}/preview", async (long id, RetentionPolicies policies, CancellationToken ct) =>
            Answer(await policies.PreviewAsync(id, ct)));
        group.MapPost("/{id:long}/run", async (long id, HttpContext http, RetentionPolicies policies, CancellationToken ct) =>
            Answer(await policies.RunAsync(id, http.Actor(), ct)));
    }

    private static Results<Ok<T>, ProblemHttpResult> Answer<T>(RetentionResult<T> result)
        where T : class =>
        result.Value is { } value ? TypedResults.Ok(value) : Problems.Of(result.Status, result.Problem!);
}
