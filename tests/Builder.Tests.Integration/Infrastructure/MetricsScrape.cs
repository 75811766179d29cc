using System.Globalization;
using System.Text.RegularExpressions;

namespace Builder.Tests.Integration.Infrastructure;

/// <summary>
/// One answer of <c>GET /metrics</c> in Prometheus's text format, read sample by sample (comment lines skipped), so a
/// test can ask for a series by name and labels.
/// </summary>
internal sealed partial class MetricsScrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    private MetricsScrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line of the text format: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
            _samples.Add((match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>The answer as it came.</summary>
    public string Text { get; }

    public IEnumerable<(string Name, IReadOnlyDictionary<string, string> Labels, double Value)> Samples =>
        _samples.Select(s => (s.Name, (IReadOnlyDictionary<string, string>)s.Labels, s.Value));

    public static MetricsScrape Parse(string text) => new(text);

    /// <summary>GET /metrics with <paramref name="authorization"/>; fails the test unless it answers 200 in the text format.</summary>
    public static async Task<MetricsScrape> ReadAsync(string baseUrl, System.Net.Http.Headers.AuthenticationHeaderValue? authorization)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = authorization;
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, $"GET /metrics: {(int)response.StatusCode} {body}");
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        return Parse(body);
    }

    /// <summary>The value of the one series with this name and exactly these labels; null when there is none.</summary>
    public double? Value(string name, params (string Name, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value))
            .Select(s => (double?)s.Value).SingleOrDefault();

    /// <summary>Like <see cref="Value"/>, failing the test when the series is missing.</summary>
    public double Require(string name, params (string Name, string Value)[] labels) =>
        Value(name, labels) ?? throw new Xunit.Sdk.XunitException($"no series {name}{{{string.Join(',', labels.Select(l => $"{l.Name}=\"{l.Value}\""))}}} in:\n{Text}");

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \S+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?""")]
    private static partial Regex LabelPair();
}
