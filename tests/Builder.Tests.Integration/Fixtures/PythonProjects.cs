namespace Builder.Tests.Integration.Fixtures;

/// <summary>Source trees of small Python projects, as a team would tag them.</summary>
internal static class PythonProjects
{
    /// <summary>A pure-Python package (setuptools, PEP 621 metadata): one py3-none-any wheel.</summary>
    public static Dictionary<string, string> Pure(string name, string version) => new()
    {
        ["pyproject.toml"] = $"""
            [build-system]
            requires = ["setuptools>=40.8.0", "wheel"]
            build-backend = "setuptools.build_meta"
            """,
        ["setup.cfg"] = $"""
            [metadata]
            name = {name}
            version = {version}
            description = A pure Python test package

            [options]
            packages = find:
            python_requires = >=3.8
            """,
        [$"{Builder.Core.Packaging.PackageName.Normalize(name).Replace('-', '_')}/__init__.py"] = $"""
            def greet(who):
                return "hello " + who

            VERSION = "{version}"
            """,
    };

    /// <summary>A C extension: one wheel per CPython; fastadd.add(a, b) returns a + b.</summary>
    public static Dictionary<string, string> CExtension(string name, string version) => new()
    {
        ["pyproject.toml"] = """
            [build-system]
            requires = ["setuptools>=40.8.0", "wheel"]
            build-backend = "setuptools.build_meta"
            """,
        ["setup.py"] = $$"""
            from setuptools import setup, Extension

            setup(
                name="{{name}}",
                version="{{version}}",
                packages=["fastadd"],
                ext_modules=[Extension("fastadd._fastadd", ["src/fastadd.c"])],
                python_requires=">=3.8",
            )
            """,
        ["fastadd/__init__.py"] = "from fastadd._fastadd import add\n",
        ["src/fastadd.c"] = """
            #define PY_SSIZE_T_CLEAN
            #include <Python.h>

            static PyObject *add(PyObject *self, PyObject *args) {
                long a, b;
                if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
                return PyLong_FromLong(a + b);
            }

            static PyMethodDef methods[] = {
                {"add", add, METH_VARARGS, "Add two integers in C."},
                {NULL, NULL, 0, NULL}
            };

            static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastadd", NULL, -1, methods};

            PyMODINIT_FUNC PyInit__fastadd(void) { return PyModule_Create(&module); }
            """,
    };

    /// <summary>A project whose setup.py does not even parse.</summary>
    public static Dictionary<string, string> SyntaxError(string name, string version) => new()
    {
        ["setup.py"] = $"""
            from setuptools import setup

            setup(name="{name}", version="{version}"
                  packages=[])   # missing comma: SyntaxError
            """,
    };

    /// <summary>
    /// A pure project with an in-tree PEP 517 backend (no build requirements, so nothing is installed) whose wheel hook
    /// prints <c>tick 1</c>..<c>tick {ticks}</c>, one every 0.5 s (flushed), with a line in ANSI red and a line of HTML
    /// among them, for following a running build's log; built for one Python (cp312) and, with
    /// <paramref name="testExitCode"/> other than 0, a test command that fails with that code.
    /// </summary>
    public static Dictionary<string, string> SlowLog(string name, string version, int ticks = 16, int testExitCode = 3)
    {
        var module = Builder.Core.Packaging.PackageName.Normalize(name).Replace('-', '_');
        return new()
        {
            ["pyproject.toml"] = $$"""
                [build-system]
                requires = []
                build-backend = "slow_backend"
                backend-path = ["."]

                [tool.cibuildwheel]
                build = "cp312-*"
                test-command = "python -c \"import sys, {{module}}; print('testing {{name}}', {{module}}.VERSION); sys.exit({{testExitCode}})\""
                """,
            [$"{module}/__init__.py"] = $"VERSION = \"{version}\"\n",
            ["slow_backend.py"] = $$"""
                import base64, hashlib, io, os, tarfile, time, zipfile

                NAME, MODULE, VERSION = "{{name}}", "{{module}}", "{{version}}"
                METADATA = "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: prints its progress slowly\n" % (NAME, VERSION)


                def _files():
                    return {MODULE + "/__init__.py": open(os.path.join(MODULE, "__init__.py"), "rb").read()}


                def build_sdist(sdist_directory, config_settings=None):
                    base = "%s-%s" % (MODULE, VERSION)
                    entries = dict(("%s/%s" % (base, path), data) for path, data in _files().items())
                    entries[base + "/PKG-INFO"] = METADATA.encode()
                    for path in ("pyproject.toml", "slow_backend.py"):
                        entries["%s/%s" % (base, path)] = open(path, "rb").read()
                    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz") as tar:
                        for path, data in entries.items():
                            info = tarfile.TarInfo(path)
                            info.size = len(data)
                            tar.addfile(info, io.BytesIO(data))
                    return base + ".tar.gz"


                def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
                    for n in range(1, {{ticks}} + 1):
                        print("tick %d" % n, flush=True)
                        if n == 3:
                            print("colour: \x1b[31mred\x1b[0m done", flush=True)
                        if n == 5:
                            print("<script>alert('log')</script>", flush=True)
                        time.sleep(0.5)
                    dist_info = "%s-%s.dist-info" % (MODULE, VERSION)
                    entries = _files()
                    entries[dist_info + "/METADATA"] = METADATA.encode()
                    entries[dist_info + "/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: slow_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                    record = ""
                    for path, data in entries.items():
                        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                        record += "%s,sha256=%s,%d\n" % (path, digest, len(data))
                    entries[dist_info + "/RECORD"] = (record + dist_info + "/RECORD,,\n").encode()
                    name = "%s-%s-py3-none-any.whl" % (MODULE, VERSION)
                    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
                        for path, data in entries.items():
                            wheel.writestr(path, data)
                    return name
                """,
        };
    }
}
