using System.Security.Cryptography;
using Builder.Access;
using Builder.Access.Provenance;

namespace Builder.Web.Provenance;

/// <summary>
/// <c>Builder.Web provenance rotate</c>: a new provenance signing key, certified by the installation's CA, with the
/// server's configuration and database and no HTTP (like <c>token</c>). Every process signs with it from its next
/// signature on; attestations made before stay valid against the same CA. Audited. Exit code 0: done; 2: usage error.
/// </summary>
internal static class ProvenanceCommand
{
    public const string Name = "provenance";

    private const string Usage = "usage: Builder.Web provenance rotate";

    public static async Task<int> RunAsync(IHost host, string[] args, TextWriter output, TextWriter error)
    {
        if (args is not ["rotate"])
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        await host.StartAsync();
        try
        {
            var keys = host.Services.GetRequiredService<ProvenanceKeys>();
            using var certificate = await keys.RotateAsync(CancellationToken.None);
            var ca = await keys.CertificateAuthorityAsync(CancellationToken.None);
            var fingerprint = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
            await host.Services.GetRequiredService<AuditLog>().RecordAsync(AuditActor.CommandLine, AuditActions.ProvenanceKeyRotated, AuditOutcomes.Ok,
                target: certificate.Subject, detail: $"new provenance signing certificate, sha256 {fingerprint}, issued by {ca.Subject}");
            await output.WriteLineAsync($"new signing certificate: {certificate.Subject}, sha256 fingerprint {fingerprint}, issued by {ca.Subject}; used from the next signature on");
            return 0;
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
