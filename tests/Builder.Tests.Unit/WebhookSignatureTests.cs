using System.Text;
using Builder.Core.Webhooks;

namespace Builder.Tests.Unit;

public sealed class WebhookSignatureTests
{
    // GitHub docs, "Validating webhook deliveries" → "Testing the webhook payload validation".
    private const string Secret = "It's a Secret to Everybody";
    private const string Payload = "Hello, World!";
    private const string Signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Compute_matches_githubs_test_vector()
    {
        Assert.Equal(Signature, WebhookSignature.Compute(Secret, Bytes(Payload)));
    }

    [Fact]
    public void IsValid_accepts_githubs_test_vector()
    {
        Assert.True(WebhookSignature.IsValid(Secret, Bytes(Payload), Signature));
    }

    [Theory]
    [InlineData("It's a Secret to Everybody!", Payload)]
    [InlineData("it's a secret to everybody", Payload)]
    [InlineData("", Payload)]
    [InlineData(Secret, "Hello, World?")]
    [InlineData(Secret, "Hello, World! ")]
    [InlineData(Secret, "")]
    public void IsValid_rejects_a_different_secret_or_body(string secret, string body)
    {
        Assert.False(WebhookSignature.IsValid(secret, Bytes(body), Signature));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sha256=")]
    [InlineData("sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
    [InlineData("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
    [InlineData(" sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
    [InlineData("sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
    [InlineData("sha256=not hex at all")]
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1")]
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e")]
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1700")]
    [InlineData("sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
    [InlineData("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18")]
    [InlineData("sha256=0000000000000000000000000000000000000000000000000000000000000000")]
    public void IsValid_rejects_a_missing_or_malformed_header(string? header)
    {
        Assert.False(WebhookSignature.IsValid(Secret, Bytes(Payload), header));
    }

    [Fact]
    public void IsValid_rejects_an_empty_secret_even_with_a_matching_signature()
    {
        var body = Bytes(Payload);
        var header = WebhookSignature.Compute(string.Empty, body);

        Assert.False(WebhookSignature.IsValid(string.Empty, body, header));
    }

    [Theory]
    [InlineData("s", "")]
    [InlineData("s3cr3t-ü-🔑", "{\"ref\":\"refs/tags/v1.0\"}")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-longer-than-a-block", "x")]
    public void Compute_and_IsValid_round_trip(string secret, string body)
    {
        var header = WebhookSignature.Compute(secret, Bytes(body));

        Assert.StartsWith("sha256=", header, StringComparison.Ordinal);
        Assert.Equal("sha256=".Length + 64, header.Length);
        Assert.True(WebhookSignature.IsValid(secret, Bytes(body), header));
        Assert.False(WebhookSignature.IsValid(secret + "x", Bytes(body), header));
    }

    [Fact]
    public void NewSecret_is_64_lowercase_hex_characters()
    {
        var secret = WebhookSignature.NewSecret();

        Assert.Equal(64, secret.Length);
        Assert.All(secret, c => Assert.True(char.IsAsciiDigit(c) || c is >= 'a' and <= 'f', $"'{c}' is not lowercase hex"));
    }

    [Fact]
    public void NewSecret_differs_between_calls()
    {
        var secrets = Enumerable.Range(0, 8).Select(_ => WebhookSignature.NewSecret()).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(8, secrets.Count);
    }

    [Fact]
    public void NewSecret_signs_and_verifies()
    {
        var secret = WebhookSignature.NewSecret();
        var body = Bytes(Payload);

        Assert.True(WebhookSignature.IsValid(secret, body, WebhookSignature.Compute(secret, body)));
        Assert.False(WebhookSignature.IsValid(secret, body, Signature));
    }
}
