using System.Diagnostics;
using System.Text;
using System.Xml.Linq;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// A real S3 API server on 127.0.0.1: moto's <c>moto_server</c> (from the machine's pyenv Python 3.11), state in memory.
/// <see cref="StopAsync"/> and <see cref="ResumeAsync"/> freeze and thaw the process (SIGSTOP/SIGCONT): an outage in
/// which connections are accepted and never answered, objects kept. When moto_server is missing the test fails (it never
/// skips): scripts/ensure-deps.sh checks for it.
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    public const string AccessKey = "builder-test-key";
    public const string SecretKey = "builder-test-secret";

    private readonly Process _process;
    private readonly StringBuilder _log;

    private S3Server(Process process, int port, StringBuilder log)
    {
        _process = process;
        _log = log;
        Url = $"http://127.0.0.1:{port}";
    }

    public string Url { get; }

    public static string Executable
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("PYENV_ROOT") is { Length: > 0 } r ? r : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".pyenv");
            return Path.Combine(root, "versions", "3.11.7", "bin", "moto_server");
        }
    }

    public static async Task<S3Server> StartAsync()
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} not found: the S3 tests need moto's server in pyenv's Python 3.11 (see ../shared/ENVIRONMENT.md; scripts/ensure-deps.sh checks for it)");
        }

        var port = LoopbackPorts.Free();
        var log = new StringBuilder();
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("moto_server did not start");
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new S3Server(process, port, log);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(server.Url + "/");
                return server;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(200);
            }
            catch (Exception ex)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"moto_server did not answer on {server.Url}: {ex.Message}\n{server.Log}", ex);
            }
        }
    }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Makes a bucket (moto does not check signatures, so a plain PUT does).</summary>
    public async Task CreateBucketAsync(string bucket)
    {
        using var http = new HttpClient();
        using var response = await http.PutAsync($"{Url}/{bucket}", null);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The keys in a bucket (one page of up to 1,000), with their sizes.</summary>
    public async Task<Dictionary<string, long>> ListAsync(string bucket, string prefix = "")
    {
        using var http = new HttpClient();
        var xml = XDocument.Parse(await http.GetStringAsync($"{Url}/{bucket}?list-type=2&prefix={Uri.EscapeDataString(prefix)}"));
        XNamespace ns = "http://s3.amazonaws.com/doc/2006-03-01/";
        return xml.Descendants(ns + "Contents").ToDictionary(c => c.Element(ns + "Key")!.Value, c => long.Parse(c.Element(ns + "Size")!.Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>An object's bytes, read straight from the server with the SDK (not through Builder; moto refuses unsigned object reads).</summary>
    public async Task<byte[]> ReadAsync(string bucket, string key)
    {
        using var client = Client();
        using var response = await client.GetObjectAsync(bucket, key);
        using var bytes = new MemoryStream();
        await response.ResponseStream.CopyToAsync(bytes);
        return bytes.ToArray();
    }

    /// <summary>The sha256 of an object's bytes, read straight from the server.</summary>
    public async Task<string> Sha256Async(string bucket, string key)
    {
        using var client = Client();
        using var response = await client.GetObjectAsync(bucket, key);
        return Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(response.ResponseStream));
    }

    /// <summary>
    /// Writes an object straight to the server, with the SHA-256 checksum of these bytes as S3 keeps it: what someone with
    /// write access to the bucket (or a fault in the store) could leave where Builder wrote other bytes.
    /// </summary>
    public async Task WriteAsync(string bucket, string key, byte[] bytes)
    {
        using var client = Client();
        await client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            InputStream = new MemoryStream(bytes),
            ChecksumAlgorithm = ChecksumAlgorithm.SHA256,
            ChecksumSHA256 = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(bytes)),
            UseChunkEncoding = false,
        });
    }

    private AmazonS3Client Client() => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = Url,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>Builder's settings for this server and bucket.</summary>
    public Dictionary<string, string> Settings(string bucket, string prefix = "") => new()
    {
        ["Builder__Storage__Provider"] = "s3",
        ["Builder__Storage__S3__Bucket"] = bucket,
        ["Builder__Storage__S3__Prefix"] = prefix,
        ["Builder__Storage__S3__ServiceUrl"] = Url,
        ["Builder__Storage__S3__ForcePathStyle"] = "true",
        ["Builder__Storage__S3__AccessKey"] = AccessKey,
        ["Builder__Storage__S3__SecretKey"] = SecretKey,
    };

    /// <summary>An outage: the process stops answering (its socket still accepts connections), keeping every object.</summary>
    public Task StopAsync() => SignalAsync("STOP");

    public Task ResumeAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await ResumeAsync();
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

/// <summary>
/// One moto server for a test class (<c>IClassFixture&lt;SharedS3Server&gt;</c>) whose tests keep to buckets of their own;
/// a test that freezes the server starts its own with <see cref="S3Server.StartAsync"/>.
/// </summary>
public sealed class SharedS3Server : IAsyncLifetime
{
    private S3Server? _server;

    public S3Server Server => _server ?? throw new InvalidOperationException("the shared S3 server has not started");

    public async Task InitializeAsync() => _server = await S3Server.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
