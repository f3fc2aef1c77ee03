"""The packed-panel GEMM (packed_gemm.h) from Python, for its tests and benchmarks: pack B once, multiply many times.

pack(b, transposed=False) -> the panels of B (K×N), or of bᵀ when transposed (b is then N×K: W_hh for h · W_hhᵀ);
gemm(a, packed, k, n, out=None, accumulate=False, isa=-1) -> out (M×N) = a · B (+ out); `isa` asks for a version
(2 AVX-512, 1 AVX2, 0 baseline; never above what the CPU has), and `best_isa()` says which this CPU runs."""
import numpy as np

cimport numpy as cnp

from ._arrays cimport data, float_type
from ._packed_gemm cimport (TG_WD, TG_WF, tg_pack_f32, tg_pack_f64, tg_packed_size, tg_pgemm_f32, tg_pgemm_f64,
                            tg_pgemm_isa)

cnp.import_array()


def best_isa():
    return tg_pgemm_isa()


def width(dtype):
    """Columns per panel: 64 bytes of `dtype`."""
    return TG_WF if np.dtype(dtype) == np.float32 else TG_WD


def pack(b, bint transposed=False):
    cdef int t = float_type("b", b)
    if b.ndim != 2:
        raise ValueError(f"b: expected a 2-D array, but got shape {b.shape}")
    cdef Py_ssize_t rows = b.shape[0], cols = b.shape[1]
    cdef Py_ssize_t K = cols if transposed else rows, N = rows if transposed else cols
    cdef Py_ssize_t rs = 1 if transposed else cols, cs = cols if transposed else 1
    cdef Py_ssize_t W = TG_WF if t == cnp.NPY_FLOAT32 else TG_WD
    out = np.empty(tg_packed_size(K, N, W), dtype=b.dtype)
    cdef void* src = data("b", b, t, rows, cols)
    cdef void* dst = data("out", out, t, out.shape[0], -1, True) if out.shape[0] else NULL
    if out.shape[0]:
        with nogil:
            if t == cnp.NPY_FLOAT32:
                tg_pack_f32(<float*>src, rs, cs, K, N, <float*>dst)
            else:
                tg_pack_f64(<double*>src, rs, cs, K, N, <double*>dst)
    return out


def gemm(a, packed, Py_ssize_t k, Py_ssize_t n, out=None, bint accumulate=False, int isa=-1):
    cdef int t = float_type("a", a)
    if a.ndim != 2 or a.shape[1] != k:
        raise ValueError(f"a: expected shape (M, {k}), but got {a.shape}")
    cdef Py_ssize_t M = a.shape[0]
    cdef Py_ssize_t W = TG_WF if t == cnp.NPY_FLOAT32 else TG_WD
    if out is None:
        if accumulate:
            raise ValueError("out: accumulate=True needs an out array to add to")
        out = np.empty((M, n), dtype=a.dtype)
    cdef void* pa = data("a", a, t, M, k) if M and k else NULL
    cdef void* pp = data("packed", packed, t, tg_packed_size(k, n, W), -1)
    cdef void* pc = data("out", out, t, M, n, True) if M and n else NULL
    if M and n:
        if k == 0:
            if not accumulate:
                out[...] = 0
            return out
        with nogil:
            if t == cnp.NPY_FLOAT32:
                tg_pgemm_f32(isa, M, n, k, <float*>pa, k, <float*>pp, <float*>pc, n, accumulate)
            else:
                tg_pgemm_f64(isa, M, n, k, <double*>pa, k, <double*>pp, <double*>pc, n, accumulate)
    return out
