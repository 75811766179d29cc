using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Builder.Core.Packaging;
using Builder.Web.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Builder.Web.Upload;

/// <summary>The uploaded file as written to disk, with the digests computed while it streamed in.</summary>
internal sealed record ReceivedFile(string FileName, string Path, long Size, string Sha256, string Md5, string Blake2b256);

/// <summary>
/// Reads the multipart/form-data body of a legacy upload (as twine's and poetry's MultipartEncoder send it): form
/// fields into memory, within <see cref="UploadOptions.FieldBytesLimit"/>, and the <c>content</c> part straight to a
/// file, hashed on the way. The file is never held in memory, whatever its size.
/// </summary>
internal sealed class UploadForm
{
    public const string ContentField = "content";

    private const int ChunkBytes = 64 * 1024;

    private UploadForm()
    {
    }

    /// <summary>The first value of each form field (repeated fields such as <c>classifiers</c> are not needed here).</summary>
    public Dictionary<string, string> Fields { get; } = new(StringComparer.Ordinal);

    public ReceivedFile? File { get; private set; }

    public string? Field(string name) => Fields.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    /// <summary>
    /// Reads the whole body. The file goes to <paramref name="directory"/>/{its file name} (created here); the caller
    /// deletes the directory. A problem ends the read early (a wrong <c>:action</c>, a bad file name, a file too large).
    /// </summary>
    public static async Task<(UploadForm? Form, PhrasedProblem? Problem)> ReadAsync(
        HttpRequest request, string directory, UploadOptions options, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary) is not { Length: > 0 and <= 200 } boundary)
        {
            return (null, BadRequest(
                $"expected a multipart/form-data body with a boundary (the upload API of twine and 'poetry publish'), got Content-Type '{request.ContentType}'"));
        }

        // Sizes are checked here, with messages; the reader's own per-section limit would only throw.
        var reader = new MultipartReader(boundary.ToString(), request.Body) { BodyLengthLimit = null };
        var form = new UploadForm();
        var fieldBudget = UploadOptions.FieldBytesLimit;
        while (await NextSectionAsync(reader, cancellationToken) is { } section)
        {
            var rawDisposition = section.ContentDisposition ?? string.Empty;
            if (!ContentDispositionHeaderValue.TryParse(rawDisposition, out var disposition) || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                if (section.Headers is null or { Count: 0 })
                {
                    // No headers at all: a body that ends just after a boundary reads so. Its content then throws Truncated.
                    await ReadFieldAsync(section.Body, fieldBudget, cancellationToken);
                }

                return (null, rawDisposition.Any(char.IsControl)
                    ? BadRequest($"a part's Content-Disposition (its name or file name) has control characters: {Printable(rawDisposition)}")
                    : BadRequest($"a part has no valid 'Content-Disposition: form-data; name=...' header: {Printable(rawDisposition)}"));
            }

            var name = HeaderUtilities.RemoveQuotes(disposition.Name).ToString();
            if (name == ContentField)
            {
                if (form.File is not null)
                {
                    return (null, BadRequest("the form has more than one 'content' part; upload one file per request"));
                }

                var fileName = disposition.FileNameStar.HasValue ? disposition.FileNameStar.ToString() : HeaderUtilities.RemoveQuotes(disposition.FileName).ToString();
                if (FileNameProblem(fileName) is { } problem)
                {
                    return (null, BadRequest(problem));
                }

                var (file, tooLarge) = await ReceiveAsync(section.Body, directory, fileName, options.MaxFileBytes, cancellationToken);
                if (tooLarge)
                {
                    return (null, FileTooLarge(options.MaxFileBytes));
                }

                form.File = file;
                continue;
            }

            var value = await ReadFieldAsync(section.Body, fieldBudget, cancellationToken);
            if (value is null)
            {
                return (null, new PhrasedProblem(StatusCodes.Status413PayloadTooLarge,
                    $"the form fields besides the file are larger than the {UploadOptions.FieldBytesLimit / (1024 * 1024)} MiB allowed"));
            }

            fieldBudget -= Encoding.UTF8.GetByteCount(value) + name.Length;
            form.Fields.TryAdd(name, value);
            if (name == UploadEndpoints.ActionField && value != UploadEndpoints.FileUploadAction)
            {
                return (null, UploadEndpoints.UnknownAction(value));
            }
        }

        return (form, null);
    }

    public static PhrasedProblem FileTooLarge(long maxFileBytes) => new(StatusCodes.Status413PayloadTooLarge,
        $"the file is larger than this index accepts: Builder:Upload:MaxFileBytes is {maxFileBytes} bytes{Describe(maxFileBytes)}");

    /// <summary>Why a file name is refused, or null. The file name becomes a path and a URL: no path parts, no control characters.</summary>
    public static string? FileNameProblem(string? fileName)
    {
        if (string.IsNullOrEmpty(fileName))
        {
            return "the 'content' part has no file name (Content-Disposition: form-data; name=\"content\"; filename=\"...\")";
        }

        if (fileName.Any(char.IsControl))
        {
            return $"the file name '{Printable(fileName)}' has control characters";
        }

        if (fileName == "." || fileName.Contains('/') || fileName.Contains('\\') || fileName.Contains("..", StringComparison.Ordinal))
        {
            return $"the file name '{fileName}' has path parts ('/', '\\', '.' or '..'); send the bare file name, e.g. acme_billing-1.4.0-py3-none-any.whl";
        }

        if (Encoding.UTF8.GetByteCount(fileName) is var length && length > DistributionFilename.MaxLength)
        {
            return $"the file name is {length} bytes long; this index takes file names of at most {DistributionFilename.MaxLength} bytes";
        }

        return null;
    }

    private static async Task<(ReceivedFile? File, bool TooLarge)> ReceiveAsync(
        Stream body, string directory, string fileName, long maxFileBytes, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, fileName);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
#pragma warning disable CA5351 // MD5 only checks the md5_digest the client sent (Warehouse's protocol); it protects nothing.
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351
        var blake2b = new Blake2b(32);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        long size = 0;
        try
        {
            await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
            int read;
            while ((read = await ReadPartAsync(body, buffer.AsMemory(0, ChunkBytes), cancellationToken)) > 0)
            {
                size += read;
                if (size > maxFileBytes)
                {
                    return (null, true);
                }

                var chunk = buffer.AsSpan(0, read);
                sha256.AppendData(chunk);
                md5.AppendData(chunk);
                blake2b.AppendData(chunk);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            await output.FlushAsync(cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return (new ReceivedFile(fileName, path, size,
            Convert.ToHexStringLower(sha256.GetHashAndReset()),
            Convert.ToHexStringLower(md5.GetHashAndReset()),
            Convert.ToHexStringLower(blake2b.GetHashAndReset())), false);
    }

    /// <summary>The field's text, or null when it would exceed what is left of the field budget.</summary>
    private static async Task<string?> ReadFieldAsync(Stream body, long budget, CancellationToken cancellationToken)
    {
        using var value = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int read;
            while ((read = await ReadPartAsync(body, buffer.AsMemory(0, ChunkBytes), cancellationToken)) > 0)
            {
                if (value.Length + read > budget)
                {
                    return null;
                }

                value.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Encoding.UTF8.GetString(value.GetBuffer(), 0, (int)value.Length);
    }

    private static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadNextSectionAsync(cancellationToken);
        }
        catch (IOException ex) when (ex is not BadHttpRequestException)
        {
            throw Truncated(ex);
        }
    }

    private static async ValueTask<int> ReadPartAsync(Stream part, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await part.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException ex) when (ex is not BadHttpRequestException)
        {
            throw Truncated(ex);
        }
    }

    /// <summary>
    /// MultipartReader's bare IOException ("Unexpected end of Stream"): the body ended before a part's boundary or the
    /// final one, a malformed body (the caller answers 400 for InvalidDataException). Kestrel's BadHttpRequestException,
    /// an IOException too (a body short of its Content-Length or last chunk, a body over the limit), keeps its own status.
    /// </summary>
    private static InvalidDataException Truncated(IOException exception) =>
        new("the body ends before the closing boundary of the form (it was cut off)", exception);

    private static PhrasedProblem BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail);

    private static string Printable(string text) =>
        string.Concat(text.Select(c => char.IsControl(c) ? string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : c.ToString()));

    private static string Describe(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $" ({bytes / (double)(1L << 30):0.##} GiB)"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $" ({bytes / (double)(1L << 20):0.##} MiB)"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $" ({bytes / (double)(1L << 10):0.##} KiB)"),
        _ => string.Empty,
    };
}
