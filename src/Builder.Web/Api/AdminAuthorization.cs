using System.Security.Cryptography;
using System.Text;
using Builder.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Builder.Web.Api;

/// <summary>Requires "Authorization: Bearer {Builder:AdminToken}" on admin endpoints.</summary>
internal sealed class AdminAuthorization(IOptions<AdminOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || !TokensEqual(header[scheme.Length..].Trim(), options.Value.AdminToken))
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Unauthorized",
                detail: "this endpoint needs 'Authorization: Bearer <admin token>' (the Builder:AdminToken setting)");
        }

        return await next(context);
    }

    /// <summary>Constant-time: hashes first so the comparison takes the same time whatever the lengths.</summary>
    internal static bool TokensEqual(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(given)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
