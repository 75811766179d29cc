using Builder.Core.Configuration;
using Builder.Data;
using Builder.Pipeline;
using Builder.Web.Api;
using Builder.Web.Index;
using Builder.Web.Webhooks;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
// Production (ConnectionStrings:Postgres set): this process only receives, serves and enqueues; workers build.
// Embedded default: this process runs the builds too.
builder.Services.AddBuilderPipeline(builder.Configuration, builder.Configuration.IsProductionMode() ? JobRole.Client : JobRole.Server);
builder.Services.AddProblemDetails();
builder.Services.AddSingleton<IndexCache>();

var app = builder.Build();
app.UseStatusCodePages();
app.MapRepositoryApi();
app.MapWebhooks();
app.MapBuildApi();
app.MapSimpleIndex();
app.MapPypiJson();
app.MapProjectAdmin();
app.Run();

/// <summary>Visible to the test host (WebApplicationFactory).</summary>
public partial class Program;
