using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Builder.Data;

/// <summary>One key of the Data Protection key ring, as the XML Data Protection writes.</summary>
public sealed class DataProtectionKeyRow
{
    public int Id { get; set; }

    /// <summary>"key-{guid}": unique, so two processes storing the same key store it once.</summary>
    public required string FriendlyName { get; set; }

    public required string Xml { get; set; }
}

/// <summary>
/// The Data Protection key ring in Builder's database (production: every web and worker process shares it through
/// PostgreSQL, so a secret encrypted by one is readable by all). Keys are only ever added.
/// </summary>
public sealed class DatabaseXmlRepository(IServiceScopeFactory scopes) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        return [.. db.DataProtectionKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).ToList().Select(XElement.Parse)];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<BuilderDbContext>();
        db.DataProtectionKeys.Add(new DataProtectionKeyRow { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        try
        {
            db.SaveChanges();
        }
        catch (DbUpdateException) when (db.DataProtectionKeys.AsNoTracking().Any(k => k.FriendlyName == friendlyName))
        {
            // Stored already (the same key written twice): the goal is reached.
        }
    }
}
