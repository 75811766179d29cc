using Builder.Core.Builds;
using Builder.Core.Configuration;
using Builder.Core.Forges;
using Builder.Data;
using Builder.Index;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Builder.Pipeline;

/// <summary>
/// Hears the lifecycle's events and writes what the build's forge should be told (<see cref="ForgeReport"/> rows): a
/// commit status when a build is queued (pending), starts (running) and ends (success, failure, cancelled), and the
/// release's files when it is published and the repository asks for release assets. Writing a row is all it does, so
/// a slow or failing forge never holds up the outbox, let alone a build; <see cref="ForgeReporter"/> sends them.
/// </summary>
internal sealed class ForgeReportSubscriber(IDbContextFactory<BuilderDbContext> contexts, TimeProvider time) : IBuildEventSubscriber
{
    public string Name => "forge-reports";

    public async Task HandleAsync(BuildEvent buildEvent, CancellationToken cancellationToken)
    {
        var state = buildEvent.Kind switch
        {
            BuildEventKinds.Queued => ForgeReportStates.Pending,
            BuildEventKinds.Started => ForgeReportStates.Running,
            BuildEventKinds.Published => ForgeReportStates.Success,
            BuildEventKinds.Failed => ForgeReportStates.Failure,
            BuildEventKinds.Cancelled => ForgeReportStates.Cancelled,
            _ => null,
        };
        if (state is null)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var build = await db.Builds.AsNoTracking().Include(b => b.Repository).SingleOrDefaultAsync(b => b.Id == buildEvent.BuildId, cancellationToken);
        if (build?.Repository is not { ReportStatus: true } repository)
        {
            return;
        }

        // At least once: an event delivered again finds its reports already written.
        if (await db.ForgeReports.AnyAsync(r => r.EventId == buildEvent.Id, cancellationToken))
        {
            return;
        }

        var now = time.GetUtcNow();
        db.ForgeReports.Add(new ForgeReport
        {
            BuildId = build.Id,
            Target = ForgeReportTargets.Status(repository.Provider),
            State = state,
            Description = ForgeReportText.Describe(build, state, buildEvent.Detail),
            EventId = buildEvent.Id,
            CreatedAt = now,
            DueAt = now,
        });
        if (state == ForgeReportStates.Success && repository.ReleaseAssets)
        {
            db.ForgeReports.Add(new ForgeReport
            {
                BuildId = build.Id,
                Target = ForgeReportTargets.Release(repository.Provider),
                State = ForgeReportStates.Assets,
                Description = $"the files of {build.Project} {build.Version} on the release of {build.Tag}",
                EventId = buildEvent.Id,
                CreatedAt = now,
                DueAt = now,
            });
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}

/// <summary>The states a <see cref="ForgeReport"/> reports.</summary>
public static class ForgeReportStates
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Success = "success";
    public const string Failure = "failure";
    public const string Cancelled = "cancelled";

    /// <summary>Release files, not a status.</summary>
    public const string Assets = "assets";

    public static CommitState ToCommitState(string state) => state switch
    {
        Pending => CommitState.Pending,
        Running => CommitState.Running,
        Success => CommitState.Success,
        Failure => CommitState.Failure,
        Cancelled => CommitState.Cancelled,
        _ => throw new ArgumentException($"'{state}' is not a commit state", nameof(state)),
    };
}

/// <summary>The <see cref="ForgeReport.Target"/> values: "{provider}-status", "{provider}-release".</summary>
public static class ForgeReportTargets
{
    private const string StatusSuffix = "-status";
    private const string ReleaseSuffix = "-release";

    public static string Status(string provider) => provider + StatusSuffix;

    public static string Release(string provider) => provider + ReleaseSuffix;

    public static bool IsRelease(string target) => target.EndsWith(ReleaseSuffix, StringComparison.Ordinal);
}

/// <summary>The outcomes of a <see cref="ForgeReport"/>.</summary>
public static class ForgeReportOutcomes
{
    public const string Sent = "sent";
    public const string Retrying = "retrying";
    public const string Refused = "refused";
    public const string GaveUp = "gave-up";
    public const string Superseded = "superseded";
}

/// <summary>The one sentence a status carries (fitted by <see cref="ForgeText.Description"/>), the outcome first.</summary>
public static class ForgeReportText
{
    public static string Describe(Build build, string state, string? detail)
    {
        var release = build.Project is null ? build.Tag : $"{build.Project} {build.Version}";
        var text = state switch
        {
            ForgeReportStates.Pending => $"Queued: {build.Tag}",
            ForgeReportStates.Running => $"Running: building {build.Tag}",
            ForgeReportStates.Success => $"Published {release}",
            ForgeReportStates.Failure => $"Failed: {build.Error ?? detail ?? "see the build log"}",
            ForgeReportStates.Cancelled => $"Cancelled: {detail ?? build.Error ?? "the tag was deleted or an admin cancelled it"}",
            _ => state,
        };
        return ForgeText.Description(text);
    }
}

/// <summary>
/// Sends due <see cref="ForgeReport"/>s to the forges, oldest first, in every process that composes the pipeline: a
/// process claims a report by moving its due time forward (a conditional update, so two never send one), sends it
/// with the repository's credentials, and records the answer. A retryable failure (network, 5xx, rate limit) is tried
/// again with backoff (the forge's Retry-After when it gave one) up to <see cref="ForgeOptions.MaxAttempts"/>; a
/// refusal (401, 404, 422) is final. A status retried after a newer one of the same build was written is superseded
/// rather than sent late, so a forge never goes back from success to pending.
/// </summary>
public sealed partial class ForgeReporter(
    IServiceScopeFactory scopes,
    IEnumerable<IForgeClient> clients,
    IOptions<ForgeOptions> options,
    IOptions<PublicUrlOptions> publicUrl,
    TimeProvider time,
    ILogger<ForgeReporter> logger) : BackgroundService
{
    private static readonly TimeSpan Claim = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(options.Value.PollMilliseconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await SendNextAsync(stoppingToken))
                {
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The database is away: look again at the next poll.
                LogPollFailed(logger, ex);
            }

            try
            {
                await Task.Delay(poll, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Sends the oldest due report, if any; false when none is due.</summary>
    public async Task<bool> SendNextAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        var now = time.GetUtcNow();
        var report = await db.ForgeReports.AsNoTracking().Where(r => r.DueAt != null && r.DueAt <= now).OrderBy(r => r.Id).FirstOrDefaultAsync(cancellationToken);
        if (report is null)
        {
            return false;
        }

        // Claim it: whoever moves its due time first sends it; a process that dies holding it leaves it due again later.
        var claimed = await db.ForgeReports.Where(r => r.Id == report.Id && r.DueAt == report.DueAt)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.DueAt, now + Claim), cancellationToken);
        if (claimed == 0)
        {
            return true;
        }

        if (report.Attempts > 0 && !ForgeReportTargets.IsRelease(report.Target)
            && await db.ForgeReports.AnyAsync(r => r.BuildId == report.BuildId && r.Target == report.Target && r.Id > report.Id, cancellationToken))
        {
            await RecordAsync(db, report.Id, ForgeReportOutcomes.Superseded, "a newer status of this build was written before this one could be sent", null, report.Attempts, cancellationToken);
            return true;
        }

        ForgeCallResult result;
        try
        {
            result = await SendAsync(scope.ServiceProvider, db, report, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not DbUpdateException)
        {
            // Not the forge's answer (a stored API URL that no longer parses, a file gone from storage): counted as an
            // attempt, so it backs off and is given up after MaxAttempts instead of waiting out its claim forever.
            result = ForgeCallResult.Later($"the report could not be sent: {ex.GetType().Name}: {ex.Message}");
        }

        var attempts = report.Attempts + 1;
        if (result.Succeeded)
        {
            await RecordAsync(db, report.Id, ForgeReportOutcomes.Sent, result.Message, null, attempts, cancellationToken);
        }
        else if (result.Retryable && attempts < options.Value.MaxAttempts)
        {
            var backoff = result.RetryAfter ?? TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, 5 * Math.Pow(2, attempts - 1)));
            await RecordAsync(db, report.Id, ForgeReportOutcomes.Retrying, result.Message, time.GetUtcNow() + backoff, attempts, cancellationToken);
            LogRetrying(logger, report.Target, report.BuildId, backoff.TotalSeconds, result.Message);
        }
        else
        {
            var outcome = result.Retryable ? ForgeReportOutcomes.GaveUp : ForgeReportOutcomes.Refused;
            await RecordAsync(db, report.Id, outcome, result.Message, null, attempts, cancellationToken);
            LogNotSent(logger, report.Target, report.BuildId, outcome, result.Message);
        }

        return true;
    }

    private async Task<ForgeCallResult> SendAsync(IServiceProvider services, BuilderDbContext db, ForgeReport report, CancellationToken cancellationToken)
    {
        var build = await db.Builds.AsNoTracking().Include(b => b.Repository).SingleOrDefaultAsync(b => b.Id == report.BuildId, cancellationToken);
        if (build?.Repository is not { } repository)
        {
            return ForgeCallResult.Refused($"build {report.BuildId} or its repository no longer exists");
        }

        var client = clients.FirstOrDefault(c => c.Provider == repository.Provider);
        if (client is null)
        {
            return ForgeCallResult.Refused($"this process has no client for {repository.Provider}");
        }

        if (await services.GetRequiredService<RepositoryAddresses>().RefusalAsync(repository, cancellationToken) is { } refusal)
        {
            return ForgeCallResult.Refused($"the repository's address is refused: {refusal}");
        }

        ForgeRepository forge;
        try
        {
            forge = services.GetRequiredService<IRepositorySecrets>().Forge(repository);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return ForgeCallResult.Refused("the repository's credentials cannot be decrypted with this installation's key ring");
        }

        var baseUrl = publicUrl.Value.BaseUri;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            if (ForgeReportTargets.IsRelease(report.Target))
            {
                var files = await ReleaseFilesAsync(services, db, build, baseUrl, cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds + files.Sum(f => f.Size) / 1_000_000.0));
                return files.Count == 0
                    ? ForgeCallResult.Refused("the build published no files")
                    : await client.AttachReleaseFilesAsync(forge, build.Tag, files, timeout.Token);
            }

            timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
            var target = baseUrl is null ? null : PublicRoutes.Under(baseUrl, PublicRoutes.Build(build.Id));
            var status = new CommitStatus(build.ResolvedCommit ?? build.CommitSha, ForgeReportStates.ToCommitState(report.State), options.Value.StatusContext,
                ForgeText.Description(report.Description ?? report.State), target);
            return await client.SetCommitStatusAsync(forge, status, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ForgeCallResult.Later($"{repository.Provider} did not answer within the timeout");
        }
        catch (ForgeCredentialsException ex)
        {
            return ForgeCallResult.Refused(ex.Message);
        }
        catch (HttpRequestException ex)
        {
            return ForgeCallResult.Later($"{repository.Provider} could not be reached: {ex.Message}");
        }
    }

    private static async Task<List<ReleaseFile>> ReleaseFilesAsync(IServiceProvider services, BuilderDbContext db, Build build, Uri? baseUrl, CancellationToken cancellationToken)
    {
        var artifacts = services.GetRequiredService<PackageArtifacts>();
        var files = await db.Files.AsNoTracking().Where(f => f.BuildId == build.Id && f.DeletedAt == null).OrderBy(f => f.Filename).ToListAsync(cancellationToken);
        return files.Select(f => new ReleaseFile(
            f.Filename,
            f.Size,
            f.Sha256,
            baseUrl is null ? new Uri(PublicRoutes.File(f.Project, f.Filename), UriKind.Relative) : PublicRoutes.Under(baseUrl, PublicRoutes.File(f.Project, f.Filename)),
            async ct => (await artifacts.OpenFileAsync(f.Project, f.Filename, ct))?.Stream
                ?? throw new FileNotFoundException($"{f.Filename} is missing from the artifact store"))).ToList();
    }

    private Task<int> RecordAsync(BuilderDbContext db, long id, string outcome, string detail, DateTimeOffset? dueAt, int attempts, CancellationToken cancellationToken)
    {
        var sentAt = time.GetUtcNow();
        var text = detail.Length <= 1000 ? detail : detail[..1000];
        return db.ForgeReports.Where(r => r.Id == id).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.Outcome, outcome)
            .SetProperty(r => r.Detail, text)
            .SetProperty(r => r.DueAt, dueAt)
            .SetProperty(r => r.Attempts, attempts)
            .SetProperty(r => r.SentAt, sentAt), cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forge reports: the poll failed; trying again")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Target} of build {BuildId} failed; again in {Seconds} s: {Message}")]
    private static partial void LogRetrying(ILogger logger, string target, long buildId, double seconds, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Target} of build {BuildId} not sent ({Outcome}): {Message}")]
    private static partial void LogNotSent(ILogger logger, string target, long buildId, string outcome, string message);
}
