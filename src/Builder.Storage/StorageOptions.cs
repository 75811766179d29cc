using System.ComponentModel.DataAnnotations;
using Builder.Core.Configuration;

namespace Builder.Storage;

/// <summary>Where artifacts live (<c>Builder:Storage</c>): <c>filesystem</c> (under the data directory) or <c>s3</c>.</summary>
public sealed class StorageOptions : ISelfValidating
{
    public const string SectionName = "Builder:Storage";

    public const string FileSystem = "filesystem";

    public const string S3Provider = "s3";

    public string Provider { get; set; } = FileSystem;

    /// <summary>How long a write waits out an unreachable store (retrying with backoff) before it fails with a message saying so.</summary>
    [Range(0, 86400, ErrorMessage = "Builder:Storage:RetrySeconds must be between 0 and 86400.")]
    public int RetrySeconds { get; set; } = 120;

    public S3StorageOptions S3 { get; set; } = new();

    public IEnumerable<string> Problems()
    {
        var failures = new List<string>();
        if (Provider is not (StorageOptions.FileSystem or StorageOptions.S3Provider))
        {
            failures.Add($"Builder:Storage:Provider is '{Provider}'; use '{StorageOptions.FileSystem}' or '{StorageOptions.S3Provider}'.");
        }
        else if (Provider == StorageOptions.S3Provider)
        {
            var s3 = S3;
            if (string.IsNullOrWhiteSpace(s3.Bucket))
            {
                failures.Add("Builder:Storage:S3:Bucket is required when Builder:Storage:Provider is 's3'.");
            }

            if (s3.ServiceUrl.Length > 0 && !(Uri.TryCreate(s3.ServiceUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
            {
                failures.Add($"Builder:Storage:S3:ServiceUrl '{s3.ServiceUrl}' is not an http(s) URL.");
            }

            if ((s3.AccessKey.Length == 0) != (s3.SecretKey.Length == 0))
            {
                failures.Add("Builder:Storage:S3:AccessKey and Builder:Storage:S3:SecretKey go together: set both, or neither for the standard AWS credential chain.");
            }

            if (s3.Prefix.StartsWith('/'))
            {
                failures.Add($"Builder:Storage:S3:Prefix '{s3.Prefix}' must not start with '/'.");
            }
        }

        return failures;
    }
}

/// <summary>An S3 API (<c>Builder:Storage:S3</c>): AWS, or any server that speaks it (Garage, Ceph, R2, MinIO, SeaweedFS).</summary>
public sealed class S3StorageOptions
{
    public string Bucket { get; set; } = string.Empty;

    /// <summary>Keys start with this (a folder in a shared bucket): "builder/" → "builder/acme-billing/acme_billing-1.0.tar.gz".</summary>
    public string Prefix { get; set; } = string.Empty;

    /// <summary>The server's URL for S3 APIs that are not AWS (<c>http://127.0.0.1:9000</c>); empty: AWS in <see cref="Region"/>.</summary>
    public string ServiceUrl { get; set; } = string.Empty;

    public string Region { get; set; } = "us-east-1";

    /// <summary>Path-style addresses (<c>{server}/{bucket}/{key}</c>), which most servers other than AWS need.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>With <see cref="SecretKey"/>; both empty: the standard AWS credential chain (environment, profile, instance role).</summary>
    public string AccessKey { get; set; } = string.Empty;

    public string SecretKey { get; set; } = string.Empty;

    /// <summary>Answer a download GET with a redirect to a short-lived presigned URL (after Builder's own access check).</summary>
    public bool RedirectDownloads { get; set; }

    /// <summary>How long one request to the server may take before it counts as unanswered.</summary>
    [Range(1, 3600, ErrorMessage = "Builder:Storage:S3:TimeoutSeconds must be between 1 and 3600.")]
    public int TimeoutSeconds { get; set; } = 30;
}
