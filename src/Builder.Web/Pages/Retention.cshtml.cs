using Builder.Index.Retention;
using Builder.Web.Ui;
using Microsoft.AspNetCore.Mvc;

namespace Builder.Web.Pages;

/// <summary>Retention policies (admins): each policy, when it runs next, and its preview (what it would yank or delete now, and why).</summary>
public sealed class RetentionModel(RetentionPolicies policies) : UiPage
{
    public IReadOnlyList<(RetentionPolicyView Policy, RetentionPreview Preview)> Policies { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        if (RequireAdmin() is { } refusal)
        {
            return refusal;
        }

        Title = "Retention";
        var list = new List<(RetentionPolicyView, RetentionPreview)>();
        foreach (var policy in await policies.ListAsync(HttpContext.RequestAborted))
        {
            if ((await policies.PreviewAsync(policy.Id, HttpContext.RequestAborted)).Value is { } preview)
            {
                list.Add((policy, preview));
            }
        }

        Policies = list;
        return Page();
    }
}
