using Builder.Access;
using Builder.Core.Access;
using Builder.Web.Access;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Builder.Web.Pages;

/// <summary>
/// Sign in with a person's account (local or directory, <c>Builder:Access:People</c>): a session cookie
/// (<see cref="SessionCookie"/>). Failed attempts count against the source address like every other failed
/// authentication (<see cref="FailedAuthLimiter"/>: past the limit, 429 until the window ends).
/// </summary>
public sealed class SignInModel(SessionService sessions, FailedAuthLimiter limiter, IOptions<AccessOptions> options) : UiPage
{
    public string? Error { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? UserName { get; set; }

    public string Source => options.Value.People == PeopleService.LdapSource ? "directory account" : "local account";

    public void OnGet() => Title = "Sign in";

    public async Task<IActionResult> OnPostAsync(string? password)
    {
        Title = "Sign in";
        var address = HttpContext.Connection.RemoteIpAddress;
        if (limiter.IsBlocked(address, out var retryAfter))
        {
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Error = $"Too many failed sign-ins from this address; try again in {Math.Ceiling(retryAfter.TotalSeconds)} s.";
            return Page();
        }

        if (string.IsNullOrWhiteSpace(UserName) || string.IsNullOrEmpty(password))
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            Error = "Give your user name and password.";
            return Page();
        }

        var result = await sessions.SignInAsync(UserName.Trim(), password, HttpContext.Actor(), HttpContext.RequestAborted);
        if (!result.Succeeded)
        {
            if (result.Status == StatusCodes.Status401Unauthorized)
            {
                limiter.RecordFailure(address);
            }

            Response.StatusCode = result.Status;
            Error = result.Problem;
            return Page();
        }

        SessionCookie.Write(HttpContext, result.Secret!, result.ExpiresAt);
        return LocalRedirect(ReturnUrl is { Length: > 0 } url && Url.IsLocalUrl(url) ? url : "/");
    }
}
