using Builder.Access;
using Builder.Core.Access;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Data;
using Builder.Docker;
using Builder.Forges;
using Builder.Git;
using Builder.Index;
using Builder.Ldap;
using Builder.Pipeline;
using Builder.Storage;
using Builder.Web;
using Builder.Web.Access;
using Builder.Web.Api;
using Builder.Web.Catalog;
using Builder.Web.Http;
using Builder.Web.Import;
using Builder.Web.Index;
using Builder.Web.Provenance;
using Builder.Web.Ui;
using Builder.Web.Upload;
using Builder.Web.Upstream;
using Builder.Web.Webhooks;

if (args is [ImportCommand.Name, .. var importArgs])
{
    // `import DIR`: the server's configuration, database, store and the index's writer; no HTTP server, no build
    // pipeline and no admin token, which only the HTTP API needs.
    var import = CommandHost.CreateBuilder(importArgs.Skip(1).ToArray());
    import.Services.AddSingleton(TimeProvider.System);
    import.Services.AddBuilderData(import.Configuration);
    import.Services.AddBuilderStorage();
    import.Services.AddBuilderIndex();
    using var importHost = import.Build();
    // The exit code goes through Environment.ExitCode, so the web host's path below stays a plain app.Run().
    Environment.ExitCode = await ImportCommand.RunAsync(importHost, importArgs);
    return;
}

if (args is [BuildCommand.Name, .. var buildArgs])
{
    // `build --repository ID --tag TAG`: asks the running service to build a tag (no host of its own).
    Environment.ExitCode = await BuildCommand.RunAsync(buildArgs, Console.Out, Console.Error);
    return;
}

if (args is [VerifyCommand.Name, .. var verifyArgs])
{
    // `verify --url URL [--ca FILE] FILE...`: checks local files against the provenance an index serves (no host of its own).
    Environment.ExitCode = await VerifyCommand.RunAsync(verifyArgs, Environment.GetEnvironmentVariable(BuildCommand.TokenVariable), Console.Out, Console.Error);
    return;
}

if (args is [TokenCommand.Name, .. var tokenArgs])
{
    // `token create|list|revoke`: bootstrap without HTTP (the first token of an installation), no admin token needed.
    var command = CommandHost.CreateBuilder(tokenArgs);
    command.Services.AddBuilderPipeline(command.Configuration, JobRole.Client);
    command.Services.AddBuilderAccess();
    using var commandHost = command.Build();
    Environment.ExitCode = await TokenCommand.RunAsync(commandHost, tokenArgs, Console.Out, Console.Error);
    return;
}

if (args is [Builder.Web.Provenance.ProvenanceCommand.Name, .. var provenanceArgs])
{
    // `provenance rotate`: a new signing key under the installation's CA, without HTTP (like `token`).
    var command = CommandHost.CreateBuilder(provenanceArgs);
    command.Services.AddBuilderPipeline(command.Configuration, JobRole.Client);
    command.Services.AddBuilderAccess();
    using var commandHost = command.Build();
    Environment.ExitCode = await Builder.Web.Provenance.ProvenanceCommand.RunAsync(commandHost, provenanceArgs, Console.Out, Console.Error);
    return;
}

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddBuilderOptions<AdminOptions>(AdminOptions.SectionName);
builder.Services.AddBuilderOptions<UploadOptions>(UploadOptions.SectionName);
// Production (Builder:Database = postgres): this process only receives, serves and enqueues; workers build, and it
// composes no git or Docker code. Embedded default: this process runs the builds too.
if (builder.Configuration.IsProductionMode())
{
    builder.Services.AddBuilderTagResolver();
    builder.Services.AddBuilderPipeline(builder.Configuration, JobRole.Client);
}
else
{
    builder.Services.AddBuilderGit();
    builder.Services.AddBuilderDocker();
    builder.Services.AddBuilderPipeline(builder.Configuration, JobRole.Server);
}
builder.Services.AddBuilderForges();
builder.Services.AddScoped<TagBuilds>();
builder.Services.AddScoped<WebhookIntake>();
// Yank, unyank and delete, and retention policies (with their schedule), and projects' settings (their quota): the
// index's writer, behind the admin routes and pages only this host serves.
builder.Services.AddBuilderReleaseAdmin();
builder.Services.AddScoped<ProjectSettingsAdmin>();
builder.Services.AddBuilderChangeListener(builder.Configuration);
builder.Services.AddBuilderAccess();
builder.Services.AddBuilderAccessWatcher();
if (builder.Configuration.GetSection(AccessOptions.SectionName).Get<AccessOptions>()?.People == PeopleService.LdapSource)
{
    builder.Services.AddBuilderLdap();
}

builder.Services.AddBuilderForwardedHeaders(builder.Configuration);
// Embedded builds reach this process's own index (through each container's relay) at the address it listens on.
builder.Services.AddSingleton<IIndexAddress, ServerIndexAddress>();
builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = Builder.Web.Http.BadRequestHandler.DescribeStatus);
// A request the framework cannot bind throws (in production too) so that BadRequestHandler answers a 400 naming the field.
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new Builder.Web.Http.TextWithoutNul()));
builder.Services.AddExceptionHandler<Builder.Web.Http.BadRequestHandler>();
builder.Services.AddExceptionHandler<Builder.Web.Http.UnavailableHandler>();
builder.Services.AddBuilderIndexReadModel();
builder.Services.AddStorageCollection();
builder.Services.AddBuilderCatalog();
builder.Services.AddBuilderUi();

var app = builder.Build();
// Who sends a request is AccessMiddleware's question alone, and no route carries [Authorize]: the authentication and
// authorization middleware ASP.NET Core would add because Razor Pages register their services would only cost every
// request (of the index above all) two more steps that find nothing to do.
((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
((IApplicationBuilder)app).Properties["__AuthorizationMiddlewareSet"] = true;
// First: request counts and latencies by route template include the answers of everything below (401, 429, 503, 500).
app.UseBuilderHttpMetrics();
// X-Content-Type-Options on every answer, problems and 404s included.
app.UseBuilderSecurityHeaders();
app.UseForwardedHeaders();
// Unhandled exceptions become problems: a request that could not be bound or read (BadHttpRequestException) keeps its
// 400 (413, 415) with a detail naming the field (BadRequestHandler), the database or the artifact store being away is a
// 503 (UnavailableHandler), anything else a 500.
app.UseExceptionHandler(new ExceptionHandlerOptions
{
    StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
});
app.UseStatusCodePages();
// A browser's state-changing request from another site is refused before its credentials are looked at.
app.UseMiddleware<CrossSiteGuard>();
app.UseMiddleware<AccessMiddleware>();
app.MapRepositoryApi();
app.MapWebhooks();
app.MapBuildApi();
app.MapCatalogApi();
app.MapSimpleIndex();
app.MapIntegrity();
app.MapUploads();
app.MapPypiJson();
app.MapProjectAdmin();
app.MapStorageAdmin();
app.MapUpstreamAdmin();
app.MapRetentionPolicies();
app.MapAccessApi();
app.MapTrustedPublishing();
app.MapBuilderHealth();
app.MapBuilderMetrics().AddEndpointFilter(new RequireMetricsReader());
app.MapBuilderUi();
app.Run();

/// <summary>Visible to the test host (WebApplicationFactory).</summary>
public partial class Program;
