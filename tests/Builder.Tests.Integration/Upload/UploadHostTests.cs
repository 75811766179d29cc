using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Builder.Tests.Integration.Host;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Upload;

/// <summary>
/// The upload API's every answer, in the test host: each refusal is the right status with a message naming the
/// problem (in the body and in the reason phrase, which is what twine prints), leaves nothing in the index and no
/// temp file behind.
/// </summary>
public sealed class UploadHostTests : IDisposable
{
    private const string Project = "acme-upload";
    private const string Version = "1.0.0";

    private readonly BuilderWebFactory _factory = new();
    private readonly string _work = TestPaths.NewTempDirectory("upload-host");
    private readonly string _wheel;
    private readonly string _sdist;

    public UploadHostTests()
    {
        _wheel = Distributions.Wheel(_work, Project, Version);
        _sdist = Distributions.Sdist(_work, Project, Version);
    }

    public void Dispose()
    {
        _factory.Dispose();
        TestPaths.DeleteDirectory(_work);
    }

    private static LegacyUpload Twine(string path) => LegacyUpload.Twine(path, Project, Version);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, LegacyUpload upload, AuthenticationHeaderValue? auth, string route = "/legacy/")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = upload.ToContent() };
        request.Headers.Authorization = auth;
        return await http.SendAsync(request);
    }

    private Task<HttpResponseMessage> UploadAsync(LegacyUpload upload, string route = "/legacy/") =>
        SendAsync(_factory.CreateClient(), upload, LegacyUpload.AdminBasic, route);

    private Task<HttpResponseMessage> UploadAsync(LegacyUpload upload, AuthenticationHeaderValue? auth) =>
        SendAsync(_factory.CreateClient(), upload, auth);

    private async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string message, string project = Project)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode} {response.ReasonPhrase}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString();
        Assert.Contains(message, detail, StringComparison.Ordinal);
        Assert.Contains(message, response.ReasonPhrase, StringComparison.Ordinal);

        using var page = await _factory.CreateAdminClient().GetAsync($"/simple/{project}/");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        AssertNoTempFiles();
    }

    private void AssertNoTempFiles()
    {
        var uploads = Path.Combine(_factory.DataDir, "tmp", "uploads");
        Assert.True(!Directory.Exists(uploads) || !Directory.EnumerateFileSystemEntries(uploads).Any(),
            "temp files left: " + string.Join(", ", Directory.Exists(uploads) ? Directory.EnumerateFileSystemEntries(uploads, "*", SearchOption.AllDirectories) : []));
        var files = Path.Combine(_factory.DataDir, "files");
        Assert.Empty(Directory.Exists(files) ? Directory.EnumerateFiles(files, "*.tmp", SearchOption.AllDirectories) : []);
    }

    private async Task<string> SimplePageAsync()
    {
        using var page = await _factory.CreateAdminClient().GetAsync($"/simple/{Project}/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return await page.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task A_wheel_and_an_sdist_are_published_and_served_with_their_sha256()
    {
        using var wheel = await UploadAsync(Twine(_wheel));
        using var sdist = await UploadAsync(Twine(_sdist), route: "/legacy"); // without the trailing slash too

        Assert.Equal(HttpStatusCode.OK, wheel.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sdist.StatusCode);
        var page = await SimplePageAsync();
        Assert.Contains($"acme_upload-1.0.0-py3-none-any.whl#sha256={Distributions.Sha256(_wheel)}", page, StringComparison.Ordinal);
        Assert.Contains($"acme_upload-1.0.0.tar.gz#sha256={Distributions.Sha256(_sdist)}", page, StringComparison.Ordinal);
        var served = await _factory.CreateAdminClient().GetByteArrayAsync($"/files/{Project}/acme_upload-1.0.0-py3-none-any.whl");
        Assert.Equal(await File.ReadAllBytesAsync(_wheel), served);
        AssertNoTempFiles();
    }

    [Fact]
    public async Task Without_or_with_wrong_credentials_it_is_401_with_a_basic_challenge()
    {
        using var none = await UploadAsync(Twine(_wheel), auth: null);
        Assert.Equal("Basic realm=\"Builder\"", none.Headers.WwwAuthenticate.ToString());
        await AssertRefusedAsync(none, HttpStatusCode.Unauthorized, "Credentials required: upload with a token that may upload");

        using var wrong = await UploadAsync(Twine(_wheel), LegacyUpload.Basic("not-the-admin-token-at-all"));
        await AssertRefusedAsync(wrong, HttpStatusCode.Unauthorized, "unknown token");

        using var bearerWrong = await UploadAsync(Twine(_wheel), new AuthenticationHeaderValue("Bearer", "not-the-admin-token-at-all"));
        await AssertRefusedAsync(bearerWrong, HttpStatusCode.Unauthorized, "unknown token");

        using var garbage = await UploadAsync(Twine(_wheel), new AuthenticationHeaderValue("Basic", "%%%not-base64"));
        await AssertRefusedAsync(garbage, HttpStatusCode.Unauthorized, "the Basic credentials are not base64");
    }

    [Fact]
    public async Task Any_user_name_with_the_token_as_password_or_the_bearer_token_is_accepted()
    {
        using var basic = await UploadAsync(Twine(_wheel), LegacyUpload.Basic(BuilderInstance.AdminToken, user: "releaser"));
        using var bearer = await UploadAsync(Twine(_sdist), new AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken));

        Assert.Equal(HttpStatusCode.OK, basic.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
    }

    [Theory]
    [InlineData("sha256_digest")]
    [InlineData("md5_digest")]
    [InlineData("blake2_256_digest")]
    public async Task A_digest_that_does_not_match_is_400_naming_it(string field)
    {
        var upload = Twine(_wheel).Set(field, field == "md5_digest" ? new string('0', 32) : new string('0', 64));

        using var response = await UploadAsync(upload);

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, $"{field} does not match the uploaded file");
    }

    [Fact]
    public async Task Digests_are_optional_and_case_insensitive()
    {
        var none = Twine(_wheel).Remove("sha256_digest").Remove("md5_digest").Remove("blake2_256_digest");
        var upper = Twine(_sdist);
        upper.Set("sha256_digest", Distributions.Sha256(_sdist).ToUpperInvariant());

        using var first = await UploadAsync(none);
        using var second = await UploadAsync(upper);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    [Fact]
    public async Task A_file_that_is_not_an_archive_is_400()
    {
        var junk = Path.Combine(_work, "junk", "acme_upload-1.0.0-py3-none-any.whl");
        Directory.CreateDirectory(Path.GetDirectoryName(junk)!);
        await File.WriteAllBytesAsync(junk, "this is not a zip file"u8.ToArray());

        using var response = await UploadAsync(Twine(junk));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "acme_upload-1.0.0-py3-none-any.whl is not a valid archive");
    }

    [Fact]
    public async Task A_wheel_whose_METADATA_size_lies_in_the_zip_is_400_and_not_published_cut()
    {
        // The METADATA entry's sizes, in its local header and in the central directory alike, say 20 bytes fewer than
        // it has: a zip reader stops there, and the sidecar would be published cut.
        var bytes = await File.ReadAllBytesAsync(_wheel);
        var name = System.Text.Encoding.ASCII.GetBytes("acme_upload-1.0.0.dist-info/METADATA");
        var patched = 0;
        for (var at = 0; at + 46 < bytes.Length; at++)
        {
            var local = BitConverter.ToUInt32(bytes, at) == 0x04034b50 && bytes.AsSpan(at + 30, name.Length).SequenceEqual(name);
            var central = BitConverter.ToUInt32(bytes, at) == 0x02014b50 && bytes.AsSpan(at + 46, name.Length).SequenceEqual(name);
            if (local || central)
            {
                // Compressed and uncompressed size (a stored entry: the same), at 18/22 in a local header, 20/24 in the directory.
                foreach (var field in local ? new[] { 18, 22 } : [20, 24])
                {
                    var size = BitConverter.ToUInt32(bytes, at + field);
                    BitConverter.TryWriteBytes(bytes.AsSpan(at + field), size - 20);
                }

                patched++;
            }
        }

        Assert.Equal(2, patched);
        var lying = Path.Combine(_work, "lying", Path.GetFileName(_wheel));
        Directory.CreateDirectory(Path.GetDirectoryName(lying)!);
        await File.WriteAllBytesAsync(lying, bytes);

        using var response = await UploadAsync(Twine(lying));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "acme_upload-1.0.0.dist-info/METADATA does not match its CRC-32 in the archive");
    }

    [Theory]
    [InlineData(2)] // the final boundary's "--" and line end missing
    [InlineData(200)] // cut inside the file
    public async Task A_form_cut_before_its_final_boundary_is_400_naming_that(int cut)
    {
        var whole = Twine(_wheel).ToContent();
        var bytes = await whole.ReadAsByteArrayAsync();
        using var content = new ByteArrayContent(bytes[..^(cut + 2)]);
        content.Headers.ContentType = whole.Headers.ContentType;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = content };
        request.Headers.Authorization = LegacyUpload.AdminBasic;

        using var response = await _factory.CreateClient().SendAsync(request);

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "the multipart/form-data body is malformed: the body ends before the closing boundary of the form (it was cut off)");
        Assert.Empty(_factory.Logs.Failures);
    }

    [Fact]
    public async Task A_file_whose_metadata_contradicts_its_name_is_400()
    {
        // Metadata says 1.0.0, the file name 2.0.0.
        var renamed = Path.Combine(_work, "acme_upload-2.0.0-py3-none-any.whl");
        File.Copy(_wheel, renamed);

        using var response = await UploadAsync(LegacyUpload.Twine(renamed, Project, "2.0.0"));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "the metadata says version 1.0.0, the file name 2.0.0");
    }

    [Fact]
    public async Task A_file_name_that_is_not_a_distribution_is_400()
    {
        using var response = await UploadAsync(Twine(_wheel).WithFileName("setup.py"));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "'setup.py' is not a valid wheel or sdist file name");
    }

    [Theory]
    [InlineData("name", "acme-other", "the form says name 'acme-other'")]
    [InlineData("version", "1.0.1", "the form says version '1.0.1'")]
    [InlineData("filetype", "sdist", "the form says filetype 'sdist'")]
    public async Task Form_fields_that_do_not_describe_the_file_are_400(string field, string value, string message)
    {
        using var response = await UploadAsync(Twine(_wheel).Set(field, value));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, message);
    }

    [Fact]
    public async Task Form_name_and_version_may_be_spelled_otherwise_when_they_normalize_the_same()
    {
        // twine sends the name as in the metadata ("Acme_Upload"), poetry its pretty name; versions may be unnormalized.
        using var response = await UploadAsync(Twine(_wheel).Set("name", "Acme_Upload").Set("version", "1.0"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("../acme_upload-1.0.0-py3-none-any.whl")]
    [InlineData("dist/acme_upload-1.0.0-py3-none-any.whl")]
    [InlineData("dist\\acme_upload-1.0.0-py3-none-any.whl")]
    [InlineData("..")]
    [InlineData(".")]
    public async Task File_names_with_path_parts_are_400(string fileName)
    {
        using var response = await UploadAsync(Twine(_wheel).WithFileName(fileName));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "has path parts");
    }

    [Theory]
    [InlineData(145)] // a valid wheel name, one byte over
    [InlineData(250)]
    [InlineData(300)] // over Linux's 255 bytes for a file name
    public async Task File_names_longer_than_the_index_takes_are_400_naming_the_limit(int length)
    {
        var fileName = "acme_upload-1.0.0-py3-none-" + new string('x', length - "acme_upload-1.0.0-py3-none-.whl".Length) + ".whl";

        using var response = await UploadAsync(Twine(_wheel).WithFileName(fileName));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, $"the file name is {length} bytes long; this index takes file names of at most 144 bytes");
    }

    [Fact]
    public async Task File_names_are_measured_in_bytes()
    {
        // 100 characters, 300 bytes in UTF-8.
        using var response = await UploadAsync(Twine(_wheel).WithFileName(new string('\u4e00', 96) + ".whl"));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "the file name is 292 bytes long");
    }

    [Theory]
    [InlineData("acme_upload-1.0.0-py3-none-any.whl\u0001")]
    [InlineData("acme_upload-1.0.0\t-py3-none-any.whl")]
    [InlineData("acme\u007f_upload-1.0.0-py3-none-any.whl")]
    public async Task File_names_with_control_characters_are_400(string fileName)
    {
        using var response = await UploadAsync(Twine(_wheel).WithFileName(fileName));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "control characters");
    }

    [Theory]
    [InlineData("submit")]
    [InlineData("doc_upload")]
    public async Task An_unknown_action_is_400_naming_it(string action)
    {
        using var response = await UploadAsync(Twine(_wheel).Set(":action", action));

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, $"unknown :action '{action}'");
    }

    [Fact]
    public async Task A_missing_action_or_file_is_400()
    {
        using var noAction = await UploadAsync(Twine(_wheel).Remove(":action"));
        await AssertRefusedAsync(noAction, HttpStatusCode.BadRequest, "the form has no ':action' field");

        using var noFile = await UploadAsync(Twine(_wheel).WithoutContent());
        await AssertRefusedAsync(noFile, HttpStatusCode.BadRequest, "Upload payload does not have a file");
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_is_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/legacy/") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = LegacyUpload.AdminBasic;
        using var response = await _factory.CreateClient().SendAsync(request);

        await AssertRefusedAsync(response, HttpStatusCode.BadRequest, "expected a multipart/form-data body");
    }

    [Fact]
    public async Task A_file_over_the_configured_limit_is_413_naming_the_limit_by_content_length_and_while_streaming()
    {
        using var small = _factory.WithWebHostBuilder(b => b.UseSetting("Builder:Upload:MaxFileBytes", "4096"));
        var http = small.CreateClient();
        var message = "Builder:Upload:MaxFileBytes is 4096 bytes (4 KiB)";

        // The wheel (about 1 KB) passes; 5 KB are cut off while streaming: Content-Length is within the
        // allowance for form fields, so only counting the file's bytes catches it.
        var streamed = Twine(_wheel);
        var big = Path.Combine(_work, "big", "acme_upload-1.0.0-py3-none-any.whl");
        Directory.CreateDirectory(Path.GetDirectoryName(big)!);
        await File.WriteAllBytesAsync(big, new byte[5000]);
        using (var response = await SendAsync(http, Twine(big), LegacyUpload.AdminBasic))
        {
            await AssertRefusedAsync(response, HttpStatusCode.RequestEntityTooLarge, message);
        }

        // Over the limit plus the field allowance by Content-Length: refused before the body is read.
        var huge = Path.Combine(_work, "huge", "acme_upload-1.0.0-py3-none-any.whl");
        Directory.CreateDirectory(Path.GetDirectoryName(huge)!);
        await File.WriteAllBytesAsync(huge, new byte[9 * 1024 * 1024]);
        using (var response = await SendAsync(http, Twine(huge), LegacyUpload.AdminBasic))
        {
            await AssertRefusedAsync(response, HttpStatusCode.RequestEntityTooLarge, message);
        }

        Assert.True(new FileInfo(_wheel).Length <= 4096, "the small wheel must fit the limit for the control case");
        using var fits = await SendAsync(http, streamed, LegacyUpload.AdminBasic);
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
    }

    [Fact]
    public async Task The_same_file_again_is_200_and_other_bytes_under_its_name_are_400_file_already_exists()
    {
        using (var first = await UploadAsync(Twine(_wheel)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var again = await UploadAsync(Twine(_wheel)))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("already published with these exact contents", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var otherDir = Path.Combine(_work, "other");
        Directory.CreateDirectory(otherDir);
        var other = Distributions.Wheel(otherDir, Project, Version, requiresPython: ">=3.8");
        Assert.NotEqual(Distributions.Sha256(_wheel), Distributions.Sha256(other));

        using var conflict = await UploadAsync(Twine(other));

        var body = await conflict.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, conflict.StatusCode);
        Assert.StartsWith("File already exists", conflict.ReasonPhrase, StringComparison.Ordinal);
        Assert.StartsWith("File already exists", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var page = await SimplePageAsync();
        Assert.Contains(Distributions.Sha256(_wheel), page, StringComparison.Ordinal);
        Assert.DoesNotContain(Distributions.Sha256(other), page, StringComparison.Ordinal);
        AssertNoTempFiles();
    }

    [Fact]
    public async Task A_deleted_file_name_is_400_naming_it()
    {
        using (var first = await UploadAsync(Twine(_wheel)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, $"/api/projects/{Project}/files/acme_upload-1.0.0-py3-none-any.whl"))
        {
            delete.Headers.Authorization = new AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
            using var deleted = await _factory.CreateClient().SendAsync(delete);
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        using var again = await UploadAsync(Twine(_wheel));

        await AssertRefusedAsync(again, HttpStatusCode.BadRequest, "acme_upload-1.0.0-py3-none-any.whl was deleted from this index");
    }
}
