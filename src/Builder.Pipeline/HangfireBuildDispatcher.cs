using Builder.Core.Builds;
using Hangfire;

namespace Builder.Pipeline;

/// <summary>Enqueues the build job with the build's id only: everything else the job reads from the database.</summary>
internal sealed class HangfireBuildDispatcher(IBackgroundJobClient jobs) : IBuildDispatcher
{
    public void Enqueue(long buildId) => jobs.Enqueue<BuildJob>(job => job.RunAsync(buildId, CancellationToken.None));
}
