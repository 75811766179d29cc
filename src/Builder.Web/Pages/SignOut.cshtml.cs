using Builder.Access;
using Builder.Web.Access;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;

namespace Builder.Web.Pages;

/// <summary>Ends the browser's session (on every process) and removes its cookie. A POST with the anti-forgery token: no other site can sign someone out.</summary>
public sealed class SignOutModel(SessionService sessions) : UiPage
{
    public void OnGet() => Title = "Sign out";

    public async Task<IActionResult> OnPostAsync()
    {
        if (SessionCookie.Read(Request) is { } secret)
        {
            await sessions.SignOutAsync(secret, HttpContext.Actor(), HttpContext.RequestAborted);
        }

        SessionCookie.Delete(HttpContext);
        return LocalRedirect("/sign-in");
    }
}
