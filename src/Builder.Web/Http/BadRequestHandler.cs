using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace Builder.Web.Http;

/// <summary>
/// A request the framework could not bind answers 400 (or 415) with a problem whose <c>detail</c> names the field and
/// what it must be, instead of a bare 400, or a 500 and an error in the log: a JSON body of the wrong shape (minimal APIs
/// throw <see cref="BadHttpRequestException"/> for it, <c>ThrowOnBadRequest</c> in Program.cs, handled here), a query
/// value of the wrong type and a body that is not JSON (answered without throwing: <see cref="DescribeStatus"/> fills in
/// their detail). This is where every route's binding refusals are phrased, so routes only check meaning. Logged at
/// Information: the client sent it, nothing here is broken.
/// </summary>
internal sealed partial class BadRequestHandler(IProblemDetailsService problems, ILogger<BadRequestHandler> logger) : IExceptionHandler
{
    /// <summary>How much of a value the client sent is repeated in the answer.</summary>
    private const int MaxEcho = 100;

    private const string DateTimeExample = "a date and time (ISO 8601, like 2027-01-01T00:00:00Z)";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }

        // The middleware has cleared the request's endpoint by now; its feature keeps the one that threw.
        var failed = httpContext.Features.Get<IExceptionHandlerFeature>();
        var detail = Describe(bad, failed?.Endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType);
        LogRefused(logger, httpContext.Request.Method, failed?.Path ?? string.Empty, bad.StatusCode, detail);
        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = bad.StatusCode, Detail = detail },
        });
    }

    /// <summary>What the request got wrong, as a sentence naming the field or parameter.</summary>
    internal static string Describe(BadHttpRequestException exception, Type? bodyType = null)
    {
        if (exception.InnerException is JsonException json)
        {
            return Describe(json, bodyType);
        }

        if (Required().Match(exception.Message) is { Success: true } required)
        {
            return required.Groups["source"].Value == "body"
                ? "the request needs a JSON body"
                : $"'{required.Groups["name"].Value}' is required ({required.Groups["source"].Value})";
        }

        return exception.Message;
    }

    /// <summary>
    /// Fills in the detail of the problems the framework answers by itself, without one and without throwing (status
    /// code pages): a JSON route sent another media type (415), a query value that does not parse as its parameter's type (400).
    /// </summary>
    public static void DescribeStatus(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        if (context.ProblemDetails is { Status: StatusCodes.Status415UnsupportedMediaType, Detail: null })
        {
            var sent = http.Request.ContentType;
            context.ProblemDetails.Detail = "the body must be JSON (Content-Type: application/json), not " + (sent is null ? "a body without a Content-Type" : $"'{sent}'");
        }
        else if (context.ProblemDetails is { Status: StatusCodes.Status400BadRequest, Detail: null }
            && http.GetEndpoint()?.Metadata.GetMetadata<System.Reflection.MethodInfo>() is { } handler)
        {
            context.ProblemDetails.Detail = QueryProblem(handler, http.Request.Query);
        }
    }

    /// <summary>The first query value that does not parse as the type of the handler's parameter of its name (as minimal APIs parse it).</summary>
    private static string? QueryProblem(System.Reflection.MethodInfo handler, IQueryCollection query)
    {
        foreach (var parameter in handler.GetParameters())
        {
            var type = Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType;
            if (parameter.Name is not { } name || !query.TryGetValue(name, out var values) || values.ToString() is not { Length: > 0 } value)
            {
                continue;
            }

            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            var parses = type == typeof(int) ? int.TryParse(value, invariant, out _)
                : type == typeof(long) ? long.TryParse(value, invariant, out _)
                : type == typeof(bool) ? bool.TryParse(value, out _)
                : type == typeof(DateTimeOffset) ? DateTimeOffset.TryParse(value, invariant, out _)
                : type == typeof(DateTime) ? DateTime.TryParse(value, invariant, out _)
                : true;
            if (!parses)
            {
                return $"'{name}' must be {Expected(type)}, not '{(value.Length > MaxEcho ? value[..MaxEcho] + "…" : value)}'";
            }
        }

        return null;
    }

    /// <summary>
    /// A JSON body that does not parse, or a field whose value is not of its type: System.Text.Json names the field in
    /// <see cref="JsonException.Path"/>, and what it should be is read from <paramref name="type"/> (the type the JSON
    /// was read as) along that path. <paramref name="within"/> is the body's field the JSON came from, when only that was read.
    /// </summary>
    internal static string Describe(JsonException exception, Type? type, string? within = null)
    {
        var path = exception.Path is null or "$" ? null : exception.Path.StartsWith("$.", StringComparison.Ordinal) ? exception.Path[2..] : exception.Path[1..];
        var field = within is null ? path : path is null ? within : path.StartsWith('[') ? within + path : within + "." + path;
        if (exception.Message == TextWithoutNul.Refusal)
        {
            return $"'{field ?? "the body"}' {TextWithoutNul.Refusal}";
        }

        if (exception.Message.StartsWith("The JSON value could not be converted to ", StringComparison.Ordinal))
        {
            var expected = type is null ? null : TypeAt(type, path);
            var what = expected is null ? "of another type" : Expected(expected);
            return field is null ? $"the body must be {what}" : $"'{field}' must be {what}";
        }

        var reason = exception.Message.Split(" Path: ", 2)[0].Split(" LineNumber: ", 2)[0].TrimEnd(' ', '|');
        var where = field is null ? string.Empty : $" at '{field}'";
        return $"the body is not valid JSON{where} (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}): {reason}";
    }

    /// <summary>The type a JSON path (<c>roles[0].role</c>) leads to from <paramref name="type"/>: properties by name in any case, list elements by index.</summary>
    private static Type? TypeAt(Type type, string? path)
    {
        foreach (var step in PathSteps().Matches(path ?? string.Empty).Select(m => m.Value))
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (step.StartsWith('['))
            {
                if (ElementType(type) is not { } element)
                {
                    return null;
                }

                type = element;
            }
            else if (type.GetProperty(step, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase) is { } property)
            {
                type = property.PropertyType;
            }
            else
            {
                return null;
            }
        }

        return type;
    }

    private static Type? ElementType(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    /// <summary>What a value of <paramref name="type"/> looks like in JSON.</summary>
    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (ElementType(type) is { } element)
        {
            return element == typeof(string) ? "a list of strings" : "a list";
        }

        return type == typeof(string) ? "a string"
            : type == typeof(int) || type == typeof(long) ? "a whole number"
            : type == typeof(bool) ? "true or false"
            : type == typeof(DateTimeOffset) || type == typeof(DateTime) ? DateTimeExample
            : "a JSON object";
    }

    // RequestDelegateFactory's text (Microsoft.AspNetCore.Http.RequestDelegateFactoryConstants); anything else is passed on as it is.
    [GeneratedRegex("""^Required parameter "(?<type>[^"]+) (?<name>[^" ]+)" was not provided from (?<source>[^.]+)\.$""", RegexOptions.CultureInvariant)]
    private static partial Regex Required();

    [GeneratedRegex(@"[^.\[\]]+|\[\d+\]", RegexOptions.CultureInvariant)]
    private static partial Regex PathSteps();

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Path} refused with {Status}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string method, string path, int status, string detail);
}
