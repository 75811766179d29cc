using Builder.Core.Index;

namespace Builder.Tests.Unit;

public sealed class SimpleContentTypeTests
{
    private const string Html = SimpleContentType.Html;
    private const string HtmlV1 = SimpleContentType.HtmlV1;
    private const string JsonV1 = SimpleContentType.JsonV1;

    [Theory]
    // No header, or nothing we serve → text/html (Warehouse's default).
    [InlineData(null, Html)]
    [InlineData("", Html)]
    [InlineData("image/png", Html)]
    [InlineData("application/json", Html)]
    // pip ≥ 22.2 sends exactly this (pip/_internal/index/collector.py): JSON wins on q.
    [InlineData("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01", JsonV1)]
    // uv's header.
    [InlineData("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01", JsonV1)]
    [InlineData("application/vnd.pypi.simple.v1+html", HtmlV1)]
    [InlineData("application/vnd.pypi.simple.v1+json", JsonV1)]
    [InlineData("text/html", Html)]
    // Wildcards: every offer ties at q=1, so our order decides.
    [InlineData("*/*", Html)]
    [InlineData("application/*", HtmlV1)]
    // The most specific range gives an offer its q.
    [InlineData("*/*;q=0.5, application/vnd.pypi.simple.v1+json", JsonV1)]
    [InlineData("application/*;q=0.9, text/html;q=0.1", HtmlV1)]
    [InlineData("text/html;q=0.2, application/vnd.pypi.simple.v1+json;q=0.3", JsonV1)]
    // Ties in q: our order (text/html, v1+html, v1+json).
    [InlineData("application/vnd.pypi.simple.v1+json;q=0.5, text/html;q=0.5", Html)]
    // q=0 means "not acceptable".
    [InlineData("text/html;q=0, application/vnd.pypi.simple.v1+html;q=0, application/vnd.pypi.simple.v1+json;q=0", Html)]
    [InlineData("*/*, text/html;q=0", HtmlV1)]
    // PEP 691 "latest" aliases.
    [InlineData("application/vnd.pypi.simple.latest+json", JsonV1)]
    [InlineData("application/vnd.pypi.simple.latest+html", HtmlV1)]
    // Case and spacing do not matter; a bad q is ignored (treated as 1).
    [InlineData("Application/VND.PyPI.Simple.V1+JSON ; Q=0.9", JsonV1)]
    [InlineData("application/vnd.pypi.simple.v1+json;q=abc", JsonV1)]
    [InlineData("garbage, ,;;", Html)]
    public void Accept_header_picks_the_format(string? accept, string expected)
    {
        Assert.Equal(expected, SimpleContentType.Select(accept, format: null));
    }

    [Theory]
    [InlineData("application/vnd.pypi.simple.v1+json", "text/html", JsonV1)]
    [InlineData("text/html", "application/vnd.pypi.simple.v1+json", Html)]
    [InlineData("application/vnd.pypi.simple.latest+json", null, JsonV1)]
    [InlineData("application/vnd.pypi.simple.v1+html", null, HtmlV1)]
    public void Format_parameter_overrides_the_accept_header(string format, string? accept, string expected)
    {
        Assert.Equal(expected, SimpleContentType.Select(accept, format));
    }

    [Theory]
    [InlineData("json")]
    [InlineData("application/xml")]
    public void Unknown_format_parameter_is_null(string format)
    {
        Assert.Null(SimpleContentType.Select(null, format));
    }
}
