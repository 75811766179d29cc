using Tomlyn;
using Tomlyn.Model;

namespace Builder.Core.Builds;

/// <summary>
/// A project's <c>[tool.cibuildwheel]</c> settings for Linux: the table's keys, each overridden by the same key in
/// <c>[tool.cibuildwheel.linux]</c> (cibuildwheel's <c>OptionsReader.get</c> cascade: defaults, tool.cibuildwheel,
/// tool.cibuildwheel.&lt;platform&gt;). Values are normalized the way cibuildwheel's <c>_stringify_setting</c> does.
/// </summary>
internal sealed class CibuildwheelTable
{
    public const string FileName = "pyproject.toml";

    // Platform sub-tables cibuildwheel knows; only "linux" applies to Builder's manylinux containers.
    private static readonly HashSet<string> OtherPlatforms = new(StringComparer.Ordinal) { "macos", "windows", "pyodide", "ios", "android" };

    private readonly Dictionary<string, (object Value, bool FromLinux)> _values;

    private CibuildwheelTable(Dictionary<string, (object Value, bool FromLinux)> values, List<string> ignored)
    {
        _values = values;
        Ignored = ignored;
    }

    /// <summary>Keys in the order they were written: <c>[tool.cibuildwheel]</c> first, then keys only in <c>.linux</c>.</summary>
    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>Platform sections that do not apply here.</summary>
    public IReadOnlyList<string> Ignored { get; }

    /// <summary>The table of a pyproject.toml text; null when it has none. Invalid TOML is a <see cref="BuildStepException"/>.</summary>
    public static CibuildwheelTable? Read(string pyprojectToml)
    {
        TomlTable document;
        try
        {
            document = TomlSerializer.Deserialize<TomlTable>(pyprojectToml)
                ?? throw new BuildStepException($"{FileName} is empty of TOML values");
        }
        catch (TomlException ex)
        {
            var where = ex.Line is { } line ? $" at line {line}, column {ex.Column ?? 0}" : "";
            throw new BuildStepException($"{FileName} is not valid TOML{where}: {FirstLine(ex.Message)}", ex);
        }

        if (!document.TryGetValue("tool", out var tool) || tool is not TomlTable toolTable
            || !toolTable.TryGetValue("cibuildwheel", out var table))
        {
            return null;
        }

        if (table is not TomlTable cibuildwheel)
        {
            throw new BuildStepException($"{FileName}: tool.cibuildwheel must be a table");
        }

        var values = new Dictionary<string, (object, bool)>(StringComparer.Ordinal);
        var ignored = new List<string>();
        foreach (var (key, value) in cibuildwheel)
        {
            if (OtherPlatforms.Contains(key))
            {
                ignored.Add($"[tool.cibuildwheel.{key}]: Builder builds Linux wheels only");
            }
            else if (key != "linux")
            {
                values[key] = (value, false);
            }
        }

        if (cibuildwheel.TryGetValue("linux", out var linux))
        {
            if (linux is not TomlTable linuxTable)
            {
                throw new BuildStepException($"{FileName}: tool.cibuildwheel.linux must be a table");
            }

            foreach (var (key, value) in linuxTable)
            {
                values[key] = (value, true);
            }
        }

        return new CibuildwheelTable(values, ignored);
    }

    /// <summary>Where a key was set, for log lines: <c>skip</c> or <c>linux.skip</c>.</summary>
    public string Source(string key) => _values[key].FromLinux ? $"linux.{key}" : key;

    public object Raw(string key) => _values[key].Value;

    /// <summary>A string, or an array of strings joined with <paramref name="separator"/> (cibuildwheel's <c>list_sep</c>).</summary>
    public string? Text(string key, string separator)
    {
        if (!_values.TryGetValue(key, out var entry))
        {
            return null;
        }

        return entry.Value switch
        {
            string s => s,
            TomlArray array when array.All(item => item is string) => string.Join(separator, array.Cast<string>()),
            _ => throw new BuildStepException($"{FileName}: tool.cibuildwheel.{Source(key)} must be a string or an array of strings"),
        };
    }

    /// <summary>
    /// <c>environment</c>: cibuildwheel's assignment string as is, or a table rendered as cibuildwheel does
    /// (<c>{k}="{v}"</c> joined with spaces, an array value giving one assignment per item), in the table's order.
    /// </summary>
    /// <remarks>
    /// Unlike cibuildwheel (which inserts values verbatim) we escape <c>\</c>, <c>"</c> and <c>`</c>, so a value
    /// with quotes stays one value; <c>$NAME</c> and <c>$(cmd)</c> still expand, as cibuildwheel documents.
    /// </remarks>
    public string? Environment()
    {
        if (!_values.TryGetValue("environment", out var entry))
        {
            return null;
        }

        if (entry.Value is string s)
        {
            return s;
        }

        if (entry.Value is not TomlTable table)
        {
            throw new BuildStepException($"{FileName}: tool.cibuildwheel.{Source("environment")} must be a string or a table");
        }

        var assignments = new List<string>();
        foreach (var (name, value) in table)
        {
            if (!IsVariableName(name))
            {
                throw new BuildStepException($"{FileName}: tool.cibuildwheel.{Source("environment")} has '{name}', which is not an environment variable name");
            }

            var items = value is TomlArray array ? array.Cast<object?>() : [value];
            assignments.AddRange(items.Select(item => $"{name}=\"{Escape(Scalar(item, name))}\""));
        }

        return string.Join(' ', assignments);
    }

    private string Scalar(object? value, string name) => value switch
    {
        string s => s,
        bool b => b ? "True" : "False", // Python's str(bool), which cibuildwheel's formatting produces
        long or double => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
        _ => throw new BuildStepException($"{FileName}: tool.cibuildwheel.{Source("environment")}.{name} must be a string, number or boolean"),
    };

    private static string Escape(string value) => value
        .Replace(@"\", @"\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal)
        .Replace("`", "\\`", StringComparison.Ordinal);

    private static bool IsVariableName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    // Tomlyn's message repeats the position as "(4,1) : error : ..."; the position is already in our text.
    private static string FirstLine(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message.Split('\n')[0].Trim(), @"^.*?\(\d+,\d+\)\s*:\s*error\s*:\s*", "");
}
