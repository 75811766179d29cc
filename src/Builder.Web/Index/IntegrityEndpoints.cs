using Builder.Access.Provenance;
using Builder.Core.Packaging;
using Builder.Data;
using Builder.Index;
using Builder.Web.Access;
using Builder.Web.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace Builder.Web.Index;

/// <summary>
/// PEP 740's Integrity API: each file's provenance object (its signed attestations and who published it), with the
/// file's own access rule, and the CA certificate that verifies them, which anyone may fetch and pin.
/// </summary>
internal static class IntegrityEndpoints
{
    public const string Provenance = "/integrity/{project}/{version}/{filename}/provenance";
    public const string CertificateAuthority = "/api/provenance/ca.pem";

    public static void MapIntegrity(this IEndpointRouteBuilder app)
    {
        app.MapMethods(Provenance, ["GET", "HEAD"], ProvenanceAsync);
        app.MapGet(CertificateAuthority, CertificateAuthorityAsync);
    }

    private static async Task<IResult> ProvenanceAsync(string project, string version, string filename, HttpContext context, IndexCache cache, BuilderDbContext db,
        CancellationToken cancellationToken)
    {
        var principal = context.Principal();
        if (!principal.MayBrowse)
        {
            return RequestPrincipal.Challenge();
        }

        if (Negotiate(context.Request) is not { } contentType)
        {
            return Problems.Of(StatusCodes.Status406NotAcceptable, $"provenance is served as {Attestations.MediaType} or application/json");
        }

        // One answer for a file that does not exist, one without provenance (uploaded, imported) and one the principal
        // may not read: nothing tells them apart.
        var access = principal.Rights.Read(project);
        var pages = access.Any && PackageName.Normalize(project) == project ? await cache.GetProjectAsync(project, cancellationToken) : null;
        if (pages is null || !pages.Files.TryGetValue(filename, out var file) || file.Upstream || file.Version != version || !access.Allows(file.Version)
            || await db.Provenance.AsNoTracking().Where(p => p.Filename == filename).Select(p => p.Json).FirstOrDefaultAsync(cancellationToken) is not { } json)
        {
            return Problems.NotFound($"no provenance for '{filename}' of {project} {version}");
        }

        // A file's provenance never changes, like the file: cached as the file is.
        context.Response.Headers.CacheControl = principal.IsAnonymous ? IndexEndpoints.PublicFileCacheControl : IndexEndpoints.PrivateFileCacheControl;
        context.Response.Headers.Vary = HeaderNames.Accept;
        return TypedResults.Text(json, contentType);
    }

    private static async Task<IResult> CertificateAuthorityAsync(ProvenanceKeys keys, CancellationToken cancellationToken)
    {
        var ca = await keys.CertificateAuthorityAsync(cancellationToken);
        return TypedResults.Text(ca.ExportCertificatePem() + "\n", "application/x-pem-file");
    }

    /// <summary>PEP 740's media type, or <c>application/json</c> when that is what the client asks for; null when it accepts neither.</summary>
    private static string? Negotiate(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0)
        {
            return Attestations.MediaType;
        }

        string? chosen = null;
        double quality = 0;
        foreach (var range in accept)
        {
            var q = range.Quality ?? 1;
            var type = range.MediaType.Value;
            var candidate = type switch
            {
                Attestations.MediaType => Attestations.MediaType,
                "application/json" => "application/json",
                "*/*" or "application/*" => Attestations.MediaType,
                _ => null,
            };
            if (candidate is not null && q > quality)
            {
                (chosen, quality) = (candidate, q);
            }
        }

        return chosen;
    }
}
