using System.Net;
using System.Text;
using Builder.Core.Builds;
using Builder.Core.Packaging;
using Builder.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Builder.Web.Index;

/// <summary>The PEP 503 simple repository API and the files its pages link to.</summary>
internal static class IndexEndpoints
{
    public const string Root = "/simple/";
    public const string Project = "/simple/{project}/";
    public const string File = "/files/{project}/{filename}";

    public static string FileRoute(string project, string filename) => $"/files/{project}/{Uri.EscapeDataString(filename)}";

    public static void MapSimpleIndex(this IEndpointRouteBuilder app)
    {
        app.MapGet(Root, RootAsync);
        app.MapGet(Project, ProjectAsync);
        app.MapMethods(File, ["GET", "HEAD"], FileAsync);
    }

    private static async Task<IResult> RootAsync(BuilderDbContext db, CancellationToken cancellationToken)
    {
        var projects = await db.Files.AsNoTracking().Select(f => f.Project).Distinct().OrderBy(p => p).ToListAsync(cancellationToken);
        var html = new StringBuilder(Header("Simple index"));
        foreach (var project in projects)
        {
            html.Append("<a href=\"").Append(Escape(project)).Append("/\">").Append(Escape(project)).Append("</a><br/>\n");
        }

        return Html(html.Append(Footer));
    }

    private static async Task<IResult> ProjectAsync(string project, HttpRequest request, BuilderDbContext db, CancellationToken cancellationToken)
    {
        // PEP 503 §Normalized Names: other spellings, and the URL without its trailing slash, redirect to the one URL.
        // (Routing matches "/simple/{project}" with or without the slash, so the handler tells them apart.)
        var normalized = PackageName.Normalize(project);
        if (normalized != project || !request.Path.Value!.EndsWith('/'))
        {
            return TypedResults.Redirect($"/simple/{normalized}/", permanent: true);
        }

        var files = await db.Files.AsNoTracking().Where(f => f.Project == normalized).OrderBy(f => f.Filename).ToListAsync(cancellationToken);
        if (files.Count == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: $"no project named '{normalized}' on this index");
        }

        var html = new StringBuilder(Header($"Links for {normalized}"));
        foreach (var file in files)
        {
            // Relative to /simple/{project}/, so the index also works below a path prefix.
            html.Append("<a href=\"../../files/").Append(Escape(file.Project)).Append('/').Append(Escape(Uri.EscapeDataString(file.Filename)))
                .Append("#sha256=").Append(file.Sha256).Append('"');
            if (file.RequiresPython is { } requiresPython)
            {
                // PEP 503: the value is HTML-escaped ("<" becomes "&lt;").
                html.Append(" data-requires-python=\"").Append(Escape(requiresPython)).Append('"');
            }

            html.Append('>').Append(Escape(file.Filename)).Append("</a><br/>\n");
        }

        return Html(html.Append(Footer));
    }

    private static async Task<IResult> FileAsync(string project, string filename, BuilderDbContext db, IArtifactStore store, CancellationToken cancellationToken)
    {
        // Only recorded files are served: staged files of an unfinished release stay invisible.
        var file = await db.Files.AsNoTracking().SingleOrDefaultAsync(f => f.Project == project && f.Filename == filename, cancellationToken);
        var content = file is null ? null : await store.OpenReadAsync($"{file.Project}/{file.Filename}", cancellationToken);
        if (file is null || content is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: $"no file '{filename}' in project '{project}'");
        }

        var contentType = filename.EndsWith(".tar.gz", StringComparison.Ordinal) ? "application/gzip"
            : filename.EndsWith(".zip", StringComparison.Ordinal) ? "application/zip"
            : "application/octet-stream";
        return TypedResults.Stream(content.Stream, contentType, fileDownloadName: null, lastModified: content.LastModified,
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{file.Sha256}\""), enableRangeProcessing: true);
    }

    private static string Header(string title) =>
        $"<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"1.0\">\n<title>{Escape(title)}</title>\n</head>\n<body>\n<h1>{Escape(title)}</h1>\n";

    private const string Footer = "</body>\n</html>\n";

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    private static ContentHttpResult Html(StringBuilder html) => TypedResults.Text(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8);
}
