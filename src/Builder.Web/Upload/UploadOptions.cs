using System.ComponentModel.DataAnnotations;

namespace Builder.Web.Upload;

/// <summary>Limits of the upload API (<c>Builder:Upload</c>).</summary>
public sealed class UploadOptions
{
    public const string SectionName = "Builder:Upload";

    /// <summary>Room for the form fields around the file (twine sends the whole description, i.e. the README).</summary>
    public const long FieldBytesLimit = 8 * 1024 * 1024;

    /// <summary>The largest distribution file accepted, in bytes (default 1 GiB).</summary>
    [Range(1, long.MaxValue - FieldBytesLimit, ErrorMessage = "Builder:Upload:MaxFileBytes must be a positive number of bytes (set Builder__Upload__MaxFileBytes).")]
    public long MaxFileBytes { get; set; } = 1L << 30;

    /// <summary>The largest request body: the file plus its form fields and multipart framing.</summary>
    public long MaxRequestBytes => MaxFileBytes + FieldBytesLimit;
}
