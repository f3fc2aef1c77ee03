"""Which BLAS the kernels' GEMMs run on: scipy's (scipy.linalg.cython_blas, always there), or the CBLAS of the
library NumPy itself links, whose entry points _backend finds with ctypes and hands over through use_cblas.

NumPy 2 wheels bundle a newer OpenBLAS than scipy's, and its row-major float32 GEMMs run up to 1.4× faster at the
recurrent step's shapes (benchmarks/README table); the two compute the same products to rounding.
"""
from cython cimport floating
from libc.stdint cimport int64_t
from scipy.linalg.cython_blas cimport dgemm, sgemm

ctypedef void (*sgemm64_t)(int, int, int, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                           int64_t, float, float*, int64_t) noexcept nogil
ctypedef void (*dgemm64_t)(int, int, int, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t) noexcept nogil
ctypedef void (*sgemm32_t)(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                           float*, int) noexcept nogil
ctypedef void (*dgemm32_t)(int, int, int, int, int, int, double, const double*, int, const double*, int, double,
                           double*, int) noexcept nogil

cdef enum:
    ROW_MAJOR = 101                              # CBLAS_ORDER and CBLAS_TRANSPOSE values
    NO_TRANS = 111
    TRANS = 112

cdef sgemm64_t _s64 = NULL
cdef dgemm64_t _d64 = NULL
cdef sgemm32_t _s32 = NULL
cdef dgemm32_t _d32 = NULL


def use_cblas(size_t sgemm_address=0, size_t dgemm_address=0, int int_bits=64):
    """Route the GEMMs to cblas_sgemm/cblas_dgemm at these addresses (integers of int_bits, 32 or 64 bits);
    no addresses: back to scipy's BLAS."""
    global _s64, _d64, _s32, _d32
    if int_bits not in (32, 64):
        raise ValueError(f"int_bits: expected 32 or 64, but got {int_bits}")
    if (sgemm_address == 0) != (dgemm_address == 0):
        raise ValueError("sgemm_address, dgemm_address: expected both or neither")
    _s64, _d64, _s32, _d32 = NULL, NULL, NULL, NULL
    if sgemm_address and int_bits == 64:
        _s64, _d64 = <sgemm64_t>sgemm_address, <dgemm64_t>dgemm_address
    elif sgemm_address:
        _s32, _d32 = <sgemm32_t>sgemm_address, <dgemm32_t>dgemm_address


def using_cblas():
    """True while the GEMMs run on the handed-over CBLAS."""
    return _s64 != NULL or _s32 != NULL


cdef inline void _gemm_rm(bint trans_a, bint trans_b, int m, int n, int k, floating alpha, const floating* a,
                          int lda, const floating* b, int ldb, floating beta, floating* c, int ldc) noexcept nogil:
    cdef int ta = TRANS if trans_a else NO_TRANS, tb = TRANS if trans_b else NO_TRANS
    cdef char fa = b'T' if trans_a else b'N', fb = b'T' if trans_b else b'N'
    if floating is float:
        if _s64 != NULL:
            _s64(ROW_MAJOR, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        elif _s32 != NULL:
            _s32(ROW_MAJOR, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        else:                                    # Fortran is column-major: Cᵀ = op(B)ᵀ op(A)ᵀ, operands swapped
            sgemm(&fb, &fa, &n, &m, &k, &alpha, <float*>b, &ldb, <float*>a, &lda, &beta, c, &ldc)
    else:
        if _d64 != NULL:
            _d64(ROW_MAJOR, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        elif _d32 != NULL:
            _d32(ROW_MAJOR, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        else:
            dgemm(&fb, &fa, &n, &m, &k, &alpha, <double*>b, &ldb, <double*>a, &lda, &beta, c, &ldc)


cdef void sgemm_rm(bint trans_a, bint trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                   const float* b, int ldb, float beta, float* c, int ldc) noexcept nogil:
    _gemm_rm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


cdef void dgemm_rm(bint trans_a, bint trans_b, int m, int n, int k, double alpha, const double* a, int lda,
                   const double* b, int ldb, double beta, double* c, int ldc) noexcept nogil:
    _gemm_rm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
