# The packed-panel GEMM of packed_gemm.h, for the kernels that run a recurrent product per step against one W_hh
# (see the header for the layout and why). Sizes are Py_ssize_t; no BLAS, so no int limit to check.
cdef extern from "packed_gemm.h" nogil:
    const Py_ssize_t TG_WF
    const Py_ssize_t TG_WD
    Py_ssize_t tg_packed_size(Py_ssize_t K, Py_ssize_t N, Py_ssize_t W)
    void tg_pack_f32(const float* b, Py_ssize_t rs, Py_ssize_t cs, Py_ssize_t K, Py_ssize_t N, float* out)
    void tg_pack_f64(const double* b, Py_ssize_t rs, Py_ssize_t cs, Py_ssize_t K, Py_ssize_t N, double* out)
    void tg_pgemm_f32(int isa, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const float* a, Py_ssize_t lda,
                      const float* packed, float* c, Py_ssize_t ldc, int accumulate)
    void tg_pgemm_f64(int isa, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const double* a, Py_ssize_t lda,
                      const double* packed, double* c, Py_ssize_t ldc, int accumulate)
    int tg_pgemm_isa()
