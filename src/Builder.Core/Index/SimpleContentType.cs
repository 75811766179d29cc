using System.Globalization;

namespace Builder.Core.Index;

/// <summary>The formats of the simple repository API (PEP 691) and how a request picks one.</summary>
public static class SimpleContentType
{
    public const string Html = "text/html";
    public const string HtmlV1 = "application/vnd.pypi.simple.v1+html";
    public const string JsonV1 = "application/vnd.pypi.simple.v1+json";

    // Warehouse's offers, in its order: ties in q go to the earlier one (warehouse/api/simple.py _select_content_type).
    private static readonly string[] Offers = [Html, HtmlV1, JsonV1];

    public static bool IsJson(string contentType) => contentType == JsonV1;

    /// <summary>
    /// Picks the response type. <paramref name="format"/> (the <c>?format=</c> query parameter, as Warehouse accepts)
    /// wins when it names one of our types; else the Accept header: the offer with the highest q wins (q from the
    /// most specific matching range), ties by our order; nothing acceptable, or no header → text/html.
    /// Returns null when <paramref name="format"/> names a type we do not serve.
    /// </summary>
    public static string? Select(string? accept, string? format)
    {
        if (!string.IsNullOrEmpty(format))
        {
            // "+" arrives as " " when a user types the media type into a query string unencoded.
            var wanted = Alias(format.Trim().Replace(' ', '+').ToLowerInvariant());
            return Offers.Contains(wanted) ? wanted : null;
        }

        if (string.IsNullOrWhiteSpace(accept))
        {
            return Html;
        }

        var ranges = Parse(accept);
        string? best = null;
        var bestQ = 0.0;
        foreach (var offer in Offers)
        {
            var q = QualityOf(offer, ranges);
            if (q > bestQ)
            {
                best = offer;
                bestQ = q;
            }
        }

        return best ?? Html;
    }

    // PEP 691 §Version + Format Selection: "latest" names the newest version of a format.
    private static string Alias(string type) => type switch
    {
        "application/vnd.pypi.simple.latest+json" => JsonV1,
        "application/vnd.pypi.simple.latest+html" => HtmlV1,
        _ => type,
    };

    private sealed record MediaRange(string Type, string Subtype, double Q)
    {
        public int Specificity => Type == "*" ? 0 : Subtype == "*" ? 1 : 2;
    }

    private static double QualityOf(string offer, List<MediaRange> ranges)
    {
        var slash = offer.IndexOf('/', StringComparison.Ordinal);
        var (type, subtype) = (offer[..slash], offer[(slash + 1)..]);
        MediaRange? match = null;
        foreach (var range in ranges)
        {
            var matches = (range.Type == "*" || range.Type == type) && (range.Subtype == "*" || range.Subtype == subtype);
            if (matches && (match is null || range.Specificity > match.Specificity))
            {
                match = range;
            }
        }

        return match?.Q ?? 0;
    }

    private static List<MediaRange> Parse(string accept)
    {
        var ranges = new List<MediaRange>();
        foreach (var part in accept.Split(','))
        {
            var pieces = part.Split(';');
            var media = Alias(pieces[0].Trim().ToLowerInvariant());
            var slash = media.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || slash == media.Length - 1)
            {
                continue;
            }

            var q = 1.0;
            foreach (var parameter in pieces.Skip(1))
            {
                var kv = parameter.Split('=', 2);
                if (kv.Length == 2 && kv[0].Trim().Equals("q", StringComparison.OrdinalIgnoreCase)
                    && double.TryParse(kv[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
                {
                    q = Math.Clamp(parsed, 0, 1);
                }
            }

            ranges.Add(new MediaRange(media[..slash], media[(slash + 1)..], q));
        }

        return ranges;
    }
}
