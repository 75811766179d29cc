namespace Builder.Tests.Integration.Infrastructure;

public sealed record TaggedRepository(string BareDirectory, string CloneUrl, string Tag, string CommitSha, string TagObjectSha);

/// <summary>Real git repositories: a work tree committed and pushed, with its tag, to a local bare repository (file:// URL).</summary>
internal static class GitRepositories
{
    public static async Task<TaggedRepository> CreateAsync(string root, IReadOnlyDictionary<string, string> files, string tag, bool annotated = true)
    {
        var work = Path.Combine(root, "work");
        var bare = Path.Combine(root, "origin.git");
        Directory.CreateDirectory(work);
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(work, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content);
        }

        (await Shell.GitAsync(root, "init", "--bare", "-q", bare)).EnsureSuccess("git init --bare");
        (await Shell.GitAsync(work, "init", "-q", "-b", "main")).EnsureSuccess("git init");
        (await Shell.GitAsync(work, "add", "-A")).EnsureSuccess("git add");
        (await Shell.GitAsync(work, "commit", "-q", "-m", "release " + tag)).EnsureSuccess("git commit");
        if (annotated)
        {
            (await Shell.GitAsync(work, "tag", "-a", tag, "-m", "Release " + tag)).EnsureSuccess("git tag -a");
        }
        else
        {
            (await Shell.GitAsync(work, "tag", tag)).EnsureSuccess("git tag");
        }

        (await Shell.GitAsync(work, "push", "-q", bare, "main", "--tags")).EnsureSuccess("git push");
        var commit = (await Shell.GitAsync(work, "rev-parse", tag + "^{commit}")).EnsureSuccess("git rev-parse").Output.Trim();
        var tagObject = (await Shell.GitAsync(work, "rev-parse", tag)).EnsureSuccess("git rev-parse").Output.Trim();
        return new TaggedRepository(bare, new Uri(bare).AbsoluteUri, tag, commit, tagObject);
    }
}
