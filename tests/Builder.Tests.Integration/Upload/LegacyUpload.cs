using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Builder.Core.Packaging;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Upload;

/// <summary>
/// A legacy upload request shaped like twine's (fields in its order, the file last as <c>content</c>), written byte by
/// byte so tests can send what a library would refuse to encode: control characters and path parts in file names.
/// </summary>
internal sealed class LegacyUpload
{
    private readonly List<(string Name, string Value)> _fields = [];
    private readonly string _boundary = "builder-test-" + Guid.NewGuid().ToString("N");

    private LegacyUpload(string fileName, byte[] content)
    {
        FileName = fileName;
        Content = content;
    }

    public string FileName { get; private set; }

    public byte[] Content { get; private set; }

    public bool IncludeContent { get; private set; } = true;

    /// <summary>The form fields before the file, in order.</summary>
    public IReadOnlyList<(string Name, string Value)> Fields => _fields;

    /// <summary>What twine 4 sends for the file at <paramref name="path"/>: action, identity, type, digests.</summary>
    public static LegacyUpload Twine(string path, string name, string version)
    {
        var bytes = File.ReadAllBytes(path);
        var fileName = Path.GetFileName(path);
        var wheel = fileName.EndsWith(".whl", StringComparison.Ordinal);
        var upload = new LegacyUpload(fileName, bytes);
        return upload
            .Set(":action", "file_upload")
            .Set("protocol_version", "1")
            .Set("name", name)
            .Set("version", version)
            .Set("filetype", wheel ? "bdist_wheel" : "sdist")
            .Set("pyversion", wheel ? "py3" : "source")
            .Set("metadata_version", "2.1")
            .Set("summary", "A test package")
            .Set("sha256_digest", Convert.ToHexStringLower(SHA256.HashData(bytes)))
#pragma warning disable CA5351 // the protocol's md5_digest field
            .Set("md5_digest", Convert.ToHexStringLower(MD5.HashData(bytes)))
#pragma warning restore CA5351
            .Set("blake2_256_digest", Convert.ToHexStringLower(Blake2b.HashData(bytes)));
    }

    public LegacyUpload Set(string name, string value)
    {
        Remove(name);
        _fields.Add((name, value));
        return this;
    }

    public LegacyUpload Remove(string name)
    {
        _fields.RemoveAll(f => f.Name == name);
        return this;
    }

    public LegacyUpload WithFileName(string fileName)
    {
        FileName = fileName;
        return this;
    }

    public LegacyUpload WithoutContent()
    {
        IncludeContent = false;
        return this;
    }

    public HttpContent ToContent()
    {
        using var body = new MemoryStream();
        void Write(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        foreach (var (name, value) in _fields)
        {
            Write($"--{_boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
        }

        if (IncludeContent)
        {
            Write($"--{_boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{FileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n");
            body.Write(Content);
            Write("\r\n");
        }

        Write($"--{_boundary}--\r\n");
        var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={_boundary}");
        return content;
    }

    public static AuthenticationHeaderValue Basic(string password, string user = "__token__") =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    public static AuthenticationHeaderValue AdminBasic => Basic(BuilderInstance.AdminToken);
}
