using Builder.Data;
using Builder.Docker;
using Builder.Forges;
using Builder.Git;
using Builder.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

// The production worker: a Hangfire server that runs builds from the PostgreSQL job store. The only process that talks to
// Docker. It answers /healthz and /readyz (database, storage, Docker) and /metrics at Builder:Worker:Urls.
var builder = WebApplication.CreateSlimBuilder(args);
bool production;
try
{
    production = builder.Configuration.IsProductionMode();
}
catch (InvalidOperationException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}

if (!production)
{
    await Console.Error.WriteLineAsync("Builder.Worker needs production mode (Builder__Database=postgres and ConnectionStrings__Postgres): it takes builds from the shared PostgreSQL job store. For one machine, run src/Builder.Web alone.");
    return 2;
}

// What builds need, then the job server: the Docker sweep of this worker's leftovers runs before it takes a job.
builder.Services.AddBuilderGit();
builder.Services.AddBuilderDocker();
builder.Services.AddBuilderForges();
builder.Services.AddBuilderPipeline(builder.Configuration, JobRole.Server);
// Unset: a random loopback port, so several workers on one host never collide (and nothing outside reaches it).
var urls = builder.Configuration["Builder:Worker:Urls"];
builder.WebHost.UseUrls(string.IsNullOrWhiteSpace(urls) ? "http://127.0.0.1:0" : urls);
var app = builder.Build();
app.UseNoSniff();
app.MapBuilderHealth();
app.MapBuilderMetrics().AddEndpointFilter(ActivatorUtilities.CreateInstance<RequireMetricsToken>(app.Services));
await app.RunAsync();
return 0;
