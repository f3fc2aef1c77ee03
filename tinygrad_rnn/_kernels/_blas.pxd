# Row-major GEMM for the kernels. _blas.pyx routes it to NumPy's own CBLAS when _backend hands over its entry
# points (use_cblas), else to scipy's Fortran BLAS (scipy.linalg.cython_blas).
from cython cimport floating


cdef void sgemm_rm(bint trans_a, bint trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                   const float* b, int ldb, float beta, float* c, int ldc) noexcept nogil
cdef void dgemm_rm(bint trans_a, bint trans_b, int m, int n, int k, double alpha, const double* a, int lda,
                   const double* b, int ldb, double beta, double* c, int ldc) noexcept nogil


cdef inline void gemm(bint trans_a, bint trans_b, int m, int n, int k, floating alpha,
                      const floating* a, int lda, const floating* b, int ldb,
                      floating beta, floating* c, int ldc) noexcept nogil:
    """C (m, n) = alpha · op(A) @ op(B) + beta · C, all row-major; lda, ldb, ldc are the stored row lengths."""
    cdef int i, j
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
