"""Lists and cythonizes the kernels; everything else lives in pyproject.toml.

TINYGRAD_RNN_DEBUG=1 builds with bounds/wraparound checks on and -O0 -g.
No -march=native: a wheel built that way crashes on older CPUs.
Release builds are linked stripped (-s: no symbol table or debug sections beyond what the dynamic loader needs),
and a release wheel leaves out the test-only extensions (TEST_ONLY); editable installs (pip install -e .) and debug
builds keep them, since the tests import them.
"""
import glob
import os
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.bdist_wheel import bdist_wheel

DEBUG = os.environ.get("TINYGRAD_RNN_DEBUG", "") not in ("", "0")
TEST_ONLY = {"fastmath_check"}   # the vectorized math's ulp checks (tests/test_fastmath.py), no use to a user

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
}
# -fno-trapping-math (not -ffast-math: values, NaNs and signed zeros stay IEEE; only FP exception flags may differ)
# lets GCC if-convert the branch-free loops of fastmath.h and vectorize them on every target.
compile_args = ["-O0", "-g"] if DEBUG else ["-O3", "-fno-trapping-math"]
# OpenMP (skinny.h): with two threads allowed, a large product's panels are split across both cores. The thread
# count is read at every call (omp_get_max_threads), so threadpoolctl's limits hold; compilers without OpenMP build
# the one-thread code (the pragmas are ignored).
openmp = [] if sys.platform == "darwin" or os.environ.get("TINYGRAD_RNN_NO_OPENMP") else ["-fopenmp"]
compile_args += openmp
# Python's own CFLAGS carry -g, so a release build has debug sections unless the linker strips them (GNU ld, Linux).
link_args = (["-s"] if not DEBUG and sys.platform.startswith("linux") else []) + openmp

# optim_steps.pyx: bitwise NumPy's optimiser arithmetic, so no a·b + c fused into one rounding, and sqrt without
# errno (its value is the same; without the flag the call keeps the loop scalar).
EXACT = {"optim_steps": ["-ffp-contract=off", "-fno-math-errno"]}

extensions = [
    Extension(
        "tinygrad_rnn.backend._kernels." + os.path.splitext(os.path.basename(path))[0],
        [path],
        include_dirs=[numpy.get_include()],                       # steps.pyx unpacks arrays via NumPy's C API
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args + EXACT.get(os.path.splitext(os.path.basename(path))[0], []),
        extra_link_args=link_args,
        depends=glob.glob(os.path.join("tinygrad_rnn", "backend", "_kernels", "*.h")),
    )
    for path in sorted(glob.glob(os.path.join("tinygrad_rnn", "backend", "_kernels", "*.pyx")))
]


class ReleaseWheel(bdist_wheel):
    """bdist_wheel without the test-only extensions (a debug build keeps them: CI runs the kernel tests on it)."""

    def run(self):
        if not DEBUG:
            self.distribution.ext_modules = [ext for ext in self.distribution.ext_modules
                                             if ext.name.rpartition(".")[2] not in TEST_ONLY]
        super().run()


setup(ext_modules=cythonize(extensions, compiler_directives=directives), cmdclass={"bdist_wheel": ReleaseWheel})
