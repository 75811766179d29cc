namespace Builder.Tests.Integration.Docker;

/// <summary>Small projects that do what untrusted code might: sleep, eat memory, phone home; and projects with tests.</summary>
internal static class ContainerProjects
{
    /// <summary>A setuptools project whose setup.py runs <paramref name="prelude"/> first (in the sdist step, the first to run it).</summary>
    public static Dictionary<string, string> WithSetupPrelude(string name, string prelude) => new()
    {
        ["setup.py"] = $"""
            {prelude}

            from setuptools import setup

            setup(name="{name}", version="1.0.0", packages=["{name}"], python_requires=">=3.8")
            """,
        [$"{name}/__init__.py"] = "def add(a, b):\n    return a + b\n",
    };

    /// <summary>A pure package mypkg with add(a, b) and a unittest under tests/.</summary>
    public static Dictionary<string, string> PureWithTests() => new(WithSetupPrelude("mypkg", "# pure"))
    {
        ["tests/test_add.py"] = """
            import unittest

            import mypkg


            class AddTest(unittest.TestCase):
                def test_add(self):
                    self.assertEqual(mypkg.add(2, 3), 5)

                def test_installed_not_source(self):
                    # The tester runs from an empty directory: mypkg comes from the installed wheel (site-packages).
                    self.assertIn("site-packages", mypkg.__file__)


            if __name__ == "__main__":
                unittest.main()
            """,
    };

    /// <summary>A C extension (mypkg._add) for Python 3.12+ only (two wheels: cp312, cp313), with the same tests.</summary>
    public static Dictionary<string, string> CExtensionWithTests()
    {
        var files = PureWithTests();
        files["setup.py"] = """
            from setuptools import setup, Extension

            setup(
                name="mypkg",
                version="1.0.0",
                packages=["mypkg"],
                ext_modules=[Extension("mypkg._add", ["src/add.c"])],
                python_requires=">=3.12",
            )
            """;
        files["mypkg/__init__.py"] = "from mypkg._add import add\n";
        files["src/add.c"] = """
            #define PY_SSIZE_T_CLEAN
            #include <Python.h>

            static PyObject *add(PyObject *self, PyObject *args) {
                long a, b;
                if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
                return PyLong_FromLong(a + b);
            }

            static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
            static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_add", NULL, -1, methods};
            PyMODINIT_FUNC PyInit__add(void) { return PyModule_Create(&module); }
            """;
        return files;
    }
}
