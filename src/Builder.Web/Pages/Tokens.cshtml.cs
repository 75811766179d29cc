using System.Globalization;
using Builder.Access;
using Builder.Access.Oidc;
using Builder.Web.Access;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;

namespace Builder.Web.Pages;

/// <summary>
/// Tokens: people create, list and revoke their own, admins everyone's (<see cref="TokenService"/> decides, as for
/// <c>/api/tokens</c>). A new token's secret is shown once, with ready-to-paste settings for pip, uv and poetry.
/// </summary>
public sealed class TokensModel(TokenService tokens, TrustedPublishers publishers, UiAddress address) : UiPage
{
    public IReadOnlyList<TokenView> Tokens { get; private set; } = [];

    /// <summary>Admins: the trusted publishers whose CI jobs exchange ID tokens for short-lived tokens.</summary>
    public IReadOnlyList<TrustedPublisherView> Publishers { get; private set; } = [];

    public TokenView? Created { get; private set; }

    public string? Secret { get; private set; }

    public string? Error { get; private set; }

    public string? Notice { get; private set; }

    public string IndexUrl => address.IndexUrl(Request);

    public string Host => address.Host(Request);

    [BindProperty]
    public TokenForm Form { get; set; } = new();

    public async Task<IActionResult> OnGetAsync() => Refusal() ?? await ShowAsync();

    /// <summary>As <c>/api/tokens</c>: people manage their own tokens, admins everyone's; other tokens none.</summary>
    private IActionResult? Refusal()
    {
        if (!SignedIn)
        {
            return SignInFirst();
        }

        return Viewer.Rights.IsAdmin || Viewer.Kind == Builder.Core.Access.PrincipalKind.Person
            ? null
            : ProblemPage(StatusCodes.Status403Forbidden, "Tokens", "Tokens are managed by admins, and by people for themselves; sign in with your account.");
    }

    public async Task<IActionResult> OnPostCreateAsync()
    {
        if (Refusal() is { } refusal)
        {
            return refusal;
        }

        if (!Form.TryBuild(out var request, out var problem))
        {
            Error = problem;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return await ShowAsync();
        }

        var result = await tokens.CreateAsync(request!, Viewer, HttpContext.Actor(), HttpContext.RequestAborted);
        if (result.Token is null)
        {
            Error = result.Problem;
            Response.StatusCode = result.Status;
            return await ShowAsync();
        }

        (Created, Secret) = (result.Token, result.Secret);
        Form = new TokenForm();
        return await ShowAsync();
    }

    public async Task<IActionResult> OnPostRevokeAsync(long id)
    {
        if (Refusal() is { } refusal)
        {
            return refusal;
        }

        var revoked = await tokens.RevokeAsync(id, Viewer, HttpContext.Actor(), HttpContext.RequestAborted);
        if (revoked is null)
        {
            return NotFoundPage($"Token {id}");
        }

        Notice = $"Token '{revoked.Name}' ({revoked.Hint}) is revoked.";
        return await ShowAsync();
    }

    /// <summary>Admins: deletes a trusted publisher, which revokes the tokens it minted (as <c>DELETE /api/trusted-publishers/{id}</c>).</summary>
    public async Task<IActionResult> OnPostDeletePublisherAsync(long id)
    {
        if (Refusal() is { } refusal)
        {
            return refusal;
        }

        if (!Viewer.Rights.IsAdmin)
        {
            return ProblemPage(StatusCodes.Status403Forbidden, "Tokens", "Trusted publishers are managed by admins.");
        }

        var deleted = await publishers.DeleteAsync(id, HttpContext.Actor(), HttpContext.RequestAborted);
        if (deleted is null)
        {
            return NotFoundPage($"Trusted publisher {id}");
        }

        Notice = $"Trusted publisher '{deleted.Name}' is deleted; {deleted.RevokedTokens} token(s) it minted are revoked.";
        return await ShowAsync();
    }

    private async Task<IActionResult> ShowAsync()
    {
        Title = "Tokens";
        Tokens = await tokens.ListAsync(Viewer, HttpContext.RequestAborted);
        if (Viewer.Rights.IsAdmin)
        {
            Publishers = await publishers.ListAsync(HttpContext.RequestAborted);
        }

        return Page();
    }
}

/// <summary>The create form's fields, turned into the same <see cref="TokenRequest"/> the API takes.</summary>
public sealed class TokenForm
{
    public string? Name { get; set; }

    public bool Read { get; set; } = true;

    public bool Upload { get; set; }

    public bool Admin { get; set; }

    /// <summary>Globs separated by spaces or commas; empty: every project.</summary>
    public string? Projects { get; set; }

    public string? Versions { get; set; }

    /// <summary>Days until it expires; empty: never.</summary>
    public int? ExpiresInDays { get; set; } = 90;

    public string? IpRanges { get; set; }

    public string? Description { get; set; }

    /// <summary>Admins: the person the token acts for.</summary>
    public string? Owner { get; set; }

    public bool TryBuild(out TokenRequest? request, out string? problem)
    {
        request = null;
        problem = null;
        if (ExpiresInDays is < 1 or > 3650)
        {
            problem = "Expires in: give between 1 and 3650 days, or leave it empty for a token that never expires.";
            return false;
        }

        List<string> scopes = [];
        if (Read)
        {
            scopes.Add("read");
        }

        if (Upload)
        {
            scopes.Add("upload");
        }

        if (Admin)
        {
            scopes.Add("admin");
        }

        request = new TokenRequest(
            Name?.Trim(),
            scopes,
            Split(Projects),
            string.IsNullOrWhiteSpace(Versions) ? null : Versions.Trim(),
            ExpiresInDays is { } days ? DateTimeOffset.UtcNow.AddDays(days) : null,
            Split(IpRanges),
            string.IsNullOrWhiteSpace(Description) ? null : Description.Trim(),
            string.IsNullOrWhiteSpace(Owner) ? null : Owner.Trim());
        return true;
    }

    private static List<string>? Split(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null : [.. text.Split([' ', ',', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)];

    public static string Days(DateTimeOffset? at) => at?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "never";
}
