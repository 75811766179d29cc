using System.Globalization;

namespace Builder.Core.Builds;

/// <summary>
/// The addresses Builder serves a build and a distribution file at, relative to its base URL: the web routes and
/// whatever links to them from elsewhere (commit statuses, release links) take them from here.
/// </summary>
public static class PublicRoutes
{
    public static string Build(long id) => $"/api/builds/{id.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A build's page in the web UI (its log in sections).</summary>
    public static string BuildPage(long id) => $"/builds/{id.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A build's raw log, only the lines of <paramref name="target"/> (a cibuildwheel identifier, or <c>sdist</c>).</summary>
    public static string BuildLog(long id, string target) => $"{Build(id)}/log?follow=false&target={Uri.EscapeDataString(target)}";

    public static string File(string project, string filename) => $"/files/{project}/{Uri.EscapeDataString(filename)}";

    /// <summary>What follows a distribution's URL to make its core metadata's (PEP 658): <c>{file URL}.metadata</c>.</summary>
    public const string MetadataSuffix = ".metadata";

    /// <summary>A file's address relative to the index page that links it (<c>/simple/{project}/</c>).</summary>
    public static string FileFromProjectPage(string project, string filename) => "../.." + File(project, filename);

    /// <summary>A file's provenance object (PEP 740's Integrity API): <c>/integrity/{project}/{version}/{filename}/provenance</c>.</summary>
    public static string Provenance(string project, string version, string filename) =>
        $"/integrity/{project}/{Uri.EscapeDataString(version)}/{Uri.EscapeDataString(filename)}/provenance";

    /// <summary>A file's provenance address relative to the index page that links it (<c>/simple/{project}/</c>).</summary>
    public static string ProvenanceFromProjectPage(string project, string version, string filename) => "../.." + Provenance(project, version, filename);

    /// <summary>The route under a base URL that may have a path of its own (https://example.com/builder/).</summary>
    public static Uri Under(Uri baseUrl, string route) => new(baseUrl, route.TrimStart('/'));
}
