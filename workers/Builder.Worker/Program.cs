using Builder.Data;
using Builder.Docker;
using Builder.Forges;
using Builder.Git;
using Builder.Pipeline;

// The production worker: a Hangfire server that runs builds from the PostgreSQL job store. The only process that talks to Docker.
var builder = Host.CreateApplicationBuilder(args);
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
await builder.Build().RunAsync();
return 0;
