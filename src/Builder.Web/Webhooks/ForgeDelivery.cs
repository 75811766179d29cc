using System.Text.Json;
using Builder.Core.Builds;
using Builder.Core.Forges;
using Builder.Core.Webhooks;
using Octokit.Webhooks.Events;

namespace Builder.Web.Webhooks;

/// <summary>What a delivery asks: build a tag, cancel a deleted tag's builds, answer a ping, or nothing (and why).</summary>
internal enum DeliveryAction
{
    Build,
    Delete,
    Ping,
    Ignore,
}

/// <summary>
/// A forge's webhook delivery, parsed (before the repository is known or the signature checked). <see cref="CommitSha"/>
/// is the peeled commit when the payload names it; null when only the tag is known (a GitHub <c>create</c> or
/// <c>release</c> event), and the tag is then resolved on the repository.
/// </summary>
internal sealed record ForgeDelivery(
    string Provider,
    string Event,
    string RepositoryName,
    DeliveryAction Action,
    Func<string, bool> IsSignedWith)
{
    /// <summary>The forge instance the payload's web URL names (null: it names none).</summary>
    public string? Instance { get; init; }

    public string? DeliveryId { get; init; }

    public string? IdempotencyKey { get; init; }

    public string? Tag { get; init; }

    public string? CommitSha { get; init; }

    /// <summary>What starts a build in this delivery: <see cref="RepositoryTriggers.Tag"/> (a tag push) or <see cref="RepositoryTriggers.Release"/>.</summary>
    public string Trigger { get; init; } = RepositoryTriggers.Tag;

    /// <summary>Why nothing is done (<see cref="DeliveryAction.Ignore"/>).</summary>
    public string? IgnoreReason { get; init; }

    /// <summary>The GitHub App installation that sent it.</summary>
    public long? InstallationId { get; init; }

    /// <summary>The payload's size in bytes.</summary>
    public int Size { get; init; }
}

/// <summary>The payload cannot be read; the message names what is wrong.</summary>
internal sealed class MalformedDeliveryException(string message) : Exception(message);

/// <summary>
/// GitHub (and GitHub Enterprise Server) deliveries, read with Octokit.Webhooks' typed payloads: <c>push</c> of a tag
/// (the commit is <c>head_commit.id</c>: for an annotated tag <c>after</c> is the tag object), <c>create</c> and
/// <c>release</c> (<c>published</c>) naming a tag, <c>delete</c> and pushes with <c>deleted: true</c>, <c>ping</c>.
/// </summary>
internal static class GitHubDeliveries
{
    private const string TagPrefix = "refs/tags/";

    public static ForgeDelivery Parse(IHeaderDictionary headers, byte[] body)
    {
        var eventName = headers["X-GitHub-Event"].FirstOrDefault() ?? string.Empty;
        var signature = headers["X-Hub-Signature-256"].FirstOrDefault();
        var delivery = Read<WebhookEventShape>(body);
        var name = delivery.Repository?.FullName;
        if (string.IsNullOrEmpty(name))
        {
            throw new MalformedDeliveryException("the payload has no repository.full_name");
        }

        var baseDelivery = new ForgeDelivery(ForgeProviders.GitHub, eventName, name, DeliveryAction.Ignore, secret => WebhookSignature.IsValid(secret, body, signature))
        {
            Instance = ForgeAddress.InstanceOf(delivery.Repository?.HtmlUrl),
            DeliveryId = headers["X-GitHub-Delivery"].FirstOrDefault(),
            InstallationId = delivery.Installation?.Id,
        };
        return Classify(baseDelivery, eventName, body);
    }

    /// <summary>GitHub-shaped payloads (GitHub's own, Gitea's and Forgejo's) classified by event name.</summary>
    internal static ForgeDelivery Classify(ForgeDelivery delivery, string eventName, byte[] body)
    {
        switch (eventName)
        {
            case "ping":
                return delivery with { Action = DeliveryAction.Ping };
            case "push":
                var push = Read<PushEvent>(body);
                if (push.Ref is null || !push.Ref.StartsWith(TagPrefix, StringComparison.Ordinal))
                {
                    return delivery with { IgnoreReason = $"a push to {push.Ref ?? "no ref"}, not a tag" };
                }

                var tag = push.Ref[TagPrefix.Length..];
                if (push.Deleted || IsZero(push.After))
                {
                    return delivery with { Action = DeliveryAction.Delete, Tag = tag };
                }

                return delivery with { Action = DeliveryAction.Build, Tag = tag, CommitSha = push.HeadCommit?.Id ?? push.After };
            case "create":
                var create = Read<CreateEvent>(body);
                return IsTag(create.RefType.StringValue)
                    ? delivery with { Action = DeliveryAction.Build, Tag = StripTagPrefix(create.Ref) }
                    : delivery with { IgnoreReason = $"a {create.RefType.StringValue} was created, not a tag" };
            case "delete":
                var delete = Read<DeleteEvent>(body);
                return IsTag(delete.RefType.StringValue)
                    ? delivery with { Action = DeliveryAction.Delete, Tag = StripTagPrefix(delete.Ref) }
                    : delivery with { IgnoreReason = $"a {delete.RefType.StringValue} was deleted, not a tag" };
            case "release":
                var release = Read<ReleaseEventShape>(body);
                if (release.Action != "published" || string.IsNullOrEmpty(release.Release?.TagName))
                {
                    return delivery with { IgnoreReason = $"release action '{release.Action}' (only 'published' builds)" };
                }

                return delivery with { Action = DeliveryAction.Build, Tag = release.Release.TagName, Trigger = RepositoryTriggers.Release };
            default:
                return delivery with { IgnoreReason = $"event '{eventName}' does not start builds" };
        }
    }

    private static bool IsTag(string? refType) => string.Equals(refType, "tag", StringComparison.Ordinal);

    private static string StripTagPrefix(string value) => value.StartsWith(TagPrefix, StringComparison.Ordinal) ? value[TagPrefix.Length..] : value;

    internal static bool IsZero(string? sha) => string.IsNullOrEmpty(sha) || sha.All(c => c == '0');

    /// <summary>
    /// Octokit.Webhooks marks most payload fields required; Builder reads a handful, and forges differ (GitHub
    /// Enterprise versions, Gitea, Forgejo), so a missing field Builder does not read never refuses a delivery.
    /// </summary>
    private static readonly JsonSerializerOptions Lenient = new()
    {
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver
        {
            Modifiers =
            {
                type =>
                {
                    foreach (var property in type.Properties)
                    {
                        property.IsRequired = false;
                    }
                },
            },
        },
    };

    internal static T Read<T>(byte[] body)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, Lenient) ?? throw new MalformedDeliveryException("the payload must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw new MalformedDeliveryException($"the body is not a valid payload: {ex.Message}");
        }
    }

    /// <summary>The fields every delivery carries (Octokit.Webhooks' base event, with the repository's web URL).</summary>
    private sealed class WebhookEventShape
    {
        [System.Text.Json.Serialization.JsonPropertyName("repository")]
        public RepositoryShape? Repository { get; init; }

        [System.Text.Json.Serialization.JsonPropertyName("installation")]
        public Octokit.Webhooks.Models.InstallationLite? Installation { get; init; }
    }

    private sealed class RepositoryShape
    {
        [System.Text.Json.Serialization.JsonPropertyName("full_name")]
        public string? FullName { get; init; }

        [System.Text.Json.Serialization.JsonPropertyName("html_url")]
        public string? HtmlUrl { get; init; }
    }

    /// <summary>Octokit.Webhooks' release event types differ by action; the action and tag are all Builder reads.</summary>
    private sealed class ReleaseEventShape
    {
        [System.Text.Json.Serialization.JsonPropertyName("action")]
        public string? Action { get; init; }

        [System.Text.Json.Serialization.JsonPropertyName("release")]
        public Octokit.Webhooks.Models.Release? Release { get; init; }
    }
}

/// <summary>Gitea and Forgejo: GitHub-shaped payloads, X-Gitea-Event, X-Gitea-Delivery and X-Gitea-Signature (hex, no prefix).</summary>
internal static class GiteaDeliveries
{
    public static ForgeDelivery Parse(IHeaderDictionary headers, byte[] body)
    {
        var eventName = headers["X-Gitea-Event"].FirstOrDefault() ?? headers["X-Forgejo-Event"].FirstOrDefault() ?? string.Empty;
        var signature = headers["X-Gitea-Signature"].FirstOrDefault() ?? headers["X-Forgejo-Signature"].FirstOrDefault();
        using var document = DeliveryJson.ParseObject(body);
        var repository = document.RootElement.TryGetProperty("repository", out var r) && r.ValueKind == JsonValueKind.Object ? r : default;
        var name = repository.ValueKind == JsonValueKind.Object ? DeliveryJson.StringOrNull(repository, "full_name") : null;
        if (string.IsNullOrEmpty(name))
        {
            throw new MalformedDeliveryException("the payload has no repository.full_name");
        }

        var delivery = new ForgeDelivery(ForgeProviders.Gitea, eventName, name, DeliveryAction.Ignore, secret => WebhookSignature.IsValidGitea(secret, body, signature))
        {
            Instance = ForgeAddress.InstanceOf(DeliveryJson.StringOrNull(repository, "html_url")),
            DeliveryId = headers["X-Gitea-Delivery"].FirstOrDefault() ?? headers["X-Forgejo-Delivery"].FirstOrDefault(),
        };
        return GitHubDeliveries.Classify(delivery, eventName, body);
    }
}

/// <summary>Reading the payloads Builder parses as plain JSON (GitLab's, and Gitea's repository fields).</summary>
internal static class DeliveryJson
{
    internal static JsonDocument ParseObject(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new MalformedDeliveryException($"the body is not valid JSON: {ex.Message}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new MalformedDeliveryException("the payload must be a JSON object");
        }

        return document;
    }

    internal static string? StringOrNull(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>
/// GitLab (gitlab.com and self-managed): <c>Tag Push Hook</c> deliveries. The secret is <c>X-Gitlab-Token</c> itself;
/// creation and deletion differ by the all-zero <c>before</c>/<c>after</c> (and <c>checkout_sha: null</c> on deletion);
/// the commit is <c>checkout_sha</c>; the repository is <c>project.path_with_namespace</c>.
/// </summary>
internal static class GitLabDeliveries
{
    public const string TagPushHook = "Tag Push Hook";
    private const string TagPrefix = "refs/tags/";

    public static ForgeDelivery Parse(IHeaderDictionary headers, byte[] body)
    {
        var eventName = headers["X-Gitlab-Event"].FirstOrDefault() ?? string.Empty;
        var token = headers["X-Gitlab-Token"].FirstOrDefault();
        using var document = DeliveryJson.ParseObject(body);
        var root = document.RootElement;
        var project = root.TryGetProperty("project", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        var name = DeliveryJson.StringOrNull(project, "path_with_namespace");
        if (string.IsNullOrEmpty(name))
        {
            throw new MalformedDeliveryException("the payload has no project.path_with_namespace");
        }

        var delivery = new ForgeDelivery(ForgeProviders.GitLab, eventName, name, DeliveryAction.Ignore, secret => WebhookSignature.IsValidToken(secret, token))
        {
            Instance = ForgeAddress.InstanceOf(DeliveryJson.StringOrNull(project, "web_url")) ?? ForgeAddress.InstanceOf(headers["X-Gitlab-Instance"].FirstOrDefault()),
            DeliveryId = headers["X-Gitlab-Event-UUID"].FirstOrDefault(),
            IdempotencyKey = headers["Idempotency-Key"].FirstOrDefault(),
        };

        var kind = DeliveryJson.StringOrNull(root, "object_kind");
        if (eventName != TagPushHook && kind != "tag_push")
        {
            return delivery with { IgnoreReason = $"event '{(eventName.Length > 0 ? eventName : kind)}' does not start builds (send Tag Push Hook)" };
        }

        var gitRef = DeliveryJson.StringOrNull(root, "ref");
        if (gitRef is null || !gitRef.StartsWith(TagPrefix, StringComparison.Ordinal))
        {
            return delivery with { IgnoreReason = $"a push to {gitRef ?? "no ref"}, not a tag" };
        }

        var tag = gitRef[TagPrefix.Length..];
        var checkout = DeliveryJson.StringOrNull(root, "checkout_sha");
        if (GitHubDeliveries.IsZero(DeliveryJson.StringOrNull(root, "after")) || checkout is null)
        {
            return delivery with { Action = DeliveryAction.Delete, Tag = tag };
        }

        return delivery with { Action = DeliveryAction.Build, Tag = tag, CommitSha = checkout };
    }
}
