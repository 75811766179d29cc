using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Builder.Core.Access;
using Microsoft.Extensions.Logging;

namespace Builder.Access.Oidc;

/// <summary>A signing key an issuer publishes (one entry of its JWK Set), as Builder can use it: RSA for RS256, P-256 for ES256.</summary>
public sealed record IssuerKey(string? Kid, string Algorithm, RSAParameters? Rsa, ECParameters? Ec)
{
    public bool Verify(ReadOnlySpan<byte> signedPart, ReadOnlySpan<byte> signature)
    {
        if (Rsa is { } rsaParameters)
        {
            using var rsa = RSA.Create(rsaParameters);
            return rsa.VerifyData(signedPart, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }

        using var ec = ECDsa.Create(Ec!.Value);
        // JWS carries ES256 signatures as r || s, 32 bytes each: .NET's default (IEEE P1363) format.
        return signature.Length == 64 && ec.VerifyData(signedPart, signature, HashAlgorithmName.SHA256);
    }
}

/// <summary>What <see cref="IssuerKeys.FindAsync"/> found: the keys to try, or why there are none.</summary>
public sealed record KeyLookup(IReadOnlyList<IssuerKey> Keys, string? Problem, bool IssuerUnreachable = false);

/// <summary>
/// The signing keys of the trusted issuers (<see cref="OidcOptions.Issuers"/>), per process: found through the issuer's
/// discovery document (<c>{issuer}/.well-known/openid-configuration</c> → <c>jwks_uri</c>) and kept for an hour. A token
/// naming a key id the cache lacks (the issuer rotated its keys) fetches them again at once, but at most once a minute
/// per issuer, so tokens with made-up key ids cannot make Builder hammer the issuer. When a fetch fails the keys known
/// before stay in use.
/// </summary>
public sealed partial class IssuerKeys(IHttpClientFactory clients, TimeProvider time, ILogger<IssuerKeys> logger)
{
    public const string HttpClientName = "oidc";

    /// <summary>How long fetched keys are used before they are fetched again.</summary>
    public static readonly TimeSpan KeysLifetime = TimeSpan.FromHours(1);

    /// <summary>The shortest time between two fetches caused by unknown key ids.</summary>
    public static readonly TimeSpan UnknownKidInterval = TimeSpan.FromMinutes(1);

    private const int MaxDocumentBytes = 1 << 20;

    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, IssuerState> _issuers = new(StringComparer.Ordinal);

    /// <summary>
    /// The keys of <paramref name="issuer"/> that may have signed a token with <paramref name="kid"/> and
    /// <paramref name="algorithm"/>: the one with that id (or, for a token without one, every key of that algorithm).
    /// </summary>
    public async Task<KeyLookup> FindAsync(string issuer, string? kid, string algorithm, CancellationToken cancellationToken)
    {
        var state = _issuers.GetOrAdd(issuer, _ => new IssuerState());
        await state.Gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            string? fetchProblem = null;
            if (state.Keys is null || now - state.FetchedAt >= KeysLifetime)
            {
                // After a failed fetch the next try waits a little: an issuer that is down is not asked at every request.
                fetchProblem = now - state.FailedAt < RetryAfterFailure ? state.FailureReason : await RefreshAsync(issuer, state, now, cancellationToken);
            }
            else if (kid is not null && !state.Keys.Any(k => k.Kid == kid) && !(now - state.UnknownKidFetchAt < UnknownKidInterval))
            {
                state.UnknownKidFetchAt = now;
                LogUnknownKid(logger, issuer, kid);
                fetchProblem = await RefreshAsync(issuer, state, now, cancellationToken);
            }

            if (state.Keys is null)
            {
                return new KeyLookup([], $"the keys of issuer '{issuer}' could not be fetched: {fetchProblem}", IssuerUnreachable: true);
            }

            var matching = state.Keys.Where(k => k.Algorithm == algorithm && (kid is null || k.Kid == kid)).ToList();
            if (matching.Count > 0)
            {
                return new KeyLookup(matching, null);
            }

            return new KeyLookup([], kid is null
                ? $"the issuer publishes no {algorithm} key, and the token names none ('kid')"
                : state.Keys.Any(k => k.Kid == kid)
                    ? $"the issuer's key '{IdTokens.Shown(kid)}' is not an {algorithm} key"
                    : $"the issuer publishes no key '{IdTokens.Shown(kid)}'");
        }
        finally
        {
            state.Gate.Release();
        }
    }

    /// <summary>Fetches the issuer's keys into <paramref name="state"/>; the problem when that failed (the old keys stay).</summary>
    private async Task<string?> RefreshAsync(string issuer, IssuerState state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var problem = await FetchAsync(issuer, state, now, cancellationToken);
        if (problem is not null)
        {
            LogFetchFailed(logger, issuer, problem);
            (state.FailedAt, state.FailureReason) = (now, problem);
        }

        return problem;
    }

    private async Task<string?> FetchAsync(string issuer, IssuerState state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            var client = clients.CreateClient(HttpClientName);
            var issuerUrl = new Uri(issuer);
            using var discovery = await GetJsonAsync(client, new Uri(issuer + "/.well-known/openid-configuration"), cancellationToken);
            var root = discovery.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("issuer", out var named) || named.ValueKind != JsonValueKind.String || named.GetString() != issuer)
            {
                return "its discovery document names another issuer (or none)";
            }

            if (!root.TryGetProperty("jwks_uri", out var jwksText) || jwksText.ValueKind != JsonValueKind.String
                || !Uri.TryCreate(jwksText.GetString(), UriKind.Absolute, out var jwksUri)
                || !(jwksUri.Scheme == Uri.UriSchemeHttps || (jwksUri.Scheme == Uri.UriSchemeHttp && issuerUrl.Scheme == Uri.UriSchemeHttp && OidcOptions.IsLoopback(jwksUri))))
            {
                return "its discovery document has no usable https 'jwks_uri'";
            }

            using var jwks = await GetJsonAsync(client, jwksUri, cancellationToken);
            if (jwks.RootElement.ValueKind != JsonValueKind.Object || !jwks.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
            {
                return "its JWK Set has no 'keys'";
            }

            state.Keys = [.. keys.EnumerateArray().Select(Read).OfType<IssuerKey>()];
            state.FetchedAt = now;
            LogFetched(logger, issuer, state.Keys.Count);
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return e is TaskCanceledException ? "timed out" : e.Message;
        }
    }

    private static async Task<JsonDocument> GetJsonAsync(HttpClient client, Uri url, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {url} answered {(int)response.StatusCode}");
        }

        if (response.Content.Headers.ContentLength > MaxDocumentBytes)
        {
            throw new HttpRequestException($"GET {url} answered more than {MaxDocumentBytes} bytes");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxDocumentBytes)
            {
                throw new HttpRequestException($"GET {url} answered more than {MaxDocumentBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return JsonDocument.Parse(buffer.ToArray());
    }

    /// <summary>One JWK as a usable key; null for keys Builder does not use (other types, curves, uses; RSA under 2048 bits).</summary>
    internal static IssuerKey? Read(JsonElement jwk)
    {
        if (jwk.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var kid = IdTokens.Text(jwk, "kid");
        if (IdTokens.Text(jwk, "use") is { } use && use != "sig")
        {
            return null;
        }

        var alg = IdTokens.Text(jwk, "alg");
        try
        {
            switch (IdTokens.Text(jwk, "kty"))
            {
                case "RSA" when alg is null or IdTokens.RS256:
                    var modulus = Base64Url(jwk, "n");
                    var exponent = Base64Url(jwk, "e");
                    if (modulus is null || exponent is null || modulus.AsSpan().TrimStart((byte)0).Length * 8 < 2048)
                    {
                        return null;
                    }

                    return new IssuerKey(kid, IdTokens.RS256, new RSAParameters { Modulus = modulus.AsSpan().TrimStart((byte)0).ToArray(), Exponent = exponent }, null);
                case "EC" when alg is null or IdTokens.ES256:
                    var x = Base64Url(jwk, "x");
                    var y = Base64Url(jwk, "y");
                    if (IdTokens.Text(jwk, "crv") != "P-256" || x is not { Length: 32 } || y is not { Length: 32 })
                    {
                        return null;
                    }

                    var parameters = new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } };
                    parameters.Validate();
                    return new IssuerKey(kid, IdTokens.ES256, null, parameters);
                default:
                    return null;
            }
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return null;
        }
    }

    private static byte[]? Base64Url(JsonElement element, string name) => IdTokens.Text(element, name) is { } text ? IdTokens.DecodeBase64Url(text) : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "OIDC issuer {Issuer}: fetched {Count} usable signing keys")]
    private static partial void LogFetched(ILogger logger, string issuer, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OIDC issuer {Issuer}: its keys could not be fetched: {Problem}")]
    private static partial void LogFetchFailed(ILogger logger, string issuer, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "OIDC issuer {Issuer}: a token names key '{Kid}', which is not among the cached keys; fetching them again")]
    private static partial void LogUnknownKid(ILogger logger, string issuer, string kid);

    private sealed class IssuerState
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public List<IssuerKey>? Keys { get; set; }

        public DateTimeOffset FetchedAt { get; set; }

        public DateTimeOffset? UnknownKidFetchAt { get; set; }

        public DateTimeOffset? FailedAt { get; set; }

        public string? FailureReason { get; set; }
    }
}
