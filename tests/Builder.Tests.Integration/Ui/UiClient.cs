using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Builder.Tests.Integration.Access;

namespace Builder.Tests.Integration.Ui;

/// <summary>
/// A browser without the browser, for the UI's HTTP contract: keeps the cookies the app sets (session, anti-forgery),
/// reads a form's anti-forgery token from the page and posts forms with it.
/// </summary>
internal sealed partial class UiClient(AccessHost host)
{
    public Dictionary<string, string> Cookies { get; } = new(StringComparer.Ordinal);

    /// <summary>The Set-Cookie headers of the latest answer, as sent.</summary>
    public List<string> LastSetCookies { get; } = [];

    public Task<Answer> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    /// <summary>Posts a form the way the page's form does: fields plus the anti-forgery token of <paramref name="tokenFrom"/>'s page.</summary>
    public async Task<Answer> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> fields, string? tokenFrom = null, bool withToken = true)
    {
        var values = fields.ToList();
        if (withToken)
        {
            var page = await GetAsync(tokenFrom ?? path);
            values.Add(new("__csrf", AntiforgeryToken(page.Body)));
        }

        return await SendAsync(HttpMethod.Post, path, new FormUrlEncodedContent(values));
    }

    public async Task<Answer> SignInAsync(string userName, string password, string returnUrl = "/")
    {
        var answer = await PostFormAsync("/sign-in", [new("userName", userName), new("password", password), new("returnUrl", returnUrl)]);
        return answer;
    }

    public async Task<Answer> SendAsync(HttpMethod method, string path, HttpContent? content, AuthenticationHeaderValue? auth = null)
    {
        var answer = await host.SendAsync(method, path, auth, content, request =>
        {
            if (Cookies.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", Cookies.Select(c => $"{c.Key}={c.Value}")));
            }
        });
        LastSetCookies.Clear();
        if (answer.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var header in setCookies)
            {
                LastSetCookies.Add(header);
                var pair = header.Split(';')[0];
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var (name, value) = (pair[..equals], pair[(equals + 1)..]);
                var expired = header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase);
                if (value.Length == 0 || expired)
                {
                    Cookies.Remove(name);
                }
                else
                {
                    Cookies[name] = value;
                }
            }
        }

        return answer;
    }

    public static string AntiforgeryToken(string html)
    {
        var match = TokenField().Match(html);
        Assert.True(match.Success, "the page has no anti-forgery field (__csrf)");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
