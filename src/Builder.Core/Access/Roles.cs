using System.Text.Json;
using System.Text.Json.Serialization;

namespace Builder.Core.Access;

/// <summary>A person's role: admin (everything), publisher (read and upload) or reader (read), over project globs (none: all).</summary>
public sealed record RoleGrant(string Role, IReadOnlyList<string>? Projects = null);

public static class Roles
{
    public const string Admin = "admin";
    public const string Publisher = "publisher";
    public const string Reader = "reader";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Checks and normalizes roles (globs normalized; "admin" takes no projects).</summary>
    public static bool TryNormalize(IEnumerable<RoleGrant>? roles, out List<RoleGrant> normalized, out string? error)
    {
        normalized = [];
        error = null;
        foreach (var role in roles ?? [])
        {
            if (role is null)
            {
                error = "each role is an object: {\"role\": \"reader\", \"projects\": [\"acme-*\"]}, not null";
                return false;
            }

            var name = role.Role?.Trim().ToLowerInvariant();
            if (name is not (Admin or Publisher or Reader))
            {
                error = $"unknown role '{role.Role}'; roles are admin, publisher and reader";
                return false;
            }

            if (!ProjectGlobs.TryParse(role.Projects, out var globs, out var globError))
            {
                error = $"role {name}: {globError}";
                return false;
            }

            if (name == Admin && !globs.IsAll)
            {
                error = "the admin role is not limited to projects";
                return false;
            }

            normalized.Add(new RoleGrant(name, globs.IsAll ? null : globs.Patterns));
        }

        return true;
    }

    public static AccessRights RightsOf(IEnumerable<RoleGrant> roles)
    {
        var grants = new List<Grant>();
        foreach (var role in roles)
        {
            var globs = ProjectGlobs.TryParse(role.Projects, out var parsed, out _) ? parsed : ProjectGlobs.All;
            switch (role.Role)
            {
                case Admin:
                    grants.Add(new Grant(AccessScope.Admin, ProjectGlobs.All));
                    break;
                case Publisher:
                    grants.Add(new Grant(AccessScope.Read, globs));
                    grants.Add(new Grant(AccessScope.Upload, globs));
                    break;
                case Reader:
                    grants.Add(new Grant(AccessScope.Read, globs));
                    break;
            }
        }

        return new AccessRights(grants);
    }

    public static string Serialize(IEnumerable<RoleGrant> roles) => JsonSerializer.Serialize(roles, Json);

    public static List<RoleGrant> Deserialize(string stored) => JsonSerializer.Deserialize<List<RoleGrant>>(stored, Json) ?? [];
}
