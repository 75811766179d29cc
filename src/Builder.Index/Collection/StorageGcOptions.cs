using Builder.Core.Configuration;

namespace Builder.Index.Collection;

/// <summary>Garbage collection of the artifact store (<c>Builder:Storage:GcHours</c>, <c>Builder:Storage:GcGraceHours</c>).</summary>
public sealed class StorageGcOptions : ISelfValidating
{
    /// <summary>The store's own section: the provider's settings are bound from it too (<c>StorageOptions</c>).</summary>
    public const string SectionName = "Builder:Storage";

    /// <summary>How often a collection runs on its own (in one process at a time); 0: only when an admin asks.</summary>
    public double GcHours { get; set; } = 24;

    /// <summary>
    /// How old an object no row names must be before it is removed: it may be the bytes of a write whose row is still to
    /// come. Published names are also checked under their project's publish lock, so 0 is safe for them.
    /// </summary>
    public double GcGraceHours { get; set; } = 24;

    public TimeSpan Every => TimeSpan.FromHours(GcHours);

    public TimeSpan Grace => TimeSpan.FromHours(GcGraceHours);

    public IEnumerable<string> Problems()
    {
        if (GcHours is < 0 or > 8760 || double.IsNaN(GcHours))
        {
            yield return $"Builder:Storage:GcHours must be between 0 and 8760 (it is {GcHours}); 0 runs no collection on its own";
        }

        if (GcGraceHours is < 0 or > 87600 || double.IsNaN(GcGraceHours))
        {
            yield return $"Builder:Storage:GcGraceHours must be between 0 and 87600 (it is {GcGraceHours})";
        }
    }
}
