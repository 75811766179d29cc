using System.Text;
using System.Text.Json.Nodes;
using Builder.Core.Builds;
using Builder.Core.Packaging;
using Builder.Data;
using Builder.Index;
using Builder.Web.Access;
using Builder.Web.Http;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Index;

/// <summary>
/// Warehouse's JSON API (<c>/pypi/{project}/json</c>, <c>/pypi/{project}/{version}/json</c>) in its shape, for
/// Renovate, Dependabot, poetry's show commands and scripts written against PyPI.
/// </summary>
internal static class PypiJsonEndpoints
{
    public const string Project = "/pypi/{project}/json";
    public const string Release = "/pypi/{project}/{version}/json";

    public static void MapPypiJson(this IEndpointRouteBuilder app)
    {
        app.MapGet(Project, (string project, HttpContext context, BuilderDbContext db, PackageArtifacts artifacts, CancellationToken ct) =>
            RenderAsync(project, null, context, db, artifacts, ct));
        app.MapGet(Release, (string project, string version, HttpContext context, BuilderDbContext db, PackageArtifacts artifacts, CancellationToken ct) =>
            RenderAsync(project, version, context, db, artifacts, ct));
    }

    private static async Task<IResult> RenderAsync(string project, string? version, HttpContext context, BuilderDbContext db, PackageArtifacts artifacts, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var principal = context.Principal();
        if (!principal.MayBrowse)
        {
            return RequestPrincipal.Challenge();
        }

        var normalized = PackageName.Normalize(project);
        var normalizedVersion = version;
        if (version is not null && !Pep440Version.TryNormalize(version, out normalizedVersion))
        {
            return Problems.NotFound($"'{version}' is not a PEP 440 version");
        }

        if (normalized != project || normalizedVersion != version)
        {
            var path = version is null ? $"/pypi/{normalized}/json" : $"/pypi/{normalized}/{normalizedVersion}/json";
            return TypedResults.Redirect(path, permanent: true);
        }

        // Releases the principal may not read are left out as if they did not exist; a project with none visible is a 404.
        var access = principal.Rights.Read(normalized);
        var files = access.Any
            ? (await db.Files.AsNoTracking().Where(f => f.Project == normalized && f.DeletedAt == null).ToListAsync(cancellationToken)).Where(f => access.Allows(f.Version)).ToList()
            : [];
        if (files.Count == 0)
        {
            return IndexEndpoints.NoSuchProject(normalized);
        }

        var releases = files.GroupBy(f => f.Version).ToDictionary(g => g.Key, g => g.OrderBy(f => f.Filename, StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var chosen = normalizedVersion ?? LatestVersion(releases);
        if (!releases.TryGetValue(chosen, out var chosenFiles))
        {
            return Problems.NotFound($"project '{normalized}' has no release {chosen}");
        }

        var baseUrl = $"{request.Scheme}://{request.Host}{request.PathBase}";
        var metadata = await ReadMetadataAsync(chosenFiles, artifacts, cancellationToken);
        var result = new JsonObject
        {
            ["info"] = Info(normalized, chosen, chosenFiles, metadata, baseUrl),
            ["last_serial"] = files.Max(f => f.Id),
            ["urls"] = new JsonArray([.. chosenFiles.Select(f => FileJson(f, baseUrl))]),
            ["vulnerabilities"] = new JsonArray(),
        };
        if (version is null)
        {
            // Warehouse lists "releases" only on the project endpoint.
            var all = new JsonObject();
            foreach (var v in releases.Keys.Order(Pep440Comparer.Instance))
            {
                all[v] = new JsonArray([.. releases[v].Select(f => FileJson(f, baseUrl))]);
            }

            result["releases"] = all;
        }

        return TypedResults.Text(result.ToJsonString(), "application/json", Encoding.UTF8);
    }

    /// <summary>As Warehouse: the newest release that is neither yanked (every file yanked) nor a pre-release; failing that, the newest.</summary>
    private static string LatestVersion(Dictionary<string, List<PackageFile>> releases) =>
        Pep440Comparer.Latest(releases.Keys.Select(v => new ParsedVersion(v)), v => v, v => releases[v.Text].All(f => f.Yanked))!.Text;

    private static async Task<CoreMetadataDocument?> ReadMetadataAsync(List<PackageFile> files, PackageArtifacts artifacts, CancellationToken cancellationToken)
    {
        // A wheel's PEP 658 sidecar is the METADATA file itself; an sdist-only release has its PKG-INFO read from the archive.
        if (files.FirstOrDefault(f => f.MetadataSha256 is not null) is { } wheel
            && await artifacts.OpenMetadataAsync(wheel.Project, wheel.Filename, cancellationToken) is { } sidecar)
        {
            await using var stream = sidecar.Stream;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return CoreMetadataDocument.Parse(await reader.ReadToEndAsync(cancellationToken));
        }

        var sdist = files.FirstOrDefault(f => f.Filename.EndsWith(".tar.gz", StringComparison.Ordinal) || f.Filename.EndsWith(".zip", StringComparison.Ordinal));
        if (sdist is null || !DistributionFilename.TryParse(sdist.Filename, out var name) || name is null)
        {
            return null;
        }

        // The archive is read from a file: the store's own, or a temporary copy of it.
        var path = artifacts.LocalPath(new ServedArtifact(sdist.Project, sdist.Filename, Metadata: false));
        string? copy = null;
        try
        {
            if (path is null)
            {
                if (await artifacts.OpenFileAsync(sdist.Project, sdist.Filename, cancellationToken) is not { } content)
                {
                    return null;
                }

                copy = path = Path.Combine(Path.GetTempPath(), $"builder-sdist-{Guid.NewGuid():N}-{sdist.Filename}");
                await using (content.Stream)
                await using (var file = File.Create(copy))
                {
                    await content.Stream.CopyToAsync(file, cancellationToken);
                }
            }

            var read = await DistributionReader.ReadAsync(path, name, cancellationToken);
            return CoreMetadataDocument.Parse(Encoding.UTF8.GetString(read.Raw));
        }
        catch (InvalidDistributionException)
        {
            return null;
        }
        finally
        {
            if (copy is not null)
            {
                File.Delete(copy);
            }
        }
    }

    private static JsonObject Info(string project, string version, List<PackageFile> files, CoreMetadataDocument? metadata, string baseUrl)
    {
        string? Field(string name) => metadata?.Get(name) is { Length: > 0 } value ? value : null;
        JsonArray? Many(string name) => metadata?.GetAll(name) is { Count: > 0 } values ? new JsonArray([.. values.Select(v => (JsonNode)v)]) : null;

        JsonObject? projectUrls = null;
        if (metadata?.GetAll("Project-URL") is { Count: > 0 } urls)
        {
            projectUrls = [];
            foreach (var entry in urls)
            {
                var comma = entry.IndexOf(',', StringComparison.Ordinal);
                if (comma > 0)
                {
                    projectUrls[entry[..comma].Trim()] = entry[(comma + 1)..].Trim();
                }
            }
        }

        var yanked = files.All(f => f.Yanked);
        return new JsonObject
        {
            ["author"] = Field("Author") ?? string.Empty,
            ["author_email"] = Field("Author-email") ?? string.Empty,
            ["bugtrack_url"] = null,
            ["classifiers"] = Many("Classifier") ?? [],
            ["description"] = metadata?.Description ?? string.Empty,
            ["description_content_type"] = Field("Description-Content-Type"),
            ["docs_url"] = null,
            ["download_url"] = Field("Download-URL") ?? string.Empty,
            ["downloads"] = new JsonObject { ["last_day"] = -1, ["last_month"] = -1, ["last_week"] = -1 },
            ["home_page"] = Field("Home-page") ?? string.Empty,
            ["keywords"] = Field("Keywords") ?? string.Empty,
            ["license"] = Field("License") ?? string.Empty,
            ["maintainer"] = Field("Maintainer") ?? string.Empty,
            ["maintainer_email"] = Field("Maintainer-email") ?? string.Empty,
            ["name"] = Field("Name") ?? project,
            ["package_url"] = $"{baseUrl}/project/{project}/",
            ["platform"] = Field("Platform"),
            ["project_url"] = $"{baseUrl}/project/{project}/",
            ["project_urls"] = projectUrls,
            ["provides_extra"] = Many("Provides-Extra"),
            ["release_url"] = $"{baseUrl}/project/{project}/{version}/",
            ["requires_dist"] = Many("Requires-Dist"),
            ["requires_python"] = files.Select(f => f.RequiresPython).FirstOrDefault(r => r is not null) ?? string.Empty,
            ["summary"] = Field("Summary") ?? string.Empty,
            ["version"] = version,
            ["yanked"] = yanked,
            ["yanked_reason"] = yanked ? files.Select(f => f.YankedReason).FirstOrDefault(r => r is not null) : null,
        };
    }

    private static JsonObject FileJson(PackageFile file, string baseUrl)
    {
        var wheel = DistributionFilename.TryParse(file.Filename, out var name) && name!.Kind == DistributionKind.Wheel;
        return new JsonObject
        {
            ["comment_text"] = string.Empty,
            ["digests"] = new JsonObject { ["sha256"] = file.Sha256 },
            ["downloads"] = -1,
            ["filename"] = file.Filename,
            ["has_sig"] = false,
            ["md5_digest"] = null,
            ["packagetype"] = wheel ? "bdist_wheel" : "sdist",
            ["python_version"] = wheel ? name!.PythonTag : "source",
            ["requires_python"] = file.RequiresPython,
            ["size"] = file.Size,
            ["upload_time"] = file.UploadedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
            ["upload_time_iso_8601"] = IndexPages.UploadTime(file.UploadedAt),
            ["url"] = baseUrl + PublicRoutes.File(file.Project, file.Filename),
            ["yanked"] = file.Yanked,
            ["yanked_reason"] = file.Yanked ? file.YankedReason : null,
        };
    }
}
