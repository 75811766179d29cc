using Builder.Data;
using Builder.Pipeline;

// The production worker: a Hangfire server that runs builds from the PostgreSQL job store. The only process that talks to Docker.
var builder = Host.CreateApplicationBuilder(args);
if (!builder.Configuration.IsProductionMode())
{
    await Console.Error.WriteLineAsync("Builder.Worker needs ConnectionStrings:Postgres (set ConnectionStrings__Postgres): it takes builds from the shared PostgreSQL job store. For one machine, run src/Builder.Web alone.");
    return 2;
}

builder.Services.AddBuilderPipeline(builder.Configuration, JobRole.Server);
await builder.Build().RunAsync();
return 0;
