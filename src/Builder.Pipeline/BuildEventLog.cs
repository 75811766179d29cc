using Builder.Core.Builds;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Builder.Pipeline;

/// <summary>
/// One log line per lifecycle event of a build (queued, started, planned, each part's start and end, published, failed,
/// cancelled), with the build id and repository in the line's scope: what an operator follows in the process logs,
/// without reading the build log. Delivered from the outbox like every subscriber, so at least once.
/// </summary>
internal sealed partial class BuildEventLog(IDbContextFactory<BuilderDbContext> contexts, ILogger<BuildEventLog> logger) : IBuildEventSubscriber
{
    public string Name => "log";

    public async Task HandleAsync(BuildEvent buildEvent, CancellationToken cancellationToken)
    {
        if (!logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var build = await db.Builds.AsNoTracking().Where(b => b.Id == buildEvent.BuildId)
            .Select(b => new { Repository = b.Repository!.Name, b.Tag })
            .SingleOrDefaultAsync(cancellationToken);
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["BuildId"] = buildEvent.BuildId,
            ["Repository"] = build?.Repository ?? "?",
        });
        var detail = buildEvent.Detail is { Length: > 0 } text ? ": " + (text.Length <= 500 ? text : text[..500] + "…") : string.Empty;
        if (buildEvent.PartId is { } partId)
        {
            LogPartEvent(logger, buildEvent.BuildId, partId, buildEvent.Kind, build?.Repository ?? "?", build?.Tag ?? "?", detail);
        }
        else
        {
            LogBuildEvent(logger, buildEvent.BuildId, buildEvent.Kind, build?.Repository ?? "?", build?.Tag ?? "?", detail);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} {Event}: {Repository} {Tag}{Detail}")]
    private static partial void LogBuildEvent(ILogger logger, long buildId, string @event, string repository, string tag, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Build {BuildId} part {PartId} {Event}: {Repository} {Tag}{Detail}")]
    private static partial void LogPartEvent(ILogger logger, long buildId, long partId, string @event, string repository, string tag, string detail);
}
