using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Builder.Core.Packaging;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>One file the local upstream lists: what it serves and what its pages advertise.</summary>
internal sealed record UpstreamFile(
    string Project,
    string Version,
    string Filename,
    string Sha256,
    string AdvertisedSha256,
    long Size,
    DateTimeOffset? UploadTime,
    string? RequiresPython,
    string? Yanked,
    string? MetadataSha256);

/// <summary>One line of the upstream's access log: the request's method, its path as sent (with any query) and the status answered.</summary>
internal sealed record UpstreamRequest(string Method, string Path, int Status, string Accept);

/// <summary>
/// A public package index of its own, as pypi.org serves one: a static PEP 503 (HTML) and PEP 691 (JSON) tree behind a real
/// nginx (Debian's <c>nginx</c>, from scripts/ensure-deps.sh; missing, the test fails) on a free 127.0.0.1 port, with its
/// configuration, pid file, logs and tree in a temp dir. <see cref="Add"/> lists a file, <see cref="Render"/> writes the pages
/// (a page whose text did not change keeps its file, so nginx's ETag stays and a conditional GET gets 304). nginx chooses
/// <c>index.json</c> (<c>application/vnd.pypi.simple.v1+json</c>) when the Accept header names that type, else
/// <c>index.html</c>. JSON pages carry absolute file URLs and HTML pages relative ones (<c>../../packages/...</c>), so a client
/// resolves both kinds. <see cref="StopAsync"/> and <see cref="StartAsync"/> take it down and up again on the same port (an
/// outage: connections refused); <see cref="Requests"/> reads the access log.
/// </summary>
internal sealed class LocalUpstream : IAsyncDisposable
{
    private const string Nginx = "/usr/sbin/nginx";

    // A request for this path only marks the access log (see RequestsAsync); it is never reported.
    private const string MarkPath = "/_log-mark/";

    private readonly List<UpstreamFile> _files = [];
    private readonly StringBuilder _output = new();
    private Process? _process;

    public LocalUpstream()
    {
        Assert.True(File.Exists(Nginx), $"{Nginx} is missing: scripts/ensure-deps.sh installs Debian's nginx package");
        Directory = TestPaths.NewTempDirectory("upstream");
        System.IO.Directory.CreateDirectory(Root);
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "tmp"));
        Port = LoopbackPorts.Free();
        File.WriteAllText(ConfigPath, Config());
        Render();
    }

    /// <summary>The temp dir holding nginx.conf, nginx.pid, access.log, error.log and the served tree (<c>www/</c>).</summary>
    public string Directory { get; }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}/";

    /// <summary>The simple root, as Builder__Upstream__Url takes it.</summary>
    public string SimpleUrl => BaseUrl + "simple/";

    public IReadOnlyList<UpstreamFile> Files => _files;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What nginx printed, and its error log.</summary>
    public string Log
    {
        get
        {
            var errors = File.Exists(ErrorLogPath) ? File.ReadAllText(ErrorLogPath) : string.Empty;
            lock (_output)
            {
                return _output + errors;
            }
        }
    }

    private string Root => Path.Combine(Directory, "www");

    private string ConfigPath => Path.Combine(Directory, "nginx.conf");

    private string AccessLogPath => Path.Combine(Directory, "access.log");

    private string ErrorLogPath => Path.Combine(Directory, "error.log");

    /// <summary>A running upstream with nothing listed yet.</summary>
    public static async Task<LocalUpstream> StartNewAsync()
    {
        var upstream = new LocalUpstream();
        try
        {
            await upstream.StartAsync();
            return upstream;
        }
        catch
        {
            await upstream.DisposeAsync();
            throw;
        }
    }

    /// <summary>The project's page (normalized name), as a client asks for it.</summary>
    public string ProjectUrl(string project) => SimpleUrl + PackageName.Normalize(project) + "/";

    /// <summary>The path of the project's page on this server (<c>/simple/public-dep/</c>), as the access log shows it.</summary>
    public static string ProjectPath(string project) => "/simple/" + PackageName.Normalize(project) + "/";

    /// <summary>The path of a file on this server (<c>/packages/public-dep/public_dep-1.0-py3-none-any.whl</c>).</summary>
    public static string FilePath(string project, string filename) => $"/packages/{PackageName.Normalize(project)}/{filename}";

    /// <summary>
    /// Lists <paramref name="path"/> (a wheel or sdist) under <paramref name="project"/>, copying it into the tree; a wheel's
    /// METADATA is served beside it as <c>{file}.metadata</c> (advertised as <c>core-metadata</c>) unless
    /// <paramref name="withMetadata"/> is false. <paramref name="uploadTime"/> null: the pages give no upload-time.
    /// <paramref name="advertisedSha256Override"/>: the pages advertise that digest instead of the file's. Call
    /// <see cref="Render"/> to publish.
    /// </summary>
    public UpstreamFile Add(string project, string path, DateTimeOffset? uploadTime, string? requiresPython = null, string? yanked = null,
        bool withMetadata = true, string? advertisedSha256Override = null)
    {
        var normalized = PackageName.Normalize(project);
        var filename = Path.GetFileName(path);
        Assert.DoesNotContain(_files, f => f.Filename == filename);
        var directory = Path.Combine(Root, "packages", normalized);
        System.IO.Directory.CreateDirectory(directory);
        var target = Path.Combine(directory, filename);
        File.Copy(path, target);
        string? metadataSha256 = null;
        if (withMetadata && filename.EndsWith(".whl", StringComparison.Ordinal))
        {
            var metadata = WheelMetadata(target);
            File.WriteAllBytes(target + ".metadata", metadata);
            metadataSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(metadata));
        }

        var sha256 = Distributions.Sha256(target);
        var file = new UpstreamFile(normalized, VersionOf(filename), filename, sha256, advertisedSha256Override ?? sha256, new FileInfo(target).Length,
            uploadTime, requiresPython, yanked, metadataSha256);
        _files.Add(file);
        return file;
    }

    /// <summary>Writes the project list and every project's pages (HTML and JSON); unchanged pages are left as they are.</summary>
    public void Render()
    {
        var projects = _files.Select(f => f.Project).Distinct().Order(StringComparer.Ordinal).ToList();
        WriteIfChanged(Path.Combine(Root, "simple", "index.html"), ProjectListHtml(projects));
        WriteIfChanged(Path.Combine(Root, "simple", "index.json"), ProjectListJson(projects));
        foreach (var project in projects)
        {
            var files = _files.Where(f => f.Project == project).ToList();
            WriteIfChanged(Path.Combine(Root, "simple", project, "index.html"), ProjectHtml(project, files));
            WriteIfChanged(Path.Combine(Root, "simple", project, "index.json"), ProjectJson(project, files));
        }
    }

    /// <summary>Starts nginx (again, after <see cref="StopAsync"/>, on the same port); returns once it accepts connections.</summary>
    public async Task StartAsync()
    {
        Assert.False(IsRunning, "the local upstream is already running");
        var info = new ProcessStartInfo(Nginx)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Directory,
        };
        // -e: the error log from the first line on (before the configuration is read, nginx would write to /var/log/nginx).
        foreach (var argument in (string[])["-p", Directory + "/", "-c", ConfigPath, "-e", ErrorLogPath])
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            Assert.False(process.HasExited, $"nginx exited with code {(process.HasExited ? process.ExitCode : 0)}:\n{Log}");
            if (await AcceptsAsync())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"nginx did not listen on 127.0.0.1:{Port} within 30 s:\n{Log}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Stops nginx (SIGTERM to its master, which ends its workers first); returns once the port refuses connections.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        _process = null;
        Assert.False(await AcceptsAsync(), $"127.0.0.1:{Port} still accepts connections after nginx stopped");
    }

    /// <summary>The access log so far: one entry per finished request, oldest first.</summary>
    public IReadOnlyList<UpstreamRequest> Requests()
    {
        if (!File.Exists(AccessLogPath))
        {
            return [];
        }

        using var stream = new FileStream(AccessLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var requests = new List<UpstreamRequest>();
        while (reader.ReadLine() is { } line)
        {
            // "$request_method $request_uri $status $http_accept": the accept header (last) may contain spaces.
            var parts = line.Split(' ', 4);
            if (parts.Length < 3 || parts[1].StartsWith(MarkPath, StringComparison.Ordinal))
            {
                continue;
            }

            requests.Add(new UpstreamRequest(parts[0], parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture), parts.Length > 3 ? parts[3] : string.Empty));
        }

        return requests;
    }

    /// <summary>
    /// The access log once every request answered before this call is in it: nginx writes a request's line just after its last
    /// byte went out, so a client may read the answer a moment before. A marker request, logged after them, is waited for.
    /// </summary>
    public async Task<IReadOnlyList<UpstreamRequest>> RequestsAsync()
    {
        if (!IsRunning)
        {
            return Requests();
        }

        var mark = MarkPath + Guid.NewGuid().ToString("N");
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        using (await http.GetAsync(BaseUrl.TrimEnd('/') + mark))
        {
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.ReadAllText(AccessLogPath).Contains(mark, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the access log never showed {mark}");
            await Task.Delay(20);
        }

        return Requests();
    }

    /// <summary>The requests for one path (exact, query included).</summary>
    public async Task<IReadOnlyList<UpstreamRequest>> RequestsForAsync(string path) =>
        [.. (await RequestsAsync()).Where(r => r.Path == path)];

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        TestPaths.DeleteDirectory(Directory);
    }

    /// <summary>The METADATA of a wheel's top-level .dist-info directory, byte for byte.</summary>
    private static byte[] WheelMetadata(string wheel)
    {
        using var zip = ZipFile.OpenRead(wheel);
        var entry = zip.Entries.Single(e => e.FullName.EndsWith(".dist-info/METADATA", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1);
        using var stream = entry.Open();
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }

    /// <summary>The version part of a wheel's (name-version-tags.whl) or an sdist's (name-version.tar.gz) file name.</summary>
    private static string VersionOf(string filename) =>
        filename.EndsWith(".whl", StringComparison.Ordinal) ? filename.Split('-')[1]
        : filename.EndsWith(".tar.gz", StringComparison.Ordinal) ? filename[..^".tar.gz".Length].Split('-')[^1]
        : throw new ArgumentException($"{filename} is neither a wheel nor a .tar.gz sdist", nameof(filename));

    /// <summary>PEP 700's format: UTC with six decimals and a Z.</summary>
    private static string UploadTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string Attribute(string value) => WebUtility.HtmlEncode(value);

    private static string ProjectListHtml(IEnumerable<string> projects)
    {
        var html = new StringBuilder("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Simple index</title>\n  </head>\n  <body>\n");
        foreach (var project in projects)
        {
            html.Append(CultureInfo.InvariantCulture, $"    <a href=\"{Attribute(project)}/\">{WebUtility.HtmlEncode(project)}</a>\n");
        }

        return html.Append("  </body>\n</html>\n").ToString();
    }

    private static string ProjectListJson(IEnumerable<string> projects) => new JsonObject
    {
        ["meta"] = new JsonObject { ["api-version"] = "1.1" },
        ["projects"] = new JsonArray([.. projects.Select(p => (JsonNode)new JsonObject { ["name"] = p })]),
    }.ToJsonString();

    private static string ProjectHtml(string project, IEnumerable<UpstreamFile> files)
    {
        var html = new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Links for {WebUtility.HtmlEncode(project)}</title>\n  </head>\n  <body>\n    <h1>Links for {WebUtility.HtmlEncode(project)}</h1>\n");
        foreach (var file in files)
        {
            // Relative to /simple/{project}/, as pypi.org's own pages are.
            html.Append(CultureInfo.InvariantCulture, $"    <a href=\"../../packages/{project}/{Attribute(file.Filename)}#sha256={file.AdvertisedSha256}\"");
            if (file.RequiresPython is not null)
            {
                html.Append(CultureInfo.InvariantCulture, $" data-requires-python=\"{Attribute(file.RequiresPython)}\"");
            }

            if (file.MetadataSha256 is not null)
            {
                html.Append(CultureInfo.InvariantCulture, $" data-core-metadata=\"sha256={file.MetadataSha256}\" data-dist-info-metadata=\"sha256={file.MetadataSha256}\"");
            }

            if (file.Yanked is not null)
            {
                html.Append(CultureInfo.InvariantCulture, $" data-yanked=\"{Attribute(file.Yanked)}\"");
            }

            html.Append(CultureInfo.InvariantCulture, $">{WebUtility.HtmlEncode(file.Filename)}</a><br/>\n");
        }

        return html.Append("  </body>\n</html>\n").ToString();
    }

    private string ProjectJson(string project, IReadOnlyList<UpstreamFile> files)
    {
        var entries = new JsonArray();
        foreach (var file in files)
        {
            var entry = new JsonObject
            {
                ["filename"] = file.Filename,
                ["url"] = $"{BaseUrl}packages/{project}/{file.Filename}",
                ["hashes"] = new JsonObject { ["sha256"] = file.AdvertisedSha256 },
                ["requires-python"] = file.RequiresPython,
                ["size"] = file.Size,
            };
            if (file.UploadTime is { } time)
            {
                entry["upload-time"] = UploadTime(time);
            }

            entry["yanked"] = file.Yanked is null ? false : file.Yanked;
            entry["core-metadata"] = file.MetadataSha256 is null ? false : new JsonObject { ["sha256"] = file.MetadataSha256 };
            entries.Add(entry);
        }

        return new JsonObject
        {
            ["meta"] = new JsonObject { ["api-version"] = "1.1" },
            ["name"] = project,
            ["versions"] = new JsonArray([.. files.Select(f => f.Version).Distinct().Select(v => (JsonNode)JsonValue.Create(v))]),
            ["files"] = entries,
        }.ToJsonString();
    }

    private static void WriteIfChanged(string path, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
        {
            return;
        }

        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    private string Config()
    {
        var d = Directory;
        // Running as root (as the tests do here), nginx would switch its workers to "nobody", whose group Debian lacks.
        var user = Environment.UserName == "root" ? "user root root;\n" : string.Empty;
        return $$"""
            {{user}}daemon off;
            worker_processes 1;
            pid {{d}}/nginx.pid;
            error_log {{d}}/error.log info;

            events {
                worker_connections 256;
            }

            http {
                types {
                }
                default_type application/octet-stream;
                log_format upstream '$request_method $request_uri $status $http_accept';
                access_log {{d}}/access.log upstream;
                client_body_temp_path {{d}}/tmp/body;
                proxy_temp_path {{d}}/tmp/proxy;
                fastcgi_temp_path {{d}}/tmp/fastcgi;
                uwsgi_temp_path {{d}}/tmp/uwsgi;
                scgi_temp_path {{d}}/tmp/scgi;
                sendfile on;
                keepalive_timeout 30;

                # PEP 691: JSON when the client names the JSON type (whatever its q), else HTML.
                map $http_accept $simple_index {
                    default index.html;
                    "~*application/vnd\.pypi\.simple\.v1\+json" index.json;
                }

                server {
                    listen 127.0.0.1:{{Port}};
                    server_name upstream;
                    root {{d}}/www;

                    location /simple/ {
                        index $simple_index;
                    }

                    location ~ ^/simple/(.*/)?index\.json$ {
                        default_type application/vnd.pypi.simple.v1+json;
                        add_header Vary Accept;
                    }

                    location ~ ^/simple/(.*/)?index\.html$ {
                        default_type "text/html; charset=utf-8";
                        add_header Vary Accept;
                    }

                    location /packages/ {
                    }

                    location /_log-mark/ {
                        return 204;
                    }
                }
            }

            """;
    }

    private async Task<bool> AcceptsAsync()
    {
        using var client = new TcpClient();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(IPAddress.Loopback, Port, cts.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

}
