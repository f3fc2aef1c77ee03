# skinny.h's declarations, shared by _blas.pyx (the blocked GEMM) and sequence.pyx (the recurrent products, the
# thread regions): the micro-kernels, their packing, the blocked GEMM and the thread count.
cdef extern from "skinny.h" nogil:
    int TG_NR_F
    int TG_NR_D
    int TG_ISA_SCALAR
    int TG_ISA_AVX2
    int TG_ISA_AVX512
    ctypedef void (*tg_gemm_f_t)(Py_ssize_t, Py_ssize_t, Py_ssize_t, const float*, Py_ssize_t, Py_ssize_t,
                                 const float*, float, float*, Py_ssize_t, const float*)
    ctypedef void (*tg_gemm_d_t)(Py_ssize_t, Py_ssize_t, Py_ssize_t, const double*, Py_ssize_t, Py_ssize_t,
                                 const double*, double, double*, Py_ssize_t, const double*)
    void tg_panels_f(tg_gemm_f_t kern, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const float* a, Py_ssize_t sam,
                     Py_ssize_t sak, const float* p, float beta, float* c, Py_ssize_t ldc, const float* bias)
    void tg_panels_d(tg_gemm_d_t kern, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const double* a, Py_ssize_t sam,
                     Py_ssize_t sak, const double* p, double beta, double* c, Py_ssize_t ldc, const double* bias)
    int tg_blocked_f(tg_gemm_f_t kern, int trans_a, int trans_b, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                     const float* a, Py_ssize_t lda, const float* b, Py_ssize_t ldb, float beta, float* c,
                     Py_ssize_t ldc, const float* bias)
    int tg_blocked_d(tg_gemm_d_t kern, int trans_a, int trans_b, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                     const double* a, Py_ssize_t lda, const double* b, Py_ssize_t ldb, double beta, double* c,
                     Py_ssize_t ldc, const double* bias)
    int tg_blocked_f_two(tg_gemm_f_t kern, int trans_a, int trans_b, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                         const float* a, Py_ssize_t lda, const float* b, Py_ssize_t ldb, float beta, float* c,
                         Py_ssize_t ldc, const float* bias, Py_ssize_t N2, const float* b2, Py_ssize_t ldb2,
                         float* c2, Py_ssize_t ldc2)
    int tg_blocked_d_two(tg_gemm_d_t kern, int trans_a, int trans_b, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                         const double* a, Py_ssize_t lda, const double* b, Py_ssize_t ldb, double beta, double* c,
                         Py_ssize_t ldc, const double* bias, Py_ssize_t N2, const double* b2, Py_ssize_t ldb2,
                         double* c2, Py_ssize_t ldc2)
    Py_ssize_t tg_packed_size(Py_ssize_t K, Py_ssize_t N, Py_ssize_t nr)
    void tg_pack_f(Py_ssize_t K, Py_ssize_t N, const float* b, Py_ssize_t ldb, int trans, float* p)
    void tg_pack_d(Py_ssize_t K, Py_ssize_t N, const double* b, Py_ssize_t ldb, int trans, double* p)
    tg_gemm_f_t tg_gemm_f_of(int isa)
    tg_gemm_d_t tg_gemm_d_of(int isa)
    int tg_skinny_best_isa()
    const char* tg_skinny_isa_name(int isa)
    int tg_threads(Py_ssize_t fmas, Py_ssize_t tiles)
