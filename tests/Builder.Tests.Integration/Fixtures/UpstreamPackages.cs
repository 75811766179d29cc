using Builder.Tests.Integration.Infrastructure;

namespace Builder.Tests.Integration.Fixtures;

/// <summary>
/// What a public index holds for the upstream proxy's tests: an ordinary dependency in several versions, a package that
/// squats a private name (dependency confusion), a PEP 517 build backend that only the public index has, and a project
/// built with that backend.
/// </summary>
internal static class UpstreamPackages
{
    /// <summary>When the old public files were uploaded: years before any cooldown.</summary>
    public static readonly DateTimeOffset LongAgo = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public const string PublicRequiresPython = ">=3.7";

    /// <summary>What the backend prints in every build_wheel and build_sdist, and what the project built with it puts in its summary.</summary>
    public const string BackendMarker = "upstream-backend 1.0";

    /// <summary>public-dep {version}: a pure wheel whose module says the version.</summary>
    public static string PublicDep(string directory, string version) =>
        Distributions.Wheel(directory, "public-dep", version, requiresPython: PublicRequiresPython);

    /// <summary>acme-billing 99.0 on the public index: a squatter of the private name whose module says it is malicious.</summary>
    public static string MaliciousAcmeBilling(string directory) => Distributions.Wheel(directory, "acme-billing", "99.0", summary: "Not the real acme-billing",
        files: new Dictionary<string, string>
        {
            ["acme_billing/__init__.py"] = """
                VERSION = "99.0"
                MALICIOUS = True
                print("acme-billing 99.0 from the public index: malicious code runs here")
                """,
        });

    /// <summary>
    /// upstream-backend 1.0: the build backend <c>upstream_backend</c>, setuptools.build_meta's hooks (re-exported), whose
    /// build_wheel and build_sdist print <see cref="BackendMarker"/> first. Requires setuptools and wheel (the build image's
    /// wheelhouse has them).
    /// </summary>
    public static string UpstreamBackend(string directory) => Distributions.Wheel(directory, "upstream-backend", "1.0",
        requiresDist: ["setuptools>=40.8.0", "wheel"], summary: "A PEP 517 backend only the public index has",
        files: new Dictionary<string, string>
        {
            ["upstream_backend/__init__.py"] = $$"""
                from setuptools.build_meta import *  # noqa: F401,F403 (the PEP 517 hooks)
                from setuptools import build_meta as _setuptools

                VERSION = "1.0"
                MARKER = "{{BackendMarker}}"


                def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
                    print("upstream_backend: build_wheel by " + MARKER, flush=True)
                    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


                def build_sdist(sdist_directory, config_settings=None):
                    print("upstream_backend: build_sdist by " + MARKER, flush=True)
                    return _setuptools.build_sdist(sdist_directory, config_settings)
                """,
        });

    /// <summary>The line the backend prints when it builds a wheel.</summary>
    public const string BackendWheelLine = "upstream_backend: build_wheel by " + BackendMarker;

    /// <summary>
    /// A private project whose only build requirement is upstream-backend, which is also its backend; its setup.py imports
    /// the backend's module and puts its marker in the summary ("built by upstream-backend 1.0"), so the published metadata
    /// proves the backend was installed and ran.
    /// </summary>
    public static Dictionary<string, string> BuiltWithUpstreamBackend(string name, string version)
    {
        var module = Builder.Core.Packaging.PackageName.Normalize(name).Replace('-', '_');
        return new Dictionary<string, string>
        {
            ["pyproject.toml"] = """
                [build-system]
                requires = ["upstream-backend"]
                build-backend = "upstream_backend"
                """,
            ["setup.py"] = $"""
                import upstream_backend
                from setuptools import setup

                setup(
                    name="{name}",
                    version="{version}",
                    description="built by " + upstream_backend.MARKER,
                    packages=["{module}"],
                    python_requires=">=3.8",
                )
                """,
            [$"{module}/__init__.py"] = $"VERSION = \"{version}\"\n",
        };
    }
}
