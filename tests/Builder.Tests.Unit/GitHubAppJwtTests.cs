using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Builder.Core.Forges;
using Builder.Forges;

namespace Builder.Tests.Unit;

public sealed class GitHubAppJwtTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_App_JWT_is_RS256_signed_by_the_key_issued_by_the_App_and_valid_at_most_ten_minutes()
    {
        using var key = RSA.Create(2048);
        var app = new GitHubAppCredentials(123456, 7, key.ExportRSAPrivateKeyPem());

        var jwt = GitHubAppTokens.AppJwt(app, Now);

        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        using var header = JsonDocument.Parse(Decode(parts[0]));
        using var payload = JsonDocument.Parse(Decode(parts[1]));
        Assert.Equal("RS256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("JWT", header.RootElement.GetProperty("typ").GetString());
        Assert.Equal("123456", payload.RootElement.GetProperty("iss").GetString());
        var iat = payload.RootElement.GetProperty("iat").GetInt64();
        var exp = payload.RootElement.GetProperty("exp").GetInt64();
        Assert.Equal(Now.AddSeconds(-60).ToUnixTimeSeconds(), iat);
        Assert.Equal(Now.AddMinutes(9).ToUnixTimeSeconds(), exp);
        Assert.True(exp - iat <= 600, "GitHub refuses an App JWT valid longer than ten minutes");

        using var publicKey = RSA.Create();
        publicKey.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
        Assert.True(publicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Decode(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.DoesNotContain('=', jwt);
        Assert.DoesNotContain('+', jwt);
        Assert.DoesNotContain('/', jwt);
    }

    [Fact]
    public void Another_key_does_not_verify_the_signature()
    {
        using var key = RSA.Create(2048);
        using var other = RSA.Create(2048);
        var parts = GitHubAppTokens.AppJwt(new GitHubAppCredentials(1, null, key.ExportRSAPrivateKeyPem()), Now).Split('.');

        Assert.False(other.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Decode(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void A_key_that_is_not_PEM_is_a_credentials_error_without_the_key()
    {
        var ex = Assert.Throws<ForgeCredentialsException>(() => GitHubAppTokens.AppJwt(new GitHubAppCredentials(5, null, "not-a-key-secret-material"), Now));

        Assert.DoesNotContain("secret-material", ex.Message, StringComparison.Ordinal);
    }

    private static byte[] Decode(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }
}
