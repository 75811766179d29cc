using Builder.Core.Builds;
using Hangfire;

namespace Builder.Pipeline;

/// <summary>Enqueues jobs with ids only: everything else the jobs read from the database.</summary>
internal sealed class HangfireBuildDispatcher(IBackgroundJobClient jobs) : IBuildDispatcher
{
    public void Enqueue(long buildId) => jobs.Enqueue<BuildJob>(BuildQueues.Plan, job => job.RunAsync(buildId, CancellationToken.None));

    public string EnqueuePart(long partId, string architecture) =>
        jobs.Enqueue<BuildPartJob>(BuildQueues.ForArchitecture(architecture), job => job.RunAsync(partId, CancellationToken.None));

    public void EnqueuePublish(long buildId) => jobs.Enqueue<PublishReleaseJob>(BuildQueues.Plan, job => job.RunAsync(buildId, null, CancellationToken.None));

    public void Cancel(string jobId) => jobs.Delete(jobId);
}
