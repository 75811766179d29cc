using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Builder.Access.Provenance;
using Builder.Core.Builds;
using Builder.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Builder.Pipeline;

/// <summary>
/// What a release's build states about each file it made: an in-toto v1 statement with the file as its one subject and a
/// SLSA v1 provenance predicate (the tag, the commit, the image by digest, the architecture and target, the build and
/// the log section that made it), signed by Builder's current provenance key when the release is published. Made here,
/// in the publishing process, never in a build container: the signing key stays out of reach of build code.
/// </summary>
public sealed class ReleaseProvenance(ProvenanceKeys keys, IOptions<PublicUrlOptions> publicUrl, TimeProvider time)
{
    /// <summary>The build type every statement names (documented in the README: what the parameters mean).</summary>
    public const string BuildType = "https://github.com/builder-index/builder/buildtypes/wheel/v1";

    /// <summary>The publisher kind of Builder's attestation bundles.</summary>
    public const string PublisherKind = "builder";

    private static readonly string BuilderVersion =
        typeof(ReleaseProvenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The provenance object (JSON) of each staged file of <paramref name="build"/>, by file name.</summary>
    public async Task<IReadOnlyDictionary<string, string>> AttestAsync(Build build, IReadOnlyList<BuildPart> parts, IReadOnlyList<StagedFile> files, CancellationToken cancellationToken)
    {
        var signer = await keys.SignerAsync(cancellationToken);
        var repository = build.Repository ?? throw new InvalidOperationException($"build {build.Id} is loaded without its repository");
        var buildUrl = Url(PublicRoutes.BuildPage(build.Id));
        // PEP 740's publisher: its kind, then what identifies the source and the build, also as its claims.
        JsonObject Claims() => new()
        {
            ["repository"] = repository.Name,
            ["tag"] = build.Tag,
            ["commit"] = build.ResolvedCommit ?? build.CommitSha,
            ["build"] = buildUrl,
        };
        JsonObject Publisher()
        {
            var publisher = new JsonObject { ["kind"] = PublisherKind };
            foreach (var (name, value) in Claims())
            {
                publisher[name] = value?.DeepClone();
            }

            publisher["claims"] = Claims();
            return publisher;
        }

        var finished = time.GetUtcNow();
        var provenance = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var part = parts.FirstOrDefault(p => p.Id == file.PartId);
            var statement = Statement(build, repository, part, file, buildUrl, finished);
            provenance[file.Filename] = Attestations.Provenance(Publisher(), Attestations.Attest(statement, signer));
        }

        return provenance;
    }

    private byte[] Statement(Build build, SourceRepository repository, BuildPart? part, StagedFile file, string buildUrl, DateTimeOffset finished)
    {
        var tagRef = "refs/tags/" + build.Tag;
        var commit = build.ResolvedCommit ?? build.CommitSha;
        var target = file.Target ?? (file.Filename.EndsWith(".tar.gz", StringComparison.Ordinal) ? "sdist" : null);
        var internalParameters = new JsonObject
        {
            ["architecture"] = part?.Architecture,
            ["identifier"] = target,
            ["image"] = part?.Image,
            ["imageDigest"] = part?.ImageDigest,
            ["builderVersion"] = BuilderVersion,
        };
        var dependencies = new JsonArray(new JsonObject
        {
            ["uri"] = $"git+{repository.CloneUrl}@{tagRef}",
            ["digest"] = new JsonObject { ["gitCommit"] = commit },
        });
        if (part?.Image is { } image && part.ImageDigest is { } digest && digest.StartsWith("sha256:", StringComparison.Ordinal))
        {
            dependencies.Add(new JsonObject
            {
                ["uri"] = "docker-image://" + image,
                ["digest"] = new JsonObject { ["sha256"] = digest["sha256:".Length..] },
            });
        }

        var byproducts = new JsonArray();
        if (target is not null)
        {
            byproducts.Add(new JsonObject
            {
                ["name"] = $"log of {target}",
                ["uri"] = Url(PublicRoutes.BuildLog(build.Id, target)),
                ["mediaType"] = "text/plain",
            });
        }

        var statement = new JsonObject
        {
            ["_type"] = "https://in-toto.io/Statement/v1",
            ["subject"] = new JsonArray(new JsonObject
            {
                ["name"] = file.Filename,
                ["digest"] = new JsonObject { ["sha256"] = file.Sha256 },
            }),
            ["predicateType"] = "https://slsa.dev/provenance/v1",
            ["predicate"] = new JsonObject
            {
                ["buildDefinition"] = new JsonObject
                {
                    ["buildType"] = BuildType,
                    ["externalParameters"] = new JsonObject
                    {
                        ["repository"] = repository.CloneUrl,
                        ["forge"] = repository.Provider,
                        ["ref"] = tagRef,
                    },
                    ["internalParameters"] = internalParameters,
                    ["resolvedDependencies"] = dependencies,
                },
                ["runDetails"] = new JsonObject
                {
                    ["builder"] = new JsonObject { ["id"] = Url("/") },
                    ["metadata"] = new JsonObject
                    {
                        ["invocationId"] = buildUrl,
                        ["startedOn"] = Rfc3339(build.StartedAt ?? build.CreatedAt),
                        ["finishedOn"] = Rfc3339(part?.FinishedAt ?? finished),
                    },
                    ["byproducts"] = byproducts,
                },
            },
        };
        return System.Text.Encoding.UTF8.GetBytes(statement.ToJsonString());
    }

    /// <summary>An address of this installation: under <c>Builder:PublicUrl</c>, or relative to its root when that is not set.</summary>
    private string Url(string route) => publicUrl.Value.BaseUri is { } baseUri ? PublicRoutes.Under(baseUri, route).AbsoluteUri : route;

    private static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
