"""Which BLAS the kernels' GEMMs run on: scipy's (scipy.linalg.cython_blas, always there), or the CBLAS of the
library NumPy itself links, whose entry points backend/blas.py finds with ctypes and hands over through use_cblas.

scipy's sgemm/dgemm are looked up only when they are first needed (use_cblas() without addresses, or a GEMM before
any BLAS was chosen), through the function pointers scipy.linalg.cython_blas exports in __pyx_capi__: a cimport
would import scipy.linalg with this module, about 0.3 s of `import tinygrad_rnn`, even when NumPy's CBLAS is used.

NumPy 2 wheels bundle a newer OpenBLAS than scipy's, and its row-major float32 GEMMs run up to 1.4× faster at the
recurrent step's shapes (benchmarks/README table); the two compute the same products to rounding.
"""
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from cpython.pyport cimport PY_SSIZE_T_MAX
from cython cimport floating
from libc.limits cimport INT_MAX
from libc.stdint cimport int64_t

from ._skinny cimport (TG_ISA_AVX2, tg_blocked_d, tg_blocked_d_two, tg_blocked_f, tg_blocked_f_two, tg_gemm_d_of,
                      tg_gemm_d_t, tg_gemm_f_of, tg_gemm_f_t, tg_skinny_best_isa, tg_skinny_isa_name)

ctypedef void (*sgemm64_t)(int, int, int, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                           int64_t, float, float*, int64_t) noexcept nogil
ctypedef void (*dgemm64_t)(int, int, int, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t) noexcept nogil
ctypedef void (*sgemm32_t)(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                           float*, int) noexcept nogil
ctypedef void (*dgemm32_t)(int, int, int, int, int, int, double, const double*, int, const double*, int, double,
                           double*, int) noexcept nogil
# scipy.linalg.cython_blas's Fortran sgemm/dgemm: every argument by pointer, column-major
ctypedef void (*fsgemm_t)(char*, char*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*,
                          int*) noexcept nogil
ctypedef void (*fdgemm_t)(char*, char*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*,
                          int*) noexcept nogil

cdef enum:
    ROW_MAJOR = 101                              # CBLAS_ORDER and CBLAS_TRANSPOSE values
    NO_TRANS = 111
    TRANS = 112

cdef sgemm64_t _s64 = NULL
cdef dgemm64_t _d64 = NULL
cdef sgemm32_t _s32 = NULL
cdef dgemm32_t _d32 = NULL
cdef fsgemm_t _fs = NULL
cdef fdgemm_t _fd = NULL
# The largest size or leading dimension the BLAS in use takes: a C int (scipy's, a 32-bit CBLAS), or any
# Py_ssize_t (a 64-bit CBLAS).
cdef Py_ssize_t _int_max = INT_MAX


cdef int _load_scipy_blas() except -1:
    """scipy's Fortran sgemm/dgemm, from the capsules scipy.linalg.cython_blas exports (imported here, once)."""
    global _fs, _fd
    if _fs != NULL:
        return 0
    from scipy.linalg import cython_blas
    capi = cython_blas.__pyx_capi__
    s, d = capi["sgemm"], capi["dgemm"]
    _fd = <fdgemm_t>PyCapsule_GetPointer(d, PyCapsule_GetName(d))
    _fs = <fsgemm_t>PyCapsule_GetPointer(s, PyCapsule_GetName(s))
    return 0


def use_cblas(size_t sgemm_address=0, size_t dgemm_address=0, int int_bits=64):
    """Route the GEMMs to cblas_sgemm/cblas_dgemm at these addresses (integers of int_bits, 32 or 64 bits);
    no addresses: back to scipy's BLAS (imported now if it was not yet)."""
    global _s64, _d64, _s32, _d32, _int_max
    if int_bits not in (32, 64):
        raise ValueError(f"int_bits: expected 32 or 64, but got {int_bits}")
    if (sgemm_address == 0) != (dgemm_address == 0):
        raise ValueError("sgemm_address, dgemm_address: expected both or neither")
    if sgemm_address == 0:
        _load_scipy_blas()
    _s64, _d64, _s32, _d32, _int_max = NULL, NULL, NULL, NULL, INT_MAX
    if sgemm_address and int_bits == 64:
        _s64, _d64, _int_max = <sgemm64_t>sgemm_address, <dgemm64_t>dgemm_address, PY_SSIZE_T_MAX
    elif sgemm_address:
        _s32, _d32 = <sgemm32_t>sgemm_address, <dgemm32_t>dgemm_address


def using_cblas():
    """True while the GEMMs run on the handed-over CBLAS."""
    return _s64 != NULL or _s32 != NULL


def scipy_blas_loaded():
    """True once scipy's BLAS has been looked up (tests: `import tinygrad_rnn` on NumPy's CBLAS leaves it alone)."""
    return _fs != NULL


def int_max(Py_ssize_t limit=0):
    """The largest size or leading dimension the kernels hand to BLAS: 2³¹ − 1 for scipy's BLAS and a 32-bit
    CBLAS, 2⁶³ − 1 for a 64-bit CBLAS. limit > 0: use that instead, returning the old value (the tests lower it
    to see every kernel refuse a GEMM that does not fit, without allocating 2³¹ elements); use_cblas resets it."""
    global _int_max
    old = _int_max
    if limit > 0:
        _int_max = limit
    return old


def check_gemm_sizes(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, Py_ssize_t lda, Py_ssize_t ldb, Py_ssize_t ldc):
    """check_gemm for Python (tests): ValueError when BLAS cannot take these sizes."""
    check_gemm("gemm", m, n, k, lda, ldb, ldc)


cdef int check_gemm(str name, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, Py_ssize_t lda, Py_ssize_t ldb,
                    Py_ssize_t ldc) except -1:
    """ValueError naming `name` when a GEMM of these sizes would go to BLAS (m, n, k > 0; gemm computes an empty
    product itself) and one of them exceeds the BLAS's integer. Every kernel calls it, with the GIL, before its
    GEMMs: so a GEMM before any BLAS was chosen (a kernel imported directly) finds scipy's loaded, never NULL."""
    if m <= 0 or n <= 0 or k <= 0:
        return 0
    if _s64 == NULL and _s32 == NULL and _fs == NULL:
        _load_scipy_blas()
    if m > _int_max or n > _int_max or k > _int_max or lda > _int_max or ldb > _int_max or ldc > _int_max:
        raise ValueError(f"{name}: expected sizes the BLAS in use can index (at most {_int_max}), but got a "
                         f"product of M, N, K = {m}, {n}, {k} with leading dimensions {lda}, {ldb}, {ldc}")
    return 0


cdef inline void _gemm_rm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, floating alpha,
                          const floating* a, Py_ssize_t lda, const floating* b, Py_ssize_t ldb, floating beta,
                          floating* c, Py_ssize_t ldc) noexcept nogil:
    cdef int ta = TRANS if trans_a else NO_TRANS, tb = TRANS if trans_b else NO_TRANS
    cdef char fa = b'T' if trans_a else b'N', fb = b'T' if trans_b else b'N'
    # for the int paths (scipy's, a 32-bit CBLAS): every kernel has passed these sizes to check_gemm, so they fit
    cdef int m32 = <int>m, n32 = <int>n, k32 = <int>k, lda32 = <int>lda, ldb32 = <int>ldb, ldc32 = <int>ldc
    if floating is float:
        if _s64 != NULL:
            _s64(ROW_MAJOR, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        elif _s32 != NULL:
            _s32(ROW_MAJOR, ta, tb, m32, n32, k32, alpha, a, lda32, b, ldb32, beta, c, ldc32)
        else:                                    # Fortran is column-major: Cᵀ = op(B)ᵀ op(A)ᵀ, operands swapped
            _fs(&fb, &fa, &n32, &m32, &k32, &alpha, <float*>b, &ldb32, <float*>a, &lda32, &beta, c, &ldc32)
    else:
        if _d64 != NULL:
            _d64(ROW_MAJOR, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        elif _d32 != NULL:
            _d32(ROW_MAJOR, ta, tb, m32, n32, k32, alpha, a, lda32, b, ldb32, beta, c, ldc32)
        else:
            _fd(&fb, &fa, &n32, &m32, &k32, &alpha, <double*>b, &ldb32, <double*>a, &lda32, &beta, c, &ldc32)


# ---- the engine's own GEMM (skinny.h) where it is faster than the BLAS -------------------------------------------
# skinny.h's packed micro-kernels, blocked for the caches, ran every GEMM of a layer's forward and backward (the
# input projection, its gradient, the weight gradients over T·B rows: 800 × 64 · 64 × 512 … 2048 × 1600 · 1600 ×
# 512) at 140–200 GFLOP/s on one AVX-512 core where NumPy's OpenBLAS ran them at 90–100 (this machine's environment
# sets OPENBLAS_CORETYPE=Haswell, its AVX2 kernels; with SkylakeX kernels OpenBLAS reaches about 190 on large
# products). So with an AVX2 or AVX-512 build, a product of at least PACKED_ROWS rows goes there; fewer rows, or a
# CPU without AVX2, go to BLAS (packing B costs K·N copies, which a product of few rows does not pay back).
PACKED_ROWS = 8
cdef int _packed_isa = tg_skinny_best_isa()
cdef Py_ssize_t _packed_rows = PACKED_ROWS if _packed_isa >= TG_ISA_AVX2 else PY_SSIZE_T_MAX
cdef tg_gemm_f_t _packed_f = tg_gemm_f_of(_packed_isa)
cdef tg_gemm_d_t _packed_d = tg_gemm_d_of(_packed_isa)


def packed_gemm_settings(isa=None, rows=None):
    """(isa, rows) of the kernels' own GEMM, after setting those given: the micro-kernel build by name, and the
    fewest rows a product must have to go there (rows=0: none do, every GEMM goes to BLAS). A hook for the tests
    and benchmarks, which compare it with BLAS; returns the old settings."""
    global _packed_isa, _packed_rows, _packed_f, _packed_d
    old = (tg_skinny_isa_name(_packed_isa).decode(), 0 if _packed_rows == PY_SSIZE_T_MAX else _packed_rows)
    if isa is not None:
        names = [tg_skinny_isa_name(i).decode() for i in range(tg_skinny_best_isa() + 1)]
        if isa not in names:
            raise ValueError(f"isa: expected one of {', '.join(map(repr, names))} (the builds this CPU runs), but "
                             f"got {isa!r}")
        _packed_isa = names.index(isa)
        _packed_f, _packed_d = tg_gemm_f_of(_packed_isa), tg_gemm_d_of(_packed_isa)
    if rows is not None:
        if rows < 0:
            raise ValueError(f"rows: expected a count of at least 0, but got {rows}")
        _packed_rows = PY_SSIZE_T_MAX if rows == 0 else rows
    return old


cdef void sgemm_rm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha, const float* a,
                   Py_ssize_t lda, const float* b, Py_ssize_t ldb, float beta, float* c, Py_ssize_t ldc) noexcept nogil:
    if alpha == 1 and m >= _packed_rows and tg_blocked_f(_packed_f, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta,
                                                         c, ldc, NULL) == 0:
        return
    _gemm_rm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


cdef void dgemm_rm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, double alpha,
                   const double* a, Py_ssize_t lda, const double* b, Py_ssize_t ldb, double beta, double* c,
                   Py_ssize_t ldc) noexcept nogil:
    if alpha == 1 and m >= _packed_rows and tg_blocked_d(_packed_d, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta,
                                                         c, ldc, NULL) == 0:
        return
    _gemm_rm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


cdef bint gemm_bias(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const floating* a,
                    Py_ssize_t lda, const floating* b, Py_ssize_t ldb, floating* c, Py_ssize_t ldc,
                    const floating* bias) noexcept nogil:
    """C = op(A) @ op(B) + bias in every row, when the product goes to the kernels' own GEMM (whose micro-kernel adds
    the bias as it stores its sums) → True; False (nothing written) for a product that goes to BLAS: the caller then
    multiplies with gemm and adds the bias itself."""
    if m < _packed_rows or k == 0 or n == 0:
        return False
    if floating is float:
        return tg_blocked_f(_packed_f, trans_a, trans_b, m, n, k, a, lda, b, ldb, 0, c, ldc, bias) == 0
    else:
        return tg_blocked_d(_packed_d, trans_a, trans_b, m, n, k, a, lda, b, ldb, 0, c, ldc, bias) == 0


cdef bint gemm_tn_two(Py_ssize_t m, Py_ssize_t n, Py_ssize_t n2, Py_ssize_t k, const floating* a, Py_ssize_t lda,
                      const floating* b, Py_ssize_t ldb, const floating* b2, Py_ssize_t ldb2, floating* c,
                      Py_ssize_t ldc, floating* c2, Py_ssize_t ldc2) noexcept nogil:
    """C (m, n) = Aᵀ @ B and C2 (m, n2) = Aᵀ @ B2 for A (k, m), in one pass of the kernels' own GEMM, whose copies of
    Aᵀ then serve both (a layer's two weight gradients from one dz) → True; False (nothing written) for a product
    that goes to BLAS: the caller then makes two gemm calls."""
    if m < _packed_rows or k == 0 or n == 0 or n2 == 0:
        return False
    if floating is float:
        return tg_blocked_f_two(_packed_f, True, False, m, n, k, a, lda, b, ldb, 0, c, ldc, NULL, n2, b2, ldb2, c2,
                                ldc2) == 0
    else:
        return tg_blocked_d_two(_packed_d, True, False, m, n, k, a, lda, b, ldb, 0, c, ldc, NULL, n2, b2, ldb2, c2,
                                ldc2) == 0
