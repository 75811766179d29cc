using Builder.Core.Access;
using Builder.Data;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Access;

/// <summary>What the audit log is filtered by (<c>GET /api/audit</c> and the audit page alike).</summary>
/// <param name="Action">Exact, or a prefix ending in ':' (<c>token:</c>).</param>
/// <param name="Before">Keyset paging: events older than this id.</param>
public sealed record AuditFilter(string? Principal, string? Project, string? Action, DateTimeOffset? Since, DateTimeOffset? Until, long? Before);

/// <summary>Reads the audit log newest first: the one query behind the API route and the page.</summary>
internal static class AuditQuery
{
    /// <returns>At most <paramref name="size"/> events, and the id to continue before when there are more.</returns>
    public static async Task<(List<AuditEvent> Events, long? NextBefore)> ReadAsync(BuilderDbContext db, AuditFilter filter, int size, CancellationToken cancellationToken)
    {
        var query = db.Audit.AsNoTracking().AsQueryable();
        if (filter.Principal is { Length: > 0 } principal)
        {
            query = query.Where(e => e.Principal == principal);
        }

        if (filter.Project is { Length: > 0 } project)
        {
            var normalized = Builder.Core.Packaging.PackageName.Normalize(project);
            query = query.Where(e => e.Project == normalized);
        }

        if (filter.Action is { Length: > 0 } action)
        {
            query = action.EndsWith(':') ? query.Where(e => e.Action.StartsWith(action)) : query.Where(e => e.Action == action);
        }

        if (filter.Before is { } before)
        {
            query = query.Where(e => e.Id < before);
        }

        if (filter.Since is { } from)
        {
            query = query.Where(e => e.At >= from);
        }

        if (filter.Until is { } to)
        {
            query = query.Where(e => e.At <= to);
        }

        var events = await query.OrderByDescending(e => e.Id).Take(size + 1).ToListAsync(cancellationToken);
        if (events.Count <= size)
        {
            return (events, null);
        }

        events.RemoveAt(size);
        return (events, events[^1].Id);
    }
}
