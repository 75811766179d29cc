using Builder.Access;
using Builder.Core.Access;
using Builder.Core.Configuration;
using Builder.Core.Packaging;
using Builder.Index;
using Builder.Pipeline;
using Builder.Web.Access;
using Builder.Web.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Builder.Web.Upload;

/// <summary>
/// The legacy upload API (Warehouse's <c>forklift/legacy.py</c>), as twine and <c>poetry publish</c> speak it:
/// <c>POST /legacy/</c>, multipart/form-data with <c>:action=file_upload</c>, the metadata fields, digests and the file
/// as <c>content</c>; HTTP Basic auth with a token that may upload to the project as password. A file is published through
/// <see cref="ReleasePublisher"/> only once it is fully received and checked, so the index never shows part of it.
/// </summary>
internal static partial class UploadEndpoints
{
    public const string Legacy = "/legacy/";
    public const string ActionField = ":action";
    public const string FileUploadAction = "file_upload";

    private const string UploadsDirectory = "tmp/uploads";

    public static void MapUploads(this IEndpointRouteBuilder app)
    {
        // Routing matches "/legacy" too, so clients configured without the trailing slash work as well.
        app.MapPost(Legacy, async (HttpContext context, IOptions<UploadOptions> options, IOptions<DataOptions> data,
            ReleasePublisher publisher, AuditLog audit, BuilderMetrics metrics, ILoggerFactory loggers, CancellationToken cancellationToken) =>
        {
            var answer = await UploadAsync(context, options.Value, data.Value, publisher, audit, metrics, loggers.CreateLogger(typeof(UploadEndpoints).FullName!), cancellationToken);
            // Published uploads are counted where the publisher answered; every refusal (a 4xx problem) here.
            if (answer is PhrasedProblem)
            {
                metrics.CountUpload(BuilderMetrics.UploadOutcomes.Refused);
            }

            return answer;
        });
    }

    public static PhrasedProblem UnknownAction(string? action) => new(StatusCodes.Status400BadRequest, action is null
        ? $"the form has no '{ActionField}' field; this is the upload API (send '{ActionField}={FileUploadAction}' with the file, as twine and poetry do)"
        : $"unknown {ActionField} '{action}'; this index only accepts '{ActionField}={FileUploadAction}'");

    private static async Task<IResult> UploadAsync(HttpContext context, UploadOptions options, DataOptions data,
        ReleasePublisher publisher, AuditLog audit, BuilderMetrics metrics, ILogger logger, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var principal = context.Principal();
        if (principal.IsAnonymous)
        {
            return RequestPrincipal.Challenge(
                "Credentials required: upload with a token that may upload as password (twine -u __token__ -p TOKEN; poetry config http-basic.NAME __token__ TOKEN)");
        }

        // Refused before the body is received: a principal that may upload nowhere.
        if (!principal.Rights.MayUploadSomewhere)
        {
            var refusal = RequestPrincipal.Forbidden($"{Describe(principal)} may not upload (a token needs the 'upload' scope; a person the publisher or admin role)");
            await audit.RecordAsync(context.Actor(), AuditActions.UploadRefused, AuditOutcomes.Refused, detail: refusal.Detail, cancellationToken: cancellationToken);
            return refusal;
        }

        if (request.ContentLength > options.MaxRequestBytes)
        {
            return UploadForm.FileTooLarge(options.MaxFileBytes);
        }

        // Kestrel's default body limit (30 MB) is raised for this endpoint only, to what the setting allows.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = options.MaxRequestBytes;
        }

        var directory = Path.Combine(data.FullDataDir, UploadsDirectory, Guid.NewGuid().ToString("N"));
        try
        {
            var result = await ReceiveAndPublishAsync(context, directory, options, publisher, audit, metrics, logger, cancellationToken);
            if (result is PhrasedProblem problem)
            {
                LogRefused(logger, problem.StatusCode, problem.Detail);
            }

            return result;
        }
        finally
        {
            // Every path, success or not, leaves no temp file: the publisher has copied what it keeps.
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static async Task<IResult> ReceiveAndPublishAsync(
        HttpContext context, string directory, UploadOptions options, ReleasePublisher publisher, AuditLog audit, BuilderMetrics metrics, ILogger logger,
        CancellationToken cancellationToken)
    {
        var request = context.Request;
        UploadForm? form;
        PhrasedProblem? problem;
        try
        {
            (form, problem) = await UploadForm.ReadAsync(request, directory, options, cancellationToken);
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's body limit (413), or a body that ended before its Content-Length or final boundary.
            return ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? UploadForm.FileTooLarge(options.MaxFileBytes)
                : new PhrasedProblem(ex.StatusCode, $"the request body could not be read: {ex.Message}");
        }
        catch (InvalidDataException ex)
        {
            return BadRequest($"the multipart/form-data body is malformed: {ex.Message}");
        }

        if (problem is not null)
        {
            return problem;
        }

        if (form!.Field(ActionField) is not FileUploadAction)
        {
            return UnknownAction(form.Field(ActionField));
        }

        if (form.Field("protocol_version") is { } protocol && protocol != "1")
        {
            return BadRequest($"unknown protocol_version '{protocol}'; this index speaks version 1");
        }

        if (form.File is not { } file)
        {
            return BadRequest("Upload payload does not have a file: the form needs the file as its 'content' part");
        }

        if (DigestProblem(form, file) is { } digest)
        {
            return BadRequest(digest);
        }

        CheckedFile checkedFile;
        try
        {
            checkedFile = await DistributionInspector.InspectAsync(file.Path, file.FileName, cancellationToken);
        }
        catch (InvalidDistributionException ex)
        {
            return BadRequest($"Invalid distribution file: {ex.Message}");
        }

        if (FormProblem(form, checkedFile) is { } mismatch)
        {
            return BadRequest(mismatch);
        }

        var principal = context.Principal();
        if (!principal.Rights.CanUpload(checkedFile.Project))
        {
            var refusal = RequestPrincipal.Forbidden($"{Describe(principal)} may not upload to project '{checkedFile.Project}'");
            await audit.RecordAsync(context.Actor(), AuditActions.UploadRefused, AuditOutcomes.Refused, checkedFile.Project, "file:" + file.FileName, refusal.Detail, cancellationToken);
            return refusal;
        }

        try
        {
            var outcome = await publisher.PublishAsync([checkedFile], buildId: null, cancellationToken);
            LogUploaded(logger, file.FileName, checkedFile.Project, checkedFile.Name.Version, outcome);
            metrics.CountUpload(outcome == PublishOutcome.Published ? BuilderMetrics.UploadOutcomes.Published : BuilderMetrics.UploadOutcomes.AlreadyPublished);
            if (outcome == PublishOutcome.Published)
            {
                await audit.RecordAsync(context.Actor(), AuditActions.FileUploaded, AuditOutcomes.Ok, checkedFile.Project, "file:" + file.FileName,
                    $"{checkedFile.Project} {checkedFile.Name.Version}, sha256 {checkedFile.Sha256}", cancellationToken);
            }

            return TypedResults.Text(outcome == PublishOutcome.Published
                ? $"Uploaded {file.FileName} ({checkedFile.Project} {checkedFile.Name.Version}, sha256 {checkedFile.Sha256})\n"
                : $"{file.FileName} is already published with these exact contents; nothing changed\n");
        }
        catch (PublishConflictException ex)
        {
            // Starts with "File already exists" for a taken name: twine's and poetry's --skip-existing look for that.
            return BadRequest(ex.Message);
        }
    }

    /// <summary>Each digest the client sent must match the received bytes (the client may send any subset).</summary>
    private static string? DigestProblem(UploadForm form, ReceivedFile file)
    {
        (string Field, string Actual, string What)[] digests =
        [
            ("sha256_digest", file.Sha256, "SHA-256"),
            ("md5_digest", file.Md5, "MD5"),
            ("blake2_256_digest", file.Blake2b256, "BLAKE2b-256"),
        ];
        foreach (var (field, actual, what) in digests)
        {
            if (form.Field(field) is not { } sent)
            {
                continue;
            }

            if (!string.Equals(sent.Trim(), actual, StringComparison.OrdinalIgnoreCase))
            {
                return $"{field} does not match the uploaded file: sent {sent.Trim()}, the received bytes have {what} {actual}; the file was damaged or changed on the way";
            }
        }

        return null;
    }

    /// <summary>
    /// The form's name, version and filetype, when sent, must describe the file that came with them. Names compare
    /// normalized (PEP 503) and versions by PEP 440 equality (1.0 == 1.0.0), as Warehouse does.
    /// </summary>
    private static string? FormProblem(UploadForm form, CheckedFile file)
    {
        if (form.Field("name") is { } name && PackageName.Normalize(name.Trim()) != file.Project)
        {
            return $"the form says name '{name}', but {file.Name.Filename} is project '{file.Metadata.Name}'";
        }

        if (form.Field("version") is { } version
            && !(Pep440Version.TryNormalize(version.Trim(), out var normalized) && Pep440Comparer.Instance.Compare(normalized, file.Name.Version) == 0))
        {
            return $"the form says version '{version}', but {file.Name.Filename} is version {file.Name.Version}";
        }

        var expected = file.Name.Kind == DistributionKind.Wheel ? "bdist_wheel" : "sdist";
        if (form.Field("filetype") is { } filetype && filetype != expected)
        {
            return $"the form says filetype '{filetype}', but {file.Name.Filename} is a {(expected == "sdist" ? "source distribution (sdist)" : "wheel (bdist_wheel)")}; this index takes wheels and sdists";
        }

        return null;
    }

    private static string Describe(Principal principal) => principal.Kind switch
    {
        PrincipalKind.Token => $"this token ({principal.Id})",
        PrincipalKind.Person => $"'{principal.PersonName}'",
        _ => principal.Id,
    };

    private static PhrasedProblem BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Uploaded {Filename} ({Project} {Version}): {Outcome}")]
    private static partial void LogUploaded(ILogger logger, string filename, string project, string version, PublishOutcome outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload refused with {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, int status, string reason);
}
