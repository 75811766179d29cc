using System.Text.RegularExpressions;

namespace Builder.Core.Packaging;

public enum DistributionKind
{
    Wheel,
    Sdist,
}

/// <summary>A wheel or sdist file name, parsed (binary distribution format spec; sdist spec).</summary>
public sealed partial record DistributionFilename(
    string Filename,
    DistributionKind Kind,
    string Name,
    string Version,
    string? PythonTag,
    string? AbiTag,
    string? PlatformTag,
    string? BuildTag = null)
{
    // {distribution}-{version}; the distribution is a PEP 508 name with '-' escaped to '_'. \z, not $: no trailing newline.
    // {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl
    [GeneratedRegex(@"^(?<name>[A-Za-z0-9](?:[A-Za-z0-9_.]*[A-Za-z0-9])?)-(?<ver>[A-Za-z0-9_.!+]+)(-(?<build>\d[A-Za-z0-9_.]*))?-(?<py>[A-Za-z0-9_.]+)-(?<abi>[A-Za-z0-9_.]+)-(?<plat>[A-Za-z0-9_.]+)\.whl\z", RegexOptions.CultureInvariant)]
    private static partial Regex WheelPattern();

    // {name}-{version}.tar.gz; the name may hold '-' in legacy sdists, the version never does.
    [GeneratedRegex(@"^(?<name>[A-Za-z0-9][A-Za-z0-9_.-]*)-(?<ver>[A-Za-z0-9_.!+]+)\.(tar\.gz|zip)\z", RegexOptions.CultureInvariant)]
    private static partial Regex SdistPattern();

    /// <summary>
    /// The longest file name (in UTF-8 bytes) this index takes in: every name the store derives from it (a build's staged
    /// copy <c>{sha256}-{name}.metadata</c>, written as <c>….{32 hex digits}.tmp</c> first: 111 more bytes) must stay within
    /// the 255 bytes a file name may have on Linux. Real wheel names, compressed tag sets included, stay well below.
    /// Longer names do not parse (<see cref="TryParse"/>): uploads, builds, imports and upstream files alike.
    /// </summary>
    public const int MaxLength = 144;

    /// <summary>True when the wheel's tags say it runs on any platform with any ABI (a pure-Python wheel).</summary>
    public bool IsPure => Kind == DistributionKind.Wheel && AbiTag == "none" && PlatformTag == "any";

    public string NormalizedName => PackageName.Normalize(Name);

    /// <summary>
    /// This file's name as the binary distribution format and PEP 625 write it: the project name normalized with '_',
    /// the version PEP 440-normalized; build and compatibility tags as sent. One file has one name.
    /// </summary>
    public string Canonical => Kind == DistributionKind.Wheel
        ? $"{PackageName.InFileName(Name)}-{Version}{(BuildTag is null ? string.Empty : "-" + BuildTag)}-{PythonTag}-{AbiTag}-{PlatformTag}.whl"
        : $"{PackageName.InFileName(Name)}-{Version}{(Filename.EndsWith(".zip", StringComparison.Ordinal) ? ".zip" : ".tar.gz")}";

    /// <summary>
    /// The tags this file installs for, expanded from compressed tag sets ("py2.py3-none-any" is py2-none-any and
    /// py3-none-any); an sdist is "sdist". Two files of a release that share one would leave the pick to the installer.
    /// </summary>
    public IReadOnlyList<string> Tags => Kind == DistributionKind.Wheel
        ? [.. from python in PythonTag!.Split('.') from abi in AbiTag!.Split('.') from platform in PlatformTag!.Split('.') select $"{python}-{abi}-{platform}"]
        : ["sdist"];

    public static bool TryParse(string filename, out DistributionFilename? result)
    {
        result = null;
        if (filename.Length is 0 or > MaxLength || filename.Contains('/') || filename.Contains('\\'))
        {
            return false;
        }

        var wheel = WheelPattern().Match(filename);
        if (wheel.Success && Pep440Version.TryNormalize(wheel.Groups["ver"].Value, out var wheelVersion))
        {
            result = new DistributionFilename(filename, DistributionKind.Wheel, wheel.Groups["name"].Value, wheelVersion,
                wheel.Groups["py"].Value, wheel.Groups["abi"].Value, wheel.Groups["plat"].Value, wheel.Groups["build"].Success ? wheel.Groups["build"].Value : null);
            return true;
        }

        var sdist = SdistPattern().Match(filename);
        if (sdist.Success && Pep440Version.TryNormalize(sdist.Groups["ver"].Value, out var sdistVersion))
        {
            result = new DistributionFilename(filename, DistributionKind.Sdist, sdist.Groups["name"].Value, sdistVersion,
                null, null, null);
            return true;
        }

        return false;
    }
}
