using Builder.Core.Builds;
using Builder.Data;

namespace Builder.Index;

/// <summary>"Project X changed" (publish, yank, delete) for every process that caches index pages.</summary>
internal sealed class IndexChangeNotifier(IChangeNotifier changes) : IIndexChangeNotifier
{
    public Task ProjectChangedAsync(string project, CancellationToken cancellationToken) =>
        changes.NotifyAsync(ChangeTopics.Index, project, cancellationToken);
}
