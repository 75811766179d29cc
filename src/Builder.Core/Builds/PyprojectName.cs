using Builder.Core.Packaging;
using Tomlyn;
using Tomlyn.Model;

namespace Builder.Core.Builds;

/// <summary>The project a source tree says it builds, before anything is built: PEP 621's <c>[project] name</c>.</summary>
public static class PyprojectName
{
    /// <summary>
    /// The normalized <c>[project] name</c> of a pyproject.toml text; null when there is none, it is not a valid name, or
    /// the text is not TOML (the plan reports that). A name a build backend fills in (setup.py only) is known after the build.
    /// </summary>
    public static string? Read(string? pyprojectToml)
    {
        if (pyprojectToml is null)
        {
            return null;
        }

        TomlTable? document;
        try
        {
            document = TomlSerializer.Deserialize<TomlTable>(pyprojectToml);
        }
        catch (TomlException)
        {
            return null;
        }

        return document is not null && document.TryGetValue("project", out var project) && project is TomlTable table
            && table.TryGetValue("name", out var name) && name is string text && PackageName.IsValid(text.Trim())
            ? PackageName.Normalize(text.Trim())
            : null;
    }
}
