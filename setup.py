"""Lists and cythonizes the kernels; everything else lives in pyproject.toml.

TINYGRAD_RNN_DEBUG=1 builds with bounds/wraparound checks on and -O0 -g.
No -march=native: a wheel built that way crashes on older CPUs.
"""
import glob
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("TINYGRAD_RNN_DEBUG", "") not in ("", "0")

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

extensions = [
    Extension(
        "tinygrad_rnn.backend._kernels." + os.path.splitext(os.path.basename(path))[0],
        [path],
        include_dirs=[numpy.get_include()],                       # steps.pyx unpacks arrays via NumPy's C API
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
        depends=glob.glob(os.path.join("tinygrad_rnn", "backend", "_kernels", "*.h")),
    )
    for path in sorted(glob.glob(os.path.join("tinygrad_rnn", "backend", "_kernels", "*.pyx")))
]

setup(ext_modules=cythonize(extensions, compiler_directives=directives))
