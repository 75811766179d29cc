using System.Security.Cryptography;
using Builder.Core.Forges;
using Builder.Forges;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Tests.Integration.Forges;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

internal static class ForgeTestKit
{
    public const string Sha = "9fceb02d0ae598e95dc970b74767f19372d61af8";

    /// <summary>The forge clients as the hosts compose them.</summary>
    public static ServiceProvider Services(TimeProvider? time = null)
    {
        var services = new ServiceCollection().AddLogging();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        return services.AddBuilderForges().BuildServiceProvider();
    }

    public static IForgeClient Client(this ServiceProvider services, string provider) =>
        services.GetServices<IForgeClient>().Single(c => c.Provider == provider);

    /// <summary>A fresh RSA key pair as a GitHub App has one: the private key in PEM, the public key for the fake.</summary>
    public static (string PrivateKeyPem, RSA PublicKey) AppKey()
    {
        using var rsa = RSA.Create(2048);
        var publicKey = RSA.Create();
        publicKey.ImportSubjectPublicKeyInfo(rsa.ExportSubjectPublicKeyInfo(), out _);
        return (rsa.ExportRSAPrivateKeyPem(), publicKey);
    }

    public static ReleaseFile File(string name, byte[] bytes) =>
        new(name, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), new Uri($"https://builder.example/files/{name}"),
            _ => Task.FromResult<Stream>(new MemoryStream(bytes, writable: false)));

    /// <summary>No secret appears in what a call reports.</summary>
    public static void AssertNoSecret(ForgeCallResult result, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, result.Message, StringComparison.Ordinal);
        }
    }
}
