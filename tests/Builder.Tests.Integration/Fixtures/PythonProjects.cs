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
}
