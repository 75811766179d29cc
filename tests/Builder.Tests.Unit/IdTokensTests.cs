using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Builder.Access.Oidc;
using Builder.Core.Access;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Builder.Tests.Unit;

/// <summary>
/// <see cref="IdTokens"/> and <see cref="IssuerKeys"/> against an issuer served by an in-memory HTTP handler: every
/// check refuses with a reason naming it, and the keys are fetched as documented (cached, refreshed for an unknown key id
/// at most once a minute).
/// </summary>
public sealed class IdTokensTests : IDisposable
{
    private const string Issuer = "https://ci.example.test";
    private readonly FakeIssuer _issuer = new();
    private readonly Clock _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly IdTokens _tokens;

    public IdTokensTests()
    {
        var options = Options.Create(new OidcOptions { Issuers = [Issuer, "https://other.example.test"] });
        _tokens = new IdTokens(options, new IssuerKeys(_issuer, _clock, NullLogger<IssuerKeys>.Instance), _clock);
    }

    public void Dispose() => _issuer.Dispose();

    [Fact]
    public async Task A_token_signed_with_a_published_RS256_or_ES256_key_is_accepted_with_its_claims()
    {
        var rsa = await _tokens.VerifyAsync(_issuer.Sign(Claims()), default);
        var ec = await _tokens.VerifyAsync(_issuer.Sign(Claims(jti: "j-2"), ec: true), default);

        Assert.True(rsa.Token is not null, rsa.Problem);
        Assert.Equal("repo:acme/billing:ref:refs/tags/v1.4.0", rsa.Token!.Subject);
        Assert.Equal("acme/billing", rsa.Token.Claims["repository"]);
        Assert.Equal("true", rsa.Token.Claims["ref_protected_bool"]);
        Assert.Equal("1", rsa.Token.Claims["run_attempt"]);
        Assert.True(ec.Token is not null, ec.Problem);
        Assert.Equal("j-2", ec.Token!.Jti);
        Assert.Equal(1, _issuer.JwksFetches);
    }

    [Fact]
    public async Task Each_failed_check_is_named_and_the_token_is_never_repeated()
    {
        var cases = new (string Token, string Expected)[]
        {
            ("not-a-jwt", "malformed: an ID token is a JWT"),
            (FakeIssuer.Unsigned(Claims()), "signature: the token is not signed (alg 'none')"),
            (_issuer.Hs256WithPublicKey(Claims()), "signature: algorithm 'HS256' is not accepted"),
            (_issuer.Sign(Claims(iss: "https://evil.example.test")), "issuer: 'https://evil.example.test' is not a trusted issuer"),
            (_issuer.Sign(Claims(), kid: "nope"), "signature: the issuer publishes no key 'nope'"),
            (_issuer.SignWithUnpublishedKey(Claims()), "signature: the token does not verify with the issuer's key 'rsa-1'"),
            (_issuer.Sign(Claims(aud: "https://github.com/acme")), "audience: the token is for 'https://github.com/acme', not for 'builder'"),
            (_issuer.Sign(Claims(exp: -61)), "expired: the token expired at 2026-12-01T11:58:59Z"),
            (_issuer.Sign(Claims(nbf: 61)), "not yet valid: the token is valid from 2026-12-01T12:01:01Z ('nbf'"),
            (_issuer.Sign(Claims(iat: 120)), "not yet valid: the token says it was issued at 2026-12-01T12:02:00Z ('iat')"),
            (_issuer.Sign(Claims(jti: null)), "malformed: the token needs a subject ('sub') and an identifier ('jti'"),
        };

        foreach (var (token, expected) in cases)
        {
            var check = await _tokens.VerifyAsync(token, default);
            Assert.Null(check.Token);
            Assert.Equal(401, check.Status);
            Assert.StartsWith(expected, check.Problem, StringComparison.Ordinal);
            Assert.DoesNotContain(token.Split('.')[^1] is { Length: > 10 } signature ? signature : token, check.Problem!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Times_within_a_minute_of_skew_and_an_audience_list_containing_builder_pass()
    {
        var check = await _tokens.VerifyAsync(_issuer.Sign(Claims(exp: -59, nbf: 59, iat: 59, aud: new[] { "sts.amazonaws.com", "builder" })), default);

        Assert.True(check.Token is not null, check.Problem);
    }

    [Fact]
    public async Task An_unknown_kid_fetches_the_keys_again_at_most_once_a_minute_and_finds_a_rotated_key()
    {
        Assert.NotNull((await _tokens.VerifyAsync(_issuer.Sign(Claims(jti: "a")), default)).Token);
        Assert.Equal(1, _issuer.JwksFetches);

        _issuer.Rotate();
        var rotated = await _tokens.VerifyAsync(_issuer.Sign(Claims(jti: "b")), default);
        Assert.True(rotated.Token is not null, rotated.Problem);
        Assert.Equal(2, _issuer.JwksFetches);

        // Made-up key ids within the minute: refused from the cache, the issuer is not asked again.
        for (var i = 0; i < 5; i++)
        {
            var check = await _tokens.VerifyAsync(_issuer.Sign(Claims(jti: "c" + i), kid: "made-up-" + i), default);
            Assert.StartsWith("signature: the issuer publishes no key 'made-up-", check.Problem, StringComparison.Ordinal);
        }

        Assert.Equal(2, _issuer.JwksFetches);
        _clock.Advance(IssuerKeys.UnknownKidInterval);
        await _tokens.VerifyAsync(_issuer.Sign(Claims(jti: "d"), kid: "made-up-later"), default);
        Assert.Equal(3, _issuer.JwksFetches);

        // After an hour the keys are fetched again even when every kid is known.
        _clock.Advance(IssuerKeys.KeysLifetime);
        Assert.NotNull((await _tokens.VerifyAsync(_issuer.Sign(Claims(jti: "e")), default)).Token);
        Assert.Equal(4, _issuer.JwksFetches);
    }

    [Fact]
    public async Task An_issuer_that_cannot_be_reached_answers_503_and_is_not_asked_again_at_once()
    {
        _issuer.Down = true;

        var first = await _tokens.VerifyAsync(_issuer.Sign(Claims()), default);
        var second = await _tokens.VerifyAsync(_issuer.Sign(Claims(jti: "x")), default);

        Assert.Equal(503, first.Status);
        Assert.StartsWith($"the keys of issuer '{Issuer}' could not be fetched", first.Problem, StringComparison.Ordinal);
        Assert.Equal(503, second.Status);
        Assert.Equal(1, _issuer.DiscoveryFetches);
    }

    [Theory]
    [InlineData("https://token.actions.githubusercontent.com", null)]
    [InlineData("https://gitlab.example.com/gitlab", null)]
    [InlineData("http://127.0.0.1:5000/github", null)]
    [InlineData("http://localhost:5000", null)]
    [InlineData("http://[::1]:5000", null)]
    [InlineData("http://gitlab.example.com", "is plain http")]
    [InlineData("https://gitlab.com/", "ends with '/'")]
    [InlineData("gitlab.com", "is not an issuer URL")]
    [InlineData("https://gitlab.com?x=1", "is not an issuer URL")]
    public void Issuers_are_https_but_on_loopback(string issuer, string? problem)
    {
        var found = OidcOptions.IssuerProblem(issuer);

        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_publisher_matches_when_every_claim_it_names_matches_its_glob()
    {
        var publisher = new TrustedPublisher
        {
            Name = "p",
            Issuer = Issuer,
            Claims = """{"repository":"Acme/Billing","ref":"refs/tags/v*","environment":"release"}""",
            Scopes = "upload",
            CreatedBy = "test",
        };
        var claims = new Dictionary<string, string> { ["repository"] = "acme/billing", ["ref"] = "refs/tags/v1.4.0", ["environment"] = "release" };

        Assert.True(TrustedPublishers.Matches(publisher, claims));
        Assert.False(TrustedPublishers.Matches(publisher, new Dictionary<string, string>(claims) { ["ref"] = "refs/heads/main" }));
        Assert.False(TrustedPublishers.Matches(publisher, new Dictionary<string, string>(claims) { ["environment"] = "Release" }));
        Assert.False(TrustedPublishers.Matches(publisher, new Dictionary<string, string>(claims) { ["repository"] = "acme/billing-fork" }));
        claims.Remove("environment");
        Assert.False(TrustedPublishers.Matches(publisher, claims));
    }

    private Dictionary<string, object?> Claims(string iss = Issuer, object? aud = null, int exp = 300, int nbf = -5, int iat = 0, string? jti = "jti-1")
    {
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var claims = new Dictionary<string, object?>
        {
            ["iss"] = iss,
            ["aud"] = aud ?? "builder",
            ["sub"] = "repo:acme/billing:ref:refs/tags/v1.4.0",
            ["repository"] = "acme/billing",
            ["ref"] = "refs/tags/v1.4.0",
            ["run_attempt"] = 1,
            ["ref_protected_bool"] = true,
            ["exp"] = now + exp,
            ["nbf"] = now + nbf,
            ["iat"] = now + iat,
        };
        if (jti is not null)
        {
            claims["jti"] = jti;
        }

        return claims;
    }

    private sealed class Clock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    /// <summary>An issuer's discovery document and JWK Set, served from memory; signs tokens with its keys.</summary>
    private sealed class FakeIssuer : HttpMessageHandler, IHttpClientFactory
    {
        private readonly List<(string Kid, RSA Key)> _rsa = [("rsa-1", RSA.Create(2048))];
        private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public int JwksFetches { get; private set; }

        public int DiscoveryFetches { get; private set; }

        public bool Down { get; set; }

        public HttpClient CreateClient(string name) => new(this, disposeHandler: false);

        public void Rotate() => _rsa.Add(("rsa-" + (_rsa.Count + 1), RSA.Create(2048)));

        public string Sign(Dictionary<string, object?> claims, string? kid = null, bool ec = false)
        {
            if (ec)
            {
                return Jws(new { alg = "ES256", typ = "JWT", kid = "ec-1" }, claims, data => _ec.SignData(data, HashAlgorithmName.SHA256));
            }

            var (currentKid, key) = _rsa[^1];
            return Jws(new { alg = "RS256", typ = "JWT", kid = kid ?? currentKid }, claims, data => key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        }

        public string SignWithUnpublishedKey(Dictionary<string, object?> claims)
        {
            using var other = RSA.Create(2048);
            return Jws(new { alg = "RS256", typ = "JWT", kid = _rsa[0].Kid }, claims, data => other.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        }

        public string Hs256WithPublicKey(Dictionary<string, object?> claims)
        {
            var secret = Encoding.ASCII.GetBytes(_rsa[0].Key.ExportSubjectPublicKeyInfoPem());
            return Jws(new { alg = "HS256", typ = "JWT", kid = _rsa[0].Kid }, claims, data => HMACSHA256.HashData(secret, data));
        }

        public static string Unsigned(Dictionary<string, object?> claims) => Jws(new { alg = "none", typ = "JWT" }, claims, _ => []);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsoluteUri;
            if (Down)
            {
                DiscoveryFetches++;
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadGateway));
            }

            object body;
            if (path == Issuer + "/.well-known/openid-configuration")
            {
                DiscoveryFetches++;
                body = new { issuer = Issuer, jwks_uri = Issuer + "/keys" };
            }
            else if (path == Issuer + "/keys")
            {
                JwksFetches++;
                var keys = _rsa.Select(k => (object)new { kty = "RSA", kid = k.Kid, alg = "RS256", use = "sig", n = B64(k.Key.ExportParameters(false).Modulus!), e = B64(k.Key.ExportParameters(false).Exponent!) }).ToList();
                var q = _ec.ExportParameters(false).Q;
                keys.Add(new { kty = "EC", kid = "ec-1", crv = "P-256", x = B64(q.X!), y = B64(q.Y!), use = "sig" });
                keys.Add(new { kty = "oct", kid = "hmac", k = "c2VjcmV0" });
                body = new { keys };
            }
            else
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") });
        }

        protected override void Dispose(bool disposing)
        {
            foreach (var (_, key) in _rsa)
            {
                key.Dispose();
            }

            _ec.Dispose();
            base.Dispose(disposing);
        }

        private static string Jws(object header, Dictionary<string, object?> claims, Func<byte[], byte[]> sign)
        {
            var signed = B64(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + B64(JsonSerializer.SerializeToUtf8Bytes(claims));
            return signed + "." + B64(sign(Encoding.ASCII.GetBytes(signed)));
        }

        private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
