"""Which BLAS the Cython kernels' GEMMs call: NumPy's own (the default, when its CBLAS can be found) or scipy's.

NumPy 2 wheels and scipy wheels each bundle an OpenBLAS. NumPy's is the newer build here, and its row-major GEMMs
ran the recurrent step's products faster (README, Benchmarks). The kernels cimport scipy's BLAS (always
there, a build requirement); NumPy exports no C API for BLAS, so its CBLAS entry points are looked up with ctypes in
the library it has already loaded, by the names OpenBLAS builds give them. TINYGRAD_RNN_BLAS=scipy keeps scipy's.
"""
import ctypes
import os

import numpy as np

# (symbol prefix, suffix, integer bits): scipy-openblas64 (NumPy's wheels), OpenBLAS built with INTERFACE64 and a
# suffix, scipy-openblas32, a plain CBLAS.
_NAMINGS = (("scipy_", "64_", 64), ("", "64_", 64), ("scipy_", "", 32), ("", "", 32))


def numpy_cblas():
    """(library path, sgemm address, dgemm address, integer bits) of the CBLAS in the BLAS library NumPy loaded,
    or None when there is none to find (threadpoolctl missing, a BLAS without CBLAS, an unknown naming)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    roots = tuple(os.path.realpath(os.path.dirname(np.__file__)) + end for end in (os.sep, ".libs" + os.sep))
    for info in threadpool_info():
        path = info.get("filepath") or ""
        if info.get("user_api") != "blas" or not os.path.realpath(path).startswith(roots):
            continue
        try:
            lib = ctypes.CDLL(path)                  # already loaded by NumPy: this only takes a handle to it
        except OSError:
            return None
        for prefix, suffix, bits in _NAMINGS:
            try:
                s, d = getattr(lib, f"{prefix}cblas_sgemm{suffix}"), getattr(lib, f"{prefix}cblas_dgemm{suffix}")
            except AttributeError:
                continue
            return path, ctypes.cast(s, ctypes.c_void_p).value, ctypes.cast(d, ctypes.c_void_p).value, bits
    return None


def choose(blas_module):
    """Hand NumPy's CBLAS to the kernels' _blas module unless TINYGRAD_RNN_BLAS=scipy; returns what is used."""
    choice = os.environ.get("TINYGRAD_RNN_BLAS", "").strip().lower() or "numpy"
    if choice not in ("numpy", "scipy"):
        raise ValueError(f"TINYGRAD_RNN_BLAS: expected 'numpy' or 'scipy', but got {choice!r}")
    found = numpy_cblas() if choice == "numpy" else None
    if found is None:
        blas_module.use_cblas()
        return "scipy (scipy.linalg.cython_blas)"
    path, sgemm, dgemm, bits = found
    blas_module.use_cblas(sgemm, dgemm, bits)
    return f"numpy ({os.path.basename(path)}, {bits}-bit integers)"
