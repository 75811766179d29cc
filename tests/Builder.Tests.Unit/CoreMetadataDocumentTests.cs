using Builder.Core.Packaging;

namespace Builder.Tests.Unit;

public sealed class CoreMetadataDocumentTests
{
    private const string Metadata =
        "Metadata-Version: 2.1\r\nName: acme-billing\r\nVersion: 1.4.0\r\nSummary: Billing for Acme\r\n" +
        "Classifier: Programming Language :: Python :: 3\r\nClassifier: License :: OSI Approved :: MIT License\r\n" +
        "Requires-Dist: requests (>=2)\r\nRequires-Dist: attrs; extra == \"dev\"\r\n" +
        "Project-URL: Source, https://example.invalid/src\r\nKeywords: billing,invoices\r\n" +
        "Description-Content-Type: text/markdown\r\n\r\n# Acme billing\r\n\r\nVersion: not a field\r\n";

    [Fact]
    public void Reads_single_and_multiple_use_fields_and_the_body()
    {
        var document = CoreMetadataDocument.Parse(Metadata);

        Assert.Equal("acme-billing", document.Get("Name"));
        Assert.Equal("Billing for Acme", document.Get("summary"));
        Assert.Equal(["Programming Language :: Python :: 3", "License :: OSI Approved :: MIT License"], document.GetAll("Classifier"));
        Assert.Equal(["requests (>=2)", "attrs; extra == \"dev\""], document.GetAll("Requires-Dist"));
        Assert.Equal("# Acme billing\n\nVersion: not a field", document.Description);
        Assert.Equal("1.4.0", document.Get("Version"));
        Assert.Null(document.Get("Author"));
        Assert.Empty(document.GetAll("Provides-Extra"));
    }

    [Fact]
    public void Reads_a_folded_description_field_when_there_is_no_body()
    {
        var document = CoreMetadataDocument.Parse("Name: x\nVersion: 1\nDescription: first line\n        |second line\n        |\n        |fourth\n");

        Assert.Equal("first line\nsecond line\n\nfourth", document.Description);
    }
}
