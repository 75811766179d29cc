using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Builder.Core.Configuration;

/// <summary>
/// The one way a section of settings is registered and checked: bound from configuration, and checked when the process
/// starts by its data annotations (one value's range) and, for rules between values, its
/// <see cref="ISelfValidating.Problems"/>; a bad setting stops the process with every problem named by its key.
/// </summary>
public static class OptionsRegistration
{
    public static OptionsBuilder<T> AddBuilderOptions<T>(this IServiceCollection services, string section)
        where T : class
    {
        if (typeof(ISelfValidating).IsAssignableFrom(typeof(T)))
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, ProblemsValidator<T>>());
        }

        return services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();
    }

    /// <summary>Names every bad setting of a section (its <see cref="ISelfValidating.Problems"/>).</summary>
    private sealed class ProblemsValidator<T> : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var problems = ((ISelfValidating)options).Problems().ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
