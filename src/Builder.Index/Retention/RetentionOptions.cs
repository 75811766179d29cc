using System.ComponentModel.DataAnnotations;
using Builder.Core.Configuration;

namespace Builder.Index.Retention;

/// <summary>When retention policies run on their own, and how long a release a policy yanked waits before it deletes it (<c>Builder:Retention</c>).</summary>
public sealed class RetentionOptions : ISelfValidating
{
    public const string SectionName = "Builder:Retention";

    /// <summary>Default 24: each policy runs once a day (one period after it was created or last ran). Fractions allowed.</summary>
    public double Hours { get; set; } = 24;

    /// <summary>Default 14; 0: a release a policy yanked is deleted by its next run.</summary>
    [Range(0, 36500)]
    public int GraceDays { get; set; } = 14;

    public TimeSpan Period => TimeSpan.FromHours(Hours);

    public TimeSpan Grace => TimeSpan.FromDays(GraceDays);

    /// <summary>How often the schedule looks for policies that are due: a quarter of the period, between 1 s and a minute.</summary>
    public TimeSpan Tick => TimeSpan.FromSeconds(Math.Clamp(Period.TotalSeconds / 4, 1, 60));

    public IEnumerable<string> Problems()
    {
        if (!(Hours >= 0.0001 && Hours <= 24 * 366))
        {
            yield return $"Builder:Retention:Hours must be between 0.0001 and 8784 (it is {Hours})";
        }
    }
}
