# Row-major GEMM for the kernels. _blas.pyx routes it to NumPy's own CBLAS when backend/blas.py hands over its entry
# points (use_cblas), else to scipy's Fortran BLAS (scipy.linalg.cython_blas, looked up on first use).
# Sizes and indices are Py_ssize_t here; BLAS takes a C int (scipy's, a 32-bit CBLAS) or int64 (a 64-bit CBLAS), so
# every kernel calls check_gemm, with the GIL, before its nogil block: a size the BLAS in use cannot hold is a
# ValueError, not a silently truncated product.
from cython cimport floating


cdef int check_gemm(str name, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, Py_ssize_t lda, Py_ssize_t ldb,
                    Py_ssize_t ldc) except -1
cdef void sgemm_rm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha, const float* a,
                   Py_ssize_t lda, const float* b, Py_ssize_t ldb, float beta, float* c, Py_ssize_t ldc) noexcept nogil
cdef void dgemm_rm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, double alpha,
                   const double* a, Py_ssize_t lda, const double* b, Py_ssize_t ldb, double beta, double* c,
                   Py_ssize_t ldc) noexcept nogil
cdef bint gemm_bias(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const floating* a,
                    Py_ssize_t lda, const floating* b, Py_ssize_t ldb, floating* c, Py_ssize_t ldc,
                    const floating* bias) noexcept nogil
cdef bint gemm_tn_two(Py_ssize_t m, Py_ssize_t n, Py_ssize_t n2, Py_ssize_t k, const floating* a, Py_ssize_t lda,
                      const floating* b, Py_ssize_t ldb, const floating* b2, Py_ssize_t ldb2, floating* c,
                      Py_ssize_t ldc, floating* c2, Py_ssize_t ldc2) noexcept nogil


cdef inline void gemm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, floating alpha,
                      const floating* a, Py_ssize_t lda, const floating* b, Py_ssize_t ldb,
                      floating beta, floating* c, Py_ssize_t ldc) noexcept nogil:
    """C (m, n) = alpha · op(A) @ op(B) + beta · C, all row-major; lda, ldb, ldc are the stored row lengths.
    The caller has passed the same sizes to check_gemm."""
    cdef Py_ssize_t i, j                         # Py_ssize_t: i * ldc + j overflowed an int at m·n ≥ 2³¹
    if m == 0 or n == 0:
        return
    if k == 0:                                   # empty sum: BLAS would reject lda = 0
        for i in range(m):
            for j in range(n):
                c[i * ldc + j] = beta * c[i * ldc + j] if beta != 0 else 0
        return
    if floating is float:
        sgemm_rm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    else:
        dgemm_rm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
