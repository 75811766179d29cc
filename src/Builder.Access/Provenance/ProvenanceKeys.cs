using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Builder.Core.Access;
using Builder.Core.Configuration;
using Builder.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Builder.Access.Provenance;

/// <summary>Builder's provenance CA (<c>Builder:Provenance</c>): made at the first signature, or imported from PEM files.</summary>
public sealed class ProvenanceOptions : ISelfValidating
{
    public const string SectionName = "Builder:Provenance";

    /// <summary>A CA certificate (PEM) to import when the installation has none yet, with <see cref="CaKeyFile"/>.</summary>
    public string? CaCertificateFile { get; set; }

    /// <summary>The imported CA's private key (PEM, PKCS#8 or SEC1, ECDSA P-256), with <see cref="CaCertificateFile"/>.</summary>
    public string? CaKeyFile { get; set; }

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(CaCertificateFile) != string.IsNullOrWhiteSpace(CaKeyFile))
        {
            yield return "Builder:Provenance:CaCertificateFile and Builder:Provenance:CaKeyFile go together: set both to import a CA, or neither";
        }
    }
}

/// <summary>
/// The one owner of provenance keys: Builder's certificate authority (ECDSA P-256, one per installation, made when the
/// first file is signed or imported from <see cref="ProvenanceOptions"/>) and the signing keys it certifies. Every
/// process of an installation (web replicas, workers, the command line) reads the same rows, so all sign under one CA;
/// both private keys are encrypted at rest with Data Protection like the other secrets, and only this class decrypts
/// them, in the control plane's processes: a build container gets neither the database nor this process's memory.
/// <see cref="RotateAsync"/> makes a new signing key, which every process uses from its next signature on (each
/// signature asks which key is newest); attestations made before stay valid, since their certificates chain to the same CA.
/// </summary>
public sealed class ProvenanceKeys(IServiceScopeFactory scopes, IDataProtectionProvider protection, IOptions<ProvenanceOptions> options, TimeProvider time) : IDisposable
{
    // PostgreSQL: two processes making the first keys at once agree on one CA.
    private const long LockKey = 0x50524f56454e; // "PROVEN"

    private readonly IDataProtector _protector = protection.CreateProtector("Builder.Provenance.PrivateKey.v1");
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile ProvenanceSigner? _signer;
    private volatile X509Certificate2? _ca;

    /// <summary>The CA's certificate (made or imported first when there is none).</summary>
    public async Task<X509Certificate2> CertificateAuthorityAsync(CancellationToken cancellationToken)
    {
        if (_ca is { } known)
        {
            return known;
        }

        await EnsureAsync(cancellationToken);
        return _ca!;
    }

    /// <summary>The newest signing key, as this moment's database says (a rotation by another process is seen at once).</summary>
    public async Task<ProvenanceSigner> SignerAsync(CancellationToken cancellationToken)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            var newest = await db.ProvenanceKeys.AsNoTracking().Where(k => k.Kind == ProvenanceKey.Signing).MaxAsync(k => (long?)k.Id, cancellationToken);
            if (newest is { } id && _signer is { } cached && cached.KeyId == id)
            {
                return cached;
            }
        }

        await EnsureAsync(cancellationToken);
        return _signer!;
    }

    /// <summary>Makes a new signing key certified by the CA; the next signature of every process uses it.</summary>
    public async Task<X509Certificate2> RotateAsync(CancellationToken cancellationToken)
    {
        var (_, signing) = await WithKeysAsync((db, ca) => Task.FromResult(MakeSigningKey(db, ca)), cancellationToken);
        _signer = null;
        return X509CertificateLoader.LoadCertificate(signing.Certificate);
    }

    /// <summary>Loads the CA and the newest signing key, making (or importing) what is missing.</summary>
    private async Task EnsureAsync(CancellationToken cancellationToken)
    {
        var (ca, signing) = await WithKeysAsync(async (db, ca) =>
            await db.ProvenanceKeys.Where(k => k.Kind == ProvenanceKey.Signing).OrderByDescending(k => k.Id).FirstOrDefaultAsync(cancellationToken)
                ?? MakeSigningKey(db, ca), cancellationToken);
        _ca = X509CertificateLoader.LoadCertificate(ca.Certificate);
        if (_signer?.KeyId != signing.Id)
        {
            var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(_protector.Unprotect(Convert.FromBase64String(signing.ProtectedPrivateKey)), out _);
            _signer = new ProvenanceSigner(signing.Id, X509CertificateLoader.LoadCertificate(signing.Certificate), key);
        }
    }

    /// <summary>
    /// One transaction over the keys, one process at a time (and, on PostgreSQL, one process of the installation at a
    /// time): the CA (made or imported when there is none), then <paramref name="signingKey"/>'s choice of signing key.
    /// </summary>
    private async Task<(ProvenanceKey Ca, ProvenanceKey Signing)> WithKeysAsync(Func<BuilderDbContext, CaKey, Task<ProvenanceKey>> signingKey, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await LockAsync(db, cancellationToken);
            var ca = await LoadOrMakeCaAsync(db, cancellationToken);
            var signing = await signingKey(db, ca);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (ca.Row, signing);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Holds the installation's keys for this transaction, so two processes never both make a CA (the server signing its
    /// first file while <c>provenance rotate</c> runs): PostgreSQL's advisory lock. SQLite needs nothing more: its
    /// transactions begin IMMEDIATE (Microsoft.Data.Sqlite's default), holding the database's write lock until the commit.
    /// </summary>
    private static async Task LockAsync(BuilderDbContext db, CancellationToken cancellationToken)
    {
        if (db.Database.ProviderName?.Contains("Npgsql", StringComparison.Ordinal) == true)
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
        }
    }

    private sealed record CaKey(ProvenanceKey Row, X509Certificate2 WithKey);

    private async Task<CaKey> LoadOrMakeCaAsync(BuilderDbContext db, CancellationToken cancellationToken)
    {
        if (await db.ProvenanceKeys.Where(k => k.Kind == ProvenanceKey.Ca).OrderBy(k => k.Id).FirstOrDefaultAsync(cancellationToken) is { } row)
        {
            using var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(_protector.Unprotect(Convert.FromBase64String(row.ProtectedPrivateKey)), out _);
            using var certificate = X509CertificateLoader.LoadCertificate(row.Certificate);
            return new CaKey(row, certificate.CopyWithPrivateKey(key));
        }

        var made = options.Value.CaCertificateFile is { Length: > 0 } certificateFile
            ? ImportCa(certificateFile, options.Value.CaKeyFile!)
            : MakeCa();
        using var privateKey = made.GetECDsaPrivateKey()!;
        var ca = new ProvenanceKey
        {
            Kind = ProvenanceKey.Ca,
            Certificate = made.RawData,
            ProtectedPrivateKey = Protect(privateKey),
            CreatedAt = time.GetUtcNow(),
        };
        db.ProvenanceKeys.Add(ca);
        return new CaKey(ca, made);
    }

    private X509Certificate2 MakeCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = time.GetUtcNow();
        var request = new CertificateRequest($"CN=Builder provenance CA {Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(30));
    }

    private static X509Certificate2 ImportCa(string certificateFile, string keyFile)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadCertificateFromFile(certificateFile);
            using var key = ECDsa.Create();
            key.ImportFromPem(File.ReadAllText(keyFile));
            if (key.KeySize != 256 || certificate.GetECDsaPublicKey() is not { } publicKey
                || !publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw new InvalidOperationException($"Builder:Provenance: {keyFile} is not the ECDSA P-256 private key of the certificate in {certificateFile}");
            }

            if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
            {
                throw new InvalidOperationException($"Builder:Provenance: the certificate in {certificateFile} is not a CA certificate (basicConstraints CA:TRUE)");
            }

            return certificate.CopyWithPrivateKey(key);
        }
        catch (Exception ex) when (ex is IOException or CryptographicException or ArgumentException or FormatException)
        {
            throw new InvalidOperationException($"Builder:Provenance: cannot import the CA from {certificateFile} and {keyFile}: {ex.Message}", ex);
        }
    }

    private ProvenanceKey MakeSigningKey(BuilderDbContext db, CaKey ca)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = time.GetUtcNow();
        var request = new CertificateRequest($"CN=Builder provenance signing key {now:yyyy-MM-ddTHH:mm:ssZ}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.3", "Code Signing")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // By the CA's key identifier; an imported CA without one is named by its issuer and serial number instead.
        var caHasKeyIdentifier = ca.WithKey.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any();
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca.WithKey, caHasKeyIdentifier, !caHasKeyIdentifier));
        var notAfter = ca.WithKey.NotAfter.ToUniversalTime() < now.AddYears(10).UtcDateTime ? new DateTimeOffset(ca.WithKey.NotAfter.ToUniversalTime()) : now.AddYears(10);
        using var certificate = request.Create(ca.WithKey, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        var row = new ProvenanceKey
        {
            Kind = ProvenanceKey.Signing,
            Certificate = certificate.RawData,
            ProtectedPrivateKey = Protect(key),
            CreatedAt = now,
        };
        db.ProvenanceKeys.Add(row);
        return row;
    }

    public void Dispose() => _gate.Dispose();

    private string Protect(ECDsa key) => Convert.ToBase64String(_protector.Protect(key.ExportPkcs8PrivateKey()));
}

/// <summary>A signing key and its certificate: signs DSSE pre-authentication encodings (ECDSA P-256, SHA-256, DER).</summary>
public sealed class ProvenanceSigner(long keyId, X509Certificate2 certificate, ECDsa key)
{
    public long KeyId { get; } = keyId;

    public X509Certificate2 Certificate { get; } = certificate;

    public byte[] Sign(byte[] data) => key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
}
