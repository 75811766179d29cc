using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;

namespace Builder.Web.Pages;

public sealed class IndexModel : UiPage
{
    public IActionResult OnGet()
    {
        Title = "Packages";
        return Page();
    }
}
