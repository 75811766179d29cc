using System.Net;
using System.Text.Json;
using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Access;

/// <summary>
/// The local OpenID provider on its own, before Builder trusts it: an independent verifier (Debian's PyJWT with its
/// <c>PyJWKClient</c>, over HTTP from the discovery document) accepts what it signs with RS256 and ES256, through a key
/// rotation, and refuses each of its forgeries for the reason the forgery is meant to carry. So when Builder refuses one of
/// its tokens, the refusal is Builder's.
/// </summary>
public sealed class LocalOidcProviderTests : IAsyncLifetime
{
    // Verifies each token argument as a relying party would: the JWK Set from the discovery document's jwks_uri, the key by
    // kid, RS256 or ES256 only, the audience and the issuer checked. Prints one JSON line per token. For an HS256 token it
    // also says whether its MAC is keyed with the published key of that kid as PEM text (what the forgery claims to be).
    private const string Verifier = """
        import hashlib, hmac, json, sys, urllib.request
        import jwt
        from cryptography.hazmat.primitives import serialization
        discovery, audience = sys.argv[1], sys.argv[2]
        config = json.load(urllib.request.urlopen(discovery))
        client = jwt.PyJWKClient(config["jwks_uri"], cache_keys=False)
        for token in sys.argv[3:]:
            header = jwt.get_unverified_header(token)
            line = {"alg": header.get("alg"), "kid": header.get("kid")}
            try:
                key = client.get_signing_key_from_jwt(token)
                line["claims"] = jwt.decode(token, key.key, algorithms=["RS256", "ES256"], audience=audience, issuer=config["issuer"])
            except Exception as error:
                line["refused"] = type(error).__name__
                if header.get("alg") == "HS256":
                    public = client.get_signing_key(header["kid"]).key
                    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).strip()
                    signing_input, _, signature = token.rpartition(".")
                    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
                    line["hmacKeyedWithPublishedPem"] = hmac.compare_digest(mac, jwt.utils.base64url_decode(signature))
            print(json.dumps(line))
        """;

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private LocalOidcProvider _github = null!;
    private LocalOidcProvider _gitlab = null!;

    public async Task InitializeAsync()
    {
        _github = await LocalOidcProvider.StartAsync("github");
        _gitlab = await LocalOidcProvider.StartAsync("gitlab");
    }

    public async Task DisposeAsync()
    {
        await _github.DisposeAsync();
        await _gitlab.DisposeAsync();
    }

    [Fact]
    public async Task Serves_discovery_and_a_jwk_set_like_githubs_and_counts_the_fetches()
    {
        _gitlab.RotateKey("ES256");

        var discovery = JsonDocument.Parse(await Http.GetStringAsync(_gitlab.DiscoveryUri)).RootElement;
        using var jwksResponse = await Http.GetAsync(_gitlab.JwksUri);
        var jwks = JsonDocument.Parse(await jwksResponse.Content.ReadAsStringAsync()).RootElement;
        using var elsewhere = await Http.GetAsync(_gitlab.Issuer.Replace("/gitlab", "/github", StringComparison.Ordinal) + "/.well-known/jwks");

        Assert.Matches(@"^http://127\.0\.0\.1:\d+/gitlab$", _gitlab.Issuer);
        Assert.Equal(_gitlab.Issuer, discovery.GetProperty("issuer").GetString());
        Assert.Equal(_gitlab.Issuer + "/.well-known/jwks", discovery.GetProperty("jwks_uri").GetString());
        Assert.Equal(["id_token"], Strings(discovery.GetProperty("response_types_supported")));
        Assert.Equal(["public", "pairwise"], Strings(discovery.GetProperty("subject_types_supported")));
        Assert.Equal(["ES256", "RS256"], Strings(discovery.GetProperty("id_token_signing_alg_values_supported")));
        Assert.Superset(new HashSet<string>(["sub", "aud", "iss", "jti", "repository", "job_workflow_ref", "project_path", "ci_config_ref_uri"]),
            Strings(discovery.GetProperty("claims_supported")).ToHashSet(StringComparer.Ordinal));
        Assert.Equal("application/json", jwksResponse.Content.Headers.ContentType?.MediaType);
        var keys = jwks.GetProperty("keys").EnumerateArray().ToList();
        Assert.Equal(2, keys.Count);
        Assert.Equal(["alg", "e", "kid", "kty", "n", "use"], keys[0].EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(("RSA", "RS256", "sig"), (keys[0].GetProperty("kty").GetString(), keys[0].GetProperty("alg").GetString(), keys[0].GetProperty("use").GetString()));
        Assert.Equal(256, Base64UrlLength(keys[0].GetProperty("n").GetString()!));
        Assert.Equal("AQAB", keys[0].GetProperty("e").GetString());
        Assert.Equal(["alg", "crv", "kid", "kty", "use", "x", "y"], keys[1].EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(("EC", "P-256", "ES256"), (keys[1].GetProperty("kty").GetString(), keys[1].GetProperty("crv").GetString(), keys[1].GetProperty("alg").GetString()));
        Assert.Equal(32, Base64UrlLength(keys[1].GetProperty("x").GetString()!));
        Assert.Equal(32, Base64UrlLength(keys[1].GetProperty("y").GetString()!));
        Assert.Equal(_gitlab.PublishedKeys.Select(k => k.Kid), keys.Select(k => k.GetProperty("kid").GetString()));
        Assert.All(keys, k => Assert.DoesNotContain("\"d\"", k.GetRawText(), StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.Equal((1, 1), (_gitlab.DiscoveryFetches, _gitlab.JwksFetches));
        Assert.Equal((0, 0), (_github.DiscoveryFetches, _github.JwksFetches));
    }

    [Fact]
    public async Task An_independent_verifier_accepts_its_rs256_and_es256_tokens_with_githubs_and_gitlabs_claims()
    {
        var github = _github.GitHubClaims();
        var gitlab = _gitlab.GitLabClaims(projectPath: "acme/platform/app", environment: "production");
        var rs256 = _github.Mint(github);
        _gitlab.RotateKey("ES256");
        var es256 = _gitlab.Mint(gitlab);

        var onGitHub = (await VerifyAsync(_github, "builder", rs256)).Single();
        var onGitLab = (await VerifyAsync(_gitlab, "builder", es256)).Single();

        Assert.Equal(("RS256", _github.SigningKey.Kid), (onGitHub.GetProperty("alg").GetString(), onGitHub.GetProperty("kid").GetString()));
        Assert.Equal("JWT", LocalOidcProvider.Header(rs256).GetProperty("typ").GetString());
        Assert.Equal(JsonSerializer.Serialize(github), JsonSerializer.Serialize(onGitHub.GetProperty("claims")));
        Assert.Equal(("ES256", _gitlab.SigningKey.Kid), (onGitLab.GetProperty("alg").GetString(), onGitLab.GetProperty("kid").GetString()));
        Assert.Equal(JsonSerializer.Serialize(gitlab), JsonSerializer.Serialize(onGitLab.GetProperty("claims")));

        // GitHub's claims for a tag push of acme/billing in the release environment.
        var claims = LocalOidcProvider.Payload(rs256);
        Assert.Equal("repo:acme/billing:environment:release", claims.GetProperty("sub").GetString());
        Assert.Equal("acme/billing/.github/workflows/release.yml@refs/tags/v1.4.0", claims.GetProperty("job_workflow_ref").GetString());
        Assert.Equal(("tag", "acme", "release"), (claims.GetProperty("ref_type").GetString(), claims.GetProperty("repository_owner").GetString(), claims.GetProperty("environment").GetString()));
        Assert.Equal(300, claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64());
        Assert.Matches("^[0-9a-f]{40}$", claims.GetProperty("sha").GetString());
        Assert.Matches("^[0-9]+$", claims.GetProperty("repository_id").GetString());
        // GitLab's for a protected branch of a project in a subgroup.
        claims = LocalOidcProvider.Payload(es256);
        Assert.Equal("project_path:acme/platform/app:ref_type:branch:ref:main", claims.GetProperty("sub").GetString());
        Assert.Equal(("acme/platform", "refs/heads/main", "true"),
            (claims.GetProperty("namespace_path").GetString(), claims.GetProperty("ref_path").GetString(), claims.GetProperty("ref_protected").GetString()));
        Assert.Equal($"{new Uri(_gitlab.Issuer).Authority}/acme/platform/app//.gitlab-ci.yml@refs/heads/main", claims.GetProperty("ci_config_ref_uri").GetString());
        Assert.Equal(JsonValueKind.Number, claims.GetProperty("runner_id").ValueKind);
        Assert.Equal(5, claims.GetProperty("iat").GetInt64() - claims.GetProperty("nbf").GetInt64());
    }

    [Fact]
    public async Task After_a_rotation_old_and_new_tokens_verify_and_each_forgery_is_refused_for_its_own_reason()
    {
        var before = _github.Mint(_github.GitHubClaims());
        var oldKid = _github.SigningKey.Kid;
        var newKid = _github.RotateKey().Kid;
        var after = _github.Mint(_github.GitHubClaims());
        var unsigned = LocalOidcProvider.MintUnsigned(_github.GitHubClaims());
        var confused = _github.MintHs256WithPublicKey(_github.GitHubClaims());
        var unpublished = _github.MintWithUnpublishedKey(_github.GitHubClaims());
        var unknownKid = _github.MintWithUnpublishedKey(_github.GitHubClaims(), kid: "never-published");
        var otherAudience = _github.Mint(_github.GitHubClaims(audience: "https://github.com/acme"));

        var lines = await VerifyAsync(_github, "builder", before, after, unsigned, confused, unpublished, unknownKid, otherAudience);

        Assert.NotEqual(oldKid, newKid);
        Assert.Equal(oldKid, lines[0].GetProperty("kid").GetString());
        Assert.True(lines[0].TryGetProperty("claims", out _), lines[0].GetRawText());
        Assert.Equal(newKid, lines[1].GetProperty("kid").GetString());
        Assert.True(lines[1].TryGetProperty("claims", out _), lines[1].GetRawText());
        Assert.Equal(("none", "PyJWKClientError"), (lines[2].GetProperty("alg").GetString(), lines[2].GetProperty("refused").GetString()));
        Assert.Equal(string.Empty, unsigned.Split('.')[2]);
        Assert.Equal(("HS256", newKid, "InvalidAlgorithmError"), (lines[3].GetProperty("alg").GetString(), lines[3].GetProperty("kid").GetString(), lines[3].GetProperty("refused").GetString()));
        Assert.True(lines[3].GetProperty("hmacKeyedWithPublishedPem").GetBoolean(), lines[3].GetRawText());
        Assert.Equal(("RS256", newKid, "InvalidSignatureError"), (lines[4].GetProperty("alg").GetString(), lines[4].GetProperty("kid").GetString(), lines[4].GetProperty("refused").GetString()));
        Assert.Equal(("never-published", "PyJWKClientError"), (lines[5].GetProperty("kid").GetString(), lines[5].GetProperty("refused").GetString()));
        Assert.Equal("InvalidAudienceError", lines[6].GetProperty("refused").GetString());
    }

    private static async Task<List<JsonElement>> VerifyAsync(LocalOidcProvider provider, string audience, params string[] tokens)
    {
        const string Python = "/usr/bin/python3";
        Assert.True(File.Exists(Python), $"{Python} is missing");
        var result = (await Shell.RunAsync(Python, ["-c", Verifier, provider.DiscoveryUri, audience, .. tokens]))
            .EnsureSuccess("PyJWT verifying the local provider's tokens (Debian's python3-jwt, from scripts/ensure-deps.sh)");
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(lines.Count == tokens.Length, result.Output);
        return lines;
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static int Base64UrlLength(string text) => (text.Length * 6) / 8;
}
