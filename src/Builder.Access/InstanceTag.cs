using System.Security.Cryptography;
using Builder.Core.Access;
using Builder.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Access;

/// <summary>
/// This installation's token tag (part of every token secret; see <see cref="TokenSecret"/>): made at the first use and
/// stored in the database, so every process of the installation, and the command line, agree on it.
/// </summary>
public sealed class InstanceTag(IServiceScopeFactory scopes, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private uint? _tag;

    public async ValueTask<uint> GetAsync(CancellationToken cancellationToken)
    {
        if (_tag is { } known)
        {
            return known;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_tag is { } raced)
            {
                return raced;
            }

            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
            var row = await db.Instance.AsNoTracking().SingleOrDefaultAsync(i => i.Id == 1, cancellationToken);
            if (row is null)
            {
                db.Instance.Add(new InstanceIdentity { Id = 1, TokenTag = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4)), CreatedAt = time.GetUtcNow() });
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                }
                catch (DbUpdateException)
                {
                    // Another process made it first: take theirs.
                }

                db.ChangeTracker.Clear();
                row = await db.Instance.AsNoTracking().SingleAsync(i => i.Id == 1, cancellationToken);
            }

            _tag = (uint)row.TokenTag;
            return _tag.Value;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
