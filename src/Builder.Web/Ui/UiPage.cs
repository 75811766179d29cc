using Builder.Core.Access;
using Builder.Web.Access;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Builder.Web.Ui;

/// <summary>
/// The base of every UI page: who is looking (<see cref="Viewer"/>, the same principal every API route asks), and the
/// two answers a page gives instead of itself: "sign in first" (a redirect that comes back here) and "not found" (a
/// 404 page, which is also what a project or build the viewer may not see looks like).
/// </summary>
public abstract class UiPage : PageModel
{
    public Principal Viewer => HttpContext.Principal();

    public bool SignedIn => !Viewer.IsAnonymous;

    /// <summary>May look at packages (<see cref="Principal.MayBrowse"/>); others are asked to sign in.</summary>
    protected bool MayBrowse => Viewer.MayBrowse;

    /// <summary>Set when the page answers with a problem instead of itself (404, 403): the sentence shown.</summary>
    public string? Problem { get; private set; }

    /// <summary>The page's title (the layout adds "— Builder").</summary>
    public string Title { get; protected set; } = "Builder";

    protected IActionResult SignInFirst() =>
        Redirect("/sign-in?returnUrl=" + Uri.EscapeDataString(Request.Path + Request.QueryString));

    protected IActionResult NotFoundPage(string what) => ProblemPage(StatusCodes.Status404NotFound, "Not found", $"{what} does not exist, or you may not see it.");

    protected IActionResult ProblemPage(int status, string title, string sentence)
    {
        Problem = sentence;
        Title = title;
        Response.StatusCode = status;
        return Page();
    }

    /// <summary>Admin pages: sign in first; 403 for signed-in people who are not admins, as on the API's admin routes.</summary>
    protected IActionResult? RequireAdmin()
    {
        if (!SignedIn)
        {
            return SignInFirst();
        }

        return Viewer.Rights.IsAdmin ? null : ProblemPage(StatusCodes.Status403Forbidden, "Admins only", $"{Request.Path} is for admins.");
    }
}
