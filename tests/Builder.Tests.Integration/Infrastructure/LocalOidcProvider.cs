using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>One signing key of a <see cref="LocalOidcProvider"/>: its <c>kid</c>, its JWS algorithm and the key itself.</summary>
internal sealed class OidcSigningKey : IDisposable
{
    private OidcSigningKey(string kid, string algorithm, AsymmetricAlgorithm key)
    {
        Kid = kid;
        Algorithm = algorithm;
        Key = key;
    }

    public string Kid { get; }

    /// <summary><c>RS256</c> (RSA-2048, PKCS#1 v1.5 with SHA-256) or <c>ES256</c> (ECDSA P-256 with SHA-256).</summary>
    public string Algorithm { get; }

    public AsymmetricAlgorithm Key { get; }

    /// <summary>The public key as PEM text (SubjectPublicKeyInfo), as a verifier configured by hand would hold it.</summary>
    public string PublicKeyPem => Key.ExportSubjectPublicKeyInfoPem();

    public static OidcSigningKey Rsa(string kid) => new(kid, "RS256", RSA.Create(2048));

    public static OidcSigningKey EcP256(string kid) => new(kid, "ES256", ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public byte[] Sign(byte[] data) => Key switch
    {
        RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        // RFC 7518 §3.4: the JWS signature is R || S (32 bytes each), not DER.
        ECDsa ecdsa => ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        _ => throw new InvalidOperationException($"no signer for {Key.GetType().Name}"),
    };

    /// <summary>The public JWK (RFC 7517 §4, RFC 7518 §6.2/§6.3), as GitHub and GitLab publish theirs.</summary>
    public Dictionary<string, string> Jwk()
    {
        if (Key is RSA rsa)
        {
            var parameters = rsa.ExportParameters(includePrivateParameters: false);
            return new()
            {
                ["kty"] = "RSA",
                ["alg"] = Algorithm,
                ["use"] = "sig",
                ["kid"] = Kid,
                ["n"] = LocalOidcProvider.Base64Url(parameters.Modulus!),
                ["e"] = LocalOidcProvider.Base64Url(parameters.Exponent!),
            };
        }

        var point = ((ECDsa)Key).ExportParameters(includePrivateParameters: false).Q;
        return new()
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["alg"] = Algorithm,
            ["use"] = "sig",
            ["kid"] = Kid,
            ["x"] = LocalOidcProvider.Base64Url(point.X!),
            ["y"] = LocalOidcProvider.Base64Url(point.Y!),
        };
    }

    public void Dispose() => Key.Dispose();
}

/// <summary>
/// An OpenID provider on loopback standing in for a CI platform's token service (GitHub Actions'
/// <c>https://token.actions.githubusercontent.com</c>, GitLab's instance URL): a small Kestrel app on a free 127.0.0.1 port
/// whose issuer is <c>http://127.0.0.1:PORT/NAME</c>. It serves OpenID Connect Discovery 1.0 (<c>{issuer}/.well-known/
/// openid-configuration</c>) and the JWK Set it names (<c>{issuer}/.well-known/jwks</c>, GitHub's path), counting each fetch,
/// and mints ID tokens (JWS compact serialization, RFC 7515) with the claim sets GitHub Actions and GitLab CI put in theirs
/// (<see cref="GitHubClaims"/>, <see cref="GitLabClaims"/>). It starts with one RSA-2048 key (RS256);
/// <see cref="RotateKey"/> publishes a new key and signs with it from then on, keeping the old one published, as real
/// providers rotate. The forgeries a verifier must refuse are minted here too: <see cref="MintUnsigned"/> (alg none),
/// <see cref="MintHs256WithPublicKey"/> (key confusion) and <see cref="MintWithUnpublishedKey"/>.
/// </summary>
internal sealed class LocalOidcProvider : IAsyncDisposable
{
    // What GitHub's discovery document lists (https://token.actions.githubusercontent.com/.well-known/openid-configuration),
    // and GitLab's ID token claims that GitHub lacks (https://docs.gitlab.com/ci/secrets/id_token_authentication/).
    private static readonly string[] ClaimsSupported =
    [
        "sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository", "repository_id", "repository_owner",
        "repository_owner_id", "enterprise", "enterprise_id", "run_id", "run_number", "run_attempt", "actor", "actor_id",
        "workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref", "event_name", "ref_type", "ref_protected",
        "environment", "environment_node_id", "job_workflow_ref", "job_workflow_sha", "repository_visibility", "runner_environment",
        "namespace_id", "namespace_path", "project_id", "project_path", "user_id", "user_login", "user_email", "user_access_level",
        "pipeline_id", "pipeline_source", "job_id", "ref_path", "environment_protected", "deployment_tier", "environment_action",
        "runner_id", "ci_config_ref_uri", "ci_config_sha", "project_visibility",
    ];

    private readonly WebApplication _app;
    private readonly List<OidcSigningKey> _published = [];
    private readonly List<OidcSigningKey> _unpublished = [];
    private int _jwksFetches;
    private int _discoveryFetches;
    private int _keys;

    private LocalOidcProvider(WebApplication app, string name, TimeProvider clock)
    {
        _app = app;
        Name = name;
        Clock = clock;
        SigningKey = AddKey("RS256");
    }

    /// <summary>The path segment after the port (<c>github</c>, <c>gitlab</c>).</summary>
    public string Name { get; }

    /// <summary><c>http://127.0.0.1:PORT/NAME</c>, exactly as the <c>iss</c> claim and the discovery document carry it.</summary>
    public string Issuer { get; private set; } = string.Empty;

    public string DiscoveryUri => Issuer + "/.well-known/openid-configuration";

    public string JwksUri => Issuer + "/.well-known/jwks";

    /// <summary>What <c>iat</c>, <c>nbf</c> and <c>exp</c> are computed from: share an app's movable clock to keep both in step.</summary>
    public TimeProvider Clock { get; set; }

    /// <summary>How many times the JWK Set was fetched (by anyone).</summary>
    public int JwksFetches => Volatile.Read(ref _jwksFetches);

    /// <summary>How many times the discovery document was fetched (by anyone).</summary>
    public int DiscoveryFetches => Volatile.Read(ref _discoveryFetches);

    /// <summary>The key <see cref="Mint"/> signs with unless told otherwise: the newest of <see cref="PublishedKeys"/>.</summary>
    public OidcSigningKey SigningKey { get; private set; }

    public IReadOnlyList<OidcSigningKey> PublishedKeys
    {
        get
        {
            lock (_published)
            {
                return [.. _published];
            }
        }
    }

    /// <summary>Starts a provider whose issuer is <c>http://127.0.0.1:PORT/<paramref name="name"/></c>.</summary>
    public static async Task<LocalOidcProvider> StartAsync(string name, TimeProvider? clock = null)
    {
        Assert.Matches("^[a-z0-9-]+$", name);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var provider = new LocalOidcProvider(app, name, clock ?? TimeProvider.System);
        app.MapGet($"/{name}/.well-known/openid-configuration", provider.DiscoveryAsync);
        app.MapGet($"/{name}/.well-known/jwks", provider.JwksAsync);
        await app.StartAsync();
        provider.Issuer = app.Urls.Single().TrimEnd('/') + "/" + name;
        return provider;
    }

    /// <summary>
    /// Publishes a new key (<c>RS256</c> or <c>ES256</c>) with a new <c>kid</c> and signs with it from now on; the keys before
    /// it stay published, so tokens already handed out still verify.
    /// </summary>
    public OidcSigningKey RotateKey(string algorithm = "RS256")
    {
        SigningKey = AddKey(algorithm);
        return SigningKey;
    }

    /// <summary>Signs <paramref name="claims"/> as the provider does: <c>{"typ":"JWT","alg":...,"kid":...}</c> with the given key (default: the current one).</summary>
    public string Mint(IDictionary<string, object?> claims, OidcSigningKey? key = null)
    {
        key ??= SigningKey;
        var header = new Dictionary<string, object?> { ["typ"] = "JWT", ["alg"] = key.Algorithm, ["kid"] = key.Kid };
        var signingInput = SigningInput(header, claims);
        return signingInput + "." + Base64Url(key.Sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>An unsecured JWS (RFC 7515 §A.5): <c>alg: none</c> and an empty signature.</summary>
    public static string MintUnsigned(IDictionary<string, object?> claims) =>
        SigningInput(new Dictionary<string, object?> { ["typ"] = "JWT", ["alg"] = "none" }, claims) + ".";

    /// <summary>
    /// The key-confusion forgery: <c>alg: HS256</c>, the current key's <c>kid</c>, and an HMAC whose secret is the issuer's
    /// published public key as PEM text — accepted by a verifier that lets the token choose the algorithm for a key.
    /// </summary>
    public string MintHs256WithPublicKey(IDictionary<string, object?> claims)
    {
        var header = new Dictionary<string, object?> { ["typ"] = "JWT", ["alg"] = "HS256", ["kid"] = SigningKey.Kid };
        var signingInput = SigningInput(header, claims);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(SigningKey.PublicKeyPem), Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url(mac);
    }

    /// <summary>
    /// A token signed by an RSA key this provider never published, under <paramref name="kid"/> (default: the <c>kid</c> of the
    /// key it signs with now, so only the signature gives it away).
    /// </summary>
    public string MintWithUnpublishedKey(IDictionary<string, object?> claims, string? kid = null)
    {
        var key = OidcSigningKey.Rsa(kid ?? SigningKey.Kid);
        lock (_unpublished)
        {
            _unpublished.Add(key);
        }

        return Mint(claims, key);
    }

    /// <summary>
    /// The claims of a GitHub Actions job's ID token (<c>core.getIDToken(audience)</c>), as GitHub's OpenID Connect reference
    /// lists them and real tokens carry them: string ids, <c>ref_type</c> from the ref, the subject naming the environment when
    /// the job has one (else the ref), and GitHub's times (<c>iat</c> now, <c>nbf</c> 5 minutes earlier, <c>exp</c> 5 minutes
    /// later). The workflow is <c>.github/workflows/release.yml</c> at the job's ref; the token is for a push.
    /// </summary>
    public Dictionary<string, object?> GitHubClaims(
        string repository = "acme/billing", string @ref = "refs/tags/v1.4.0", string? environment = "release", string audience = "builder")
    {
        var owner = repository.Split('/')[0];
        var sha = Sha();
        var workflowRef = $"{repository}/.github/workflows/release.yml@{@ref}";
        var now = Clock.GetUtcNow().ToUnixTimeSeconds();
        var claims = new Dictionary<string, object?>
        {
            ["jti"] = Guid.NewGuid().ToString(),
            ["sub"] = environment is null ? $"repo:{repository}:ref:{@ref}" : $"repo:{repository}:environment:{environment}",
            ["aud"] = audience,
            ["ref"] = @ref,
            ["sha"] = sha,
            ["repository"] = repository,
            ["repository_owner"] = owner,
            ["repository_owner_id"] = Id(owner),
            ["run_id"] = Number(11_000_000_000, 12_000_000_000),
            ["run_number"] = Number(1, 500),
            ["run_attempt"] = "1",
            ["repository_visibility"] = "private",
            ["repository_id"] = Id(repository),
            ["actor_id"] = Id("octocat"),
            ["actor"] = "octocat",
            ["workflow"] = "Release",
            ["head_ref"] = string.Empty,
            ["base_ref"] = string.Empty,
            ["event_name"] = "push",
            ["ref_protected"] = @ref.StartsWith("refs/tags/", StringComparison.Ordinal) ? "true" : "false",
            ["ref_type"] = @ref.StartsWith("refs/tags/", StringComparison.Ordinal) ? "tag" : "branch",
            ["workflow_ref"] = workflowRef,
            ["workflow_sha"] = sha,
            ["job_workflow_ref"] = workflowRef,
            ["job_workflow_sha"] = sha,
            ["runner_environment"] = "github-hosted",
            ["iss"] = Issuer,
            ["nbf"] = now - 300,
            ["exp"] = now + 300,
            ["iat"] = now,
        };
        if (environment is not null)
        {
            claims["environment"] = environment;
        }

        return claims;
    }

    /// <summary>
    /// The claims of a GitLab CI job's ID token (<c>id_tokens: NAME: aud: ...</c>), as GitLab's documentation lists them:
    /// ids as strings (<c>runner_id</c> a number), <c>ref</c> without <c>refs/heads/</c> (that is <c>ref_path</c>),
    /// <c>ref_protected</c> as <c>"true"</c>/<c>"false"</c>, the environment claims only when the job deploys to one, and
    /// GitLab's times (<c>iat</c> now, <c>nbf</c> 5 s earlier, <c>exp</c> at the default job timeout of an hour).
    /// </summary>
    public Dictionary<string, object?> GitLabClaims(
        string projectPath = "acme/app", string @ref = "main", string? environment = null, string audience = "builder", string refType = "branch")
    {
        var @namespace = projectPath[..projectPath.LastIndexOf('/')];
        var refPath = (refType == "tag" ? "refs/tags/" : "refs/heads/") + @ref;
        var sha = Sha();
        var now = Clock.GetUtcNow().ToUnixTimeSeconds();
        var claims = new Dictionary<string, object?>
        {
            ["namespace_id"] = Id(@namespace),
            ["namespace_path"] = @namespace,
            ["project_id"] = Id(projectPath),
            ["project_path"] = projectPath,
            ["user_id"] = Id("dora"),
            ["user_login"] = "dora",
            ["user_email"] = "dora@acme.example",
            ["user_access_level"] = "maintainer",
            ["pipeline_id"] = Number(1_000_000_000, 2_000_000_000),
            ["pipeline_source"] = "push",
            ["job_id"] = Number(5_000_000_000, 6_000_000_000),
            ["ref"] = @ref,
            ["ref_type"] = refType,
            ["ref_path"] = refPath,
            ["ref_protected"] = @ref == "main" || refType == "tag" ? "true" : "false",
            ["runner_id"] = 12_270_857,
            ["runner_environment"] = "gitlab-hosted",
            ["sha"] = sha,
            ["project_visibility"] = "private",
            ["ci_config_ref_uri"] = $"{new Uri(Issuer).Authority}/{projectPath}//.gitlab-ci.yml@{refPath}",
            ["ci_config_sha"] = sha,
            ["jti"] = Guid.NewGuid().ToString(),
            ["iss"] = Issuer,
            ["iat"] = now,
            ["nbf"] = now - 5,
            ["exp"] = now + 3600,
            ["sub"] = $"project_path:{projectPath}:ref_type:{refType}:ref:{@ref}",
            ["aud"] = audience,
        };
        if (environment is not null)
        {
            claims["environment"] = environment;
            claims["environment_protected"] = "true";
            claims["deployment_tier"] = environment == "production" ? "production" : "other";
            claims["environment_action"] = "start";
        }

        return claims;
    }

    /// <summary>The claims of a compact JWS, decoded (no check of any kind).</summary>
    public static JsonElement Payload(string token) => JsonDocument.Parse(Base64UrlDecode(token.Split('.')[1])).RootElement;

    /// <summary>The protected header of a compact JWS, decoded.</summary>
    public static JsonElement Header(string token) => JsonDocument.Parse(Base64UrlDecode(token.Split('.')[0])).RootElement;

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        foreach (var key in _published.Concat(_unpublished))
        {
            key.Dispose();
        }
    }

    private static byte[] Base64UrlDecode(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '='));
    }

    private static string SigningInput(IDictionary<string, object?> header, IDictionary<string, object?> claims) =>
        Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));

    private static string Sha() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    private static string Number(long from, long to) => Random.Shared.NextInt64(from, to).ToString(CultureInfo.InvariantCulture);

    // A stable numeric id per name, as a platform keeps one per owner, repository or user.
    private static string Id(string name) =>
        (BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(name))) % 900_000_000 + 10_000_000).ToString(CultureInfo.InvariantCulture);

    private OidcSigningKey AddKey(string algorithm)
    {
        // kids look like the platforms' (opaque, unique per key); the counter keeps them distinct within one provider.
        var kid = $"{Name}-{Interlocked.Increment(ref _keys)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
        var key = algorithm switch
        {
            "RS256" => OidcSigningKey.Rsa(kid),
            "ES256" => OidcSigningKey.EcP256(kid),
            _ => throw new ArgumentException($"the provider signs with RS256 or ES256, not {algorithm}", nameof(algorithm)),
        };
        lock (_published)
        {
            _published.Add(key);
        }

        return key;
    }

    private Task DiscoveryAsync(HttpContext context)
    {
        Interlocked.Increment(ref _discoveryFetches);
        var algorithms = PublishedKeys.Select(k => k.Algorithm).Distinct().Order(StringComparer.Ordinal).ToArray();
        // The members GitHub's document has; a verifier needs issuer and jwks_uri.
        return context.Response.WriteAsJsonAsync(new Dictionary<string, object>
        {
            ["issuer"] = Issuer,
            ["jwks_uri"] = JwksUri,
            ["subject_types_supported"] = new[] { "public", "pairwise" },
            ["response_types_supported"] = new[] { "id_token" },
            ["claims_supported"] = ClaimsSupported,
            ["id_token_signing_alg_values_supported"] = algorithms,
            ["scopes_supported"] = new[] { "openid" },
        });
    }

    private Task JwksAsync(HttpContext context)
    {
        Interlocked.Increment(ref _jwksFetches);
        return context.Response.WriteAsJsonAsync(new { keys = PublishedKeys.Select(k => k.Jwk()).ToArray() });
    }
}
