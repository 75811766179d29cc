using System.Net;
using System.Net.Sockets;
using Builder.Index;
using Builder.Tests.Integration.Host;
using Builder.Tests.Integration.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Index;

/// <summary>
/// The real web app on a loopback port (Kestrel, so real clients like pip can reach it), with files published through
/// the app's own <see cref="ReleasePublisher"/>: the same path builds, uploads and imports take.
/// </summary>
public sealed class ServedIndex : IDisposable
{
    private readonly BuilderWebFactory _factory = new();

    public ServedIndex()
    {
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        _factory.UseKestrel(Port);
        _factory.StartServer();
        Client = new BuilderClient(BuilderInstance.AdminHttp(BaseUrl, new HttpClientHandler { AllowAutoRedirect = false }), BuilderInstance.AdminToken);
        Work = TestPaths.NewTempDirectory("index");
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}/";

    /// <summary>The index URL for pip, with the admin token as Basic password (the index is private).</summary>
    public string SimpleUrl => BuilderInstance.WithCredentials(BaseUrl + "simple/");

    public BuilderClient Client { get; }

    public HttpClient Http => Client.Http;

    /// <summary>A scratch directory for distribution files and venvs.</summary>
    public string Work { get; }

    public string DataDir => _factory.DataDir;

    public async Task<PublishOutcome> PublishAsync(params string[] paths)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var publisher = scope.ServiceProvider.GetRequiredService<ReleasePublisher>();
        var files = new List<CheckedFile>();
        foreach (var path in paths)
        {
            files.Add(await DistributionInspector.InspectAsync(path, Path.GetFileName(path), CancellationToken.None));
        }

        return await publisher.PublishAsync(files, buildId: null, CancellationToken.None);
    }

    public async Task<HttpResponseMessage> AdminPostAsync(string path, object? body = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = System.Net.Http.Json.JsonContent.Create(body ?? new { }) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
        return await Http.SendAsync(request);
    }

    public async Task<HttpResponseMessage> AdminDeleteAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", BuilderInstance.AdminToken);
        return await Http.SendAsync(request);
    }

    public void Dispose()
    {
        _factory.Dispose();
        TestPaths.DeleteDirectory(Work);
    }
}
