using Builder.Access;
using Builder.Core.Index;
using Builder.Core.Packaging;
using Builder.Data;
using Builder.Index;
using Builder.Web.Access;
using Builder.Web.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Upstream;

/// <summary>Body of <c>POST /api/upstream/allow</c> and <c>POST /api/upstream/reserve</c> (reserve takes no version).</summary>
public sealed record UpstreamRuleRequest(string? Project, string? Version, string? Reason);

public sealed record UpstreamRuleView(long Id, string Kind, string Project, string? Version, string Reason, string CreatedBy, DateTimeOffset CreatedAt)
{
    public static UpstreamRuleView From(UpstreamRule rule) => new(rule.Id, rule.Kind, rule.Project, rule.Version, rule.Reason, rule.CreatedBy, rule.CreatedAt);
}

/// <summary>Admin decisions about names on the upstream proxy: allow an overlap or one young version, reserve a name; each audited.</summary>
internal static class UpstreamEndpoints
{
    private const string Prefix = "/api/upstream";
    private const string AllowPath = "/allow";
    private const string ReservePath = "/reserve";
    private const string RulesPath = "/rules";
    public const string Allow = Prefix + AllowPath;
    public const string Reserve = Prefix + ReservePath;
    public const string Rules = Prefix + RulesPath;

    private const int MaxReason = 500;

    public static void MapUpstreamAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix).AddEndpointFilter<RequireAdmin>();
        group.MapPost(AllowPath, (UpstreamRuleRequest? body, HttpContext http, BuilderDbContext db, AuditLog audit, ProjectChanges changes, TimeProvider time, CancellationToken ct) =>
            AddAsync(body, version: true, http, db, audit, changes, time, ct));
        group.MapPost(ReservePath, (UpstreamRuleRequest? body, HttpContext http, BuilderDbContext db, AuditLog audit, ProjectChanges changes, TimeProvider time, CancellationToken ct) =>
            AddAsync(body, version: false, http, db, audit, changes, time, ct));
        group.MapGet(RulesPath, async (string? project, BuilderDbContext db, CancellationToken ct) =>
        {
            var query = db.UpstreamRules.AsNoTracking();
            if (!string.IsNullOrWhiteSpace(project))
            {
                var normalized = PackageName.Normalize(project.Trim());
                query = query.Where(r => r.Project == normalized);
            }

            return TypedResults.Ok((await query.OrderBy(r => r.Id).ToListAsync(ct)).Select(UpstreamRuleView.From).ToList());
        });
        group.MapDelete(RulesPath + "/{id:long}", RemoveAsync);
    }

    private static async Task<Results<Created<UpstreamRuleView>, Ok<UpstreamRuleView>, ProblemHttpResult>> AddAsync(
        UpstreamRuleRequest? body, bool version, HttpContext http, BuilderDbContext db, AuditLog audit, ProjectChanges changes, TimeProvider time, CancellationToken cancellationToken)
    {
        var route = version ? Allow : Reserve;
        if (body?.Project is not { } project || !PackageName.IsValid(project.Trim()))
        {
            return Problems.BadRequest($"{route} needs \"project\": a valid project name (it is '{body?.Project}')");
        }

        if (string.IsNullOrWhiteSpace(body.Reason) || body.Reason.Trim().Length > MaxReason)
        {
            return Problems.BadRequest($"{route} needs \"reason\": why, in at most {MaxReason} characters (it is recorded in the audit log)");
        }

        string? normalizedVersion = null;
        if (body.Version is not null)
        {
            if (!version)
            {
                return Problems.BadRequest($"{Reserve} reserves a whole name: it takes no \"version\"");
            }

            if (!Pep440Version.TryNormalize(body.Version.Trim(), out var parsed))
            {
                return Problems.BadRequest($"\"version\" must be a PEP 440 version (it is '{body.Version}')");
            }

            normalizedVersion = parsed;
        }

        var normalized = PackageName.Normalize(project.Trim());
        var kind = !version ? UpstreamRuleKinds.Reserve : normalizedVersion is null ? UpstreamRuleKinds.Overlap : UpstreamRuleKinds.Early;
        var existing = await db.UpstreamRules.FirstOrDefaultAsync(r => r.Project == normalized && r.Kind == kind && r.Version == normalizedVersion, cancellationToken);
        if (existing is not null)
        {
            return TypedResults.Ok(UpstreamRuleView.From(existing));
        }

        var actor = http.Actor();
        var rule = new UpstreamRule
        {
            Kind = kind,
            Project = normalized,
            Version = normalizedVersion,
            Reason = body.Reason.Trim(),
            CreatedBy = actor.Principal,
            CreatedAt = time.GetUtcNow(),
        };
        db.UpstreamRules.Add(rule);
        var (action, what) = kind switch
        {
            UpstreamRuleKinds.Reserve => (AuditActions.UpstreamReserved, "reserved: never fetched from upstream"),
            UpstreamRuleKinds.Overlap => (AuditActions.UpstreamAllowed, "upstream files allowed beside the private ones"),
            _ => (AuditActions.UpstreamAllowed, $"upstream version {normalizedVersion} allowed before the cooldown"),
        };
        audit.Add(db, actor, action, AuditOutcomes.Ok, normalized, "upstream:" + kind + (normalizedVersion is null ? string.Empty : ":" + normalizedVersion), $"{what} (reason: {rule.Reason})");
        await changes.SaveAsync(db, normalized, cancellationToken);
        return TypedResults.Created($"{Rules}/{rule.Id}", UpstreamRuleView.From(rule));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(long id, HttpContext http, BuilderDbContext db, AuditLog audit, ProjectChanges changes, CancellationToken cancellationToken)
    {
        var rule = await db.UpstreamRules.FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (rule is null)
        {
            return Problems.NotFound($"no upstream rule {id}");
        }

        db.UpstreamRules.Remove(rule);
        audit.Add(db, http.Actor(), AuditActions.UpstreamRuleRemoved, AuditOutcomes.Ok, rule.Project, "upstream:" + rule.Kind + (rule.Version is null ? string.Empty : ":" + rule.Version),
            $"rule {id} removed (it said: {rule.Reason})");
        await changes.SaveAsync(db, rule.Project, cancellationToken);
        return TypedResults.NoContent();
    }

}
