/* C (M×N) = A (M×K) · B (K×N) [+ C] for skinny A (a batch of hidden states) and a B packed once: the recurrent
 * products of a sequence, h_{t−1} · W_hhᵀ forward and dz_t · W_hh backward, reuse one W_hh for T steps.
 *
 * Why not BLAS: at B ≤ 64 rows a BLAS GEMM repacks W_hh on every call (K·N elements, more than the product's A and C
 * together) and reaches ~60 GFLOP/s at 16×128×512 here. Packed once per sequence, each step's product only streams
 * the panels from L1/L2 through a register-blocked micro-kernel.
 *
 * Layout: B is cut into panels of W columns (W·sizeof(T) = 64 bytes: 16 floats or 8 doubles, one AVX-512 register);
 * panel p holds, for k = 0..K−1, the W values B[k, p·W .. p·W+W−1] contiguously (zero beyond N). The micro-kernel
 * keeps MR rows × NP panels of C in registers and, per k, loads NP panel vectors and broadcasts MR values of A.
 *
 * ISA: the kernels are written once with GCC's vector extensions and compiled for AVX-512F, AVX2+FMA and the
 * baseline; tg_pgemm_* picks one per CPU at its first call (__builtin_cpu_supports), as fastmath.h's clones do.
 * The block sizes differ per ISA (AVX-512 has 32 vector registers, AVX2 16 of half the width), the layout does not.
 * Elsewhere (not GCC/x86-64) only the baseline exists.
 */
#ifndef TINYGRAD_RNN_PACKED_GEMM_H
#define TINYGRAD_RNN_PACKED_GEMM_H

#include <stddef.h>
#include <string.h>

typedef float tg_vf64 __attribute__((vector_size(64)));    /* the vector of each ISA: AVX-512, AVX2, SSE2 */
typedef float tg_vf32 __attribute__((vector_size(32)));
typedef float tg_vf16 __attribute__((vector_size(16)));
typedef double tg_vd64 __attribute__((vector_size(64)));
typedef double tg_vd32 __attribute__((vector_size(32)));
typedef double tg_vd16 __attribute__((vector_size(16)));
#define TG_WF 16
#define TG_WD 8

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(TG_NO_CLONES)
#define TG_PGEMM_DISPATCH 1
#define TG_AVX512 __attribute__((target("avx512f,fma")))
#define TG_AVX2 __attribute__((target("avx2,fma")))
#else
#define TG_PGEMM_DISPATCH 0
#endif
#define TG_BASE

/* Elements the packed B takes: ceil(N / W) panels of K·W. */
static inline Py_ssize_t tg_packed_size(Py_ssize_t K, Py_ssize_t N, Py_ssize_t W) { return (N + W - 1) / W * K * W; }

/* Packs B (K×N, element (k, n) at b[k·rs + n·cs]) into panels. h·W_hhᵀ: B = W_hhᵀ, rs = 1, cs = H; dz·W_hh: B = W_hh,
 * rs = H, cs = 1. */
#define TG_DEFINE_PACK(NAME, T, W)                                                                                  \
    static void NAME(const T* b, Py_ssize_t rs, Py_ssize_t cs, Py_ssize_t K, Py_ssize_t N, T* out) {            \
        for (Py_ssize_t p = 0; p * W < N; p++) {                                                                   \
            Py_ssize_t n0 = p * W, w = N - n0 < W ? N - n0 : W;                                                     \
            T* panel = out + p * K * W;                                                                             \
            for (Py_ssize_t k = 0; k < K; k++) {                                                                    \
                for (Py_ssize_t j = 0; j < w; j++) panel[k * W + j] = b[k * rs + (n0 + j) * cs];                    \
                for (Py_ssize_t j = w; j < W; j++) panel[k * W + j] = 0;                                            \
            }                                                                                                       \
        }                                                                                                           \
    }
TG_DEFINE_PACK(tg_pack_f32, float, TG_WF)
TG_DEFINE_PACK(tg_pack_f64, double, TG_WD)

/* One block: rows [0, MR) of A and C (row strides lda, ldc) against NP consecutive panels; `cols` is how many of
 * the last panel's W columns exist in C (W but at the right edge). accumulate: C += A·B, else C = A·B. V is the
 * ISA's own vector (64, 32 or 16 bytes): a panel row is S = 64 / sizeof(V) of them, so nothing is split by GCC. */
#define TG_DEFINE_BLOCK(NAME, ATTR, T, V, W, MR, NP)                                                               \
    static inline ATTR void NAME(Py_ssize_t K, const T* a, Py_ssize_t lda, const T* panels, Py_ssize_t pstride,    \
                                 T* c, Py_ssize_t ldc, Py_ssize_t cols, int accumulate) {                          \
        enum { S = (int)(W * sizeof(T) / sizeof(V)), L = (int)(sizeof(V) / sizeof(T)) };                          \
        V acc[MR][NP * S];                                                                                          \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                                      \
            _Pragma("GCC unroll 16") for (int q = 0; q < NP * S; q++) acc[r][q] = (V){0};                          \
        for (Py_ssize_t k = 0; k < K; k++) {                                                                        \
            V bv[NP * S];                                                                                           \
            _Pragma("GCC unroll 16") for (int q = 0; q < NP * S; q++)                                              \
                memcpy(&bv[q], panels + (q / S) * pstride + k * W + (q % S) * L, sizeof(V));                        \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                                                \
                T av = a[r * lda + k];                                                                              \
                _Pragma("GCC unroll 16") for (int q = 0; q < NP * S; q++) acc[r][q] += bv[q] * av;                 \
            }                                                                                                       \
        }                                                                                                           \
        for (int r = 0; r < MR; r++) {                                                                              \
            for (int q = 0; q < NP * S; q++) {                                                                      \
                T* dst = c + r * ldc + q * L;                                                                       \
                Py_ssize_t n = q / S == NP - 1 ? cols - (q % S) * L : L;  /* columns of this vector in C */        \
                if (n >= L) {                                                                                       \
                    V old;                                                                                          \
                    if (accumulate) { memcpy(&old, dst, sizeof(V)); acc[r][q] += old; }                            \
                    memcpy(dst, &acc[r][q], sizeof(V));                                                             \
                } else {                                                                                            \
                    for (Py_ssize_t j = 0; j < n; j++) dst[j] = accumulate ? dst[j] + acc[r][q][j] : acc[r][q][j]; \
                }                                                                                                   \
            }                                                                                                       \
        }                                                                                                           \
    }

/* The driver: rows in blocks of MR (then 4, 2, 1 for the rest), panels in groups of NP (the rest one at a time). */
#define TG_DEFINE_GEMM(NAME, ATTR, T, V, W, MR, NP, SUFFIX)                                                        \
    TG_DEFINE_BLOCK(NAME##_b##SUFFIX, ATTR, T, V, W, MR, NP)                                                       \
    TG_DEFINE_BLOCK(NAME##_b4##SUFFIX, ATTR, T, V, W, 4, 1)                                                        \
    TG_DEFINE_BLOCK(NAME##_b2##SUFFIX, ATTR, T, V, W, 2, 1)                                                        \
    TG_DEFINE_BLOCK(NAME##_b1##SUFFIX, ATTR, T, V, W, 1, 1)                                                        \
    TG_DEFINE_BLOCK(NAME##_r1##SUFFIX, ATTR, T, V, W, 1, NP)                                                       \
    static ATTR void NAME##SUFFIX(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const T* a, Py_ssize_t lda,            \
                                  const T* packed, T* c, Py_ssize_t ldc, int accumulate) {                        \
        Py_ssize_t panels = (N + W - 1) / W, pstride = K * W;                                                       \
        Py_ssize_t p = 0;                                                                                           \
        for (; p + NP <= panels; p += NP) {                                                                         \
            Py_ssize_t cols = N - (p + NP - 1) * W < W ? N - (p + NP - 1) * W : W;                                  \
            const T* pan = packed + p * pstride;                                                                    \
            Py_ssize_t i = 0;                                                                                       \
            for (; i + MR <= M; i += MR)                                                                            \
                NAME##_b##SUFFIX(K, a + i * lda, lda, pan, pstride, c + i * ldc + p * W, ldc, cols, accumulate);   \
            for (; i < M; i++)                                                                                      \
                NAME##_r1##SUFFIX(K, a + i * lda, lda, pan, pstride, c + i * ldc + p * W, ldc, cols, accumulate);  \
        }                                                                                                           \
        for (; p < panels; p++) {                                                                                   \
            Py_ssize_t cols = N - p * W < W ? N - p * W : W;                                                        \
            const T* pan = packed + p * pstride;                                                                    \
            Py_ssize_t i = 0;                                                                                       \
            for (; i + 4 <= M; i += 4)                                                                              \
                NAME##_b4##SUFFIX(K, a + i * lda, lda, pan, pstride, c + i * ldc + p * W, ldc, cols, accumulate);  \
            for (; i + 2 <= M; i += 2)                                                                              \
                NAME##_b2##SUFFIX(K, a + i * lda, lda, pan, pstride, c + i * ldc + p * W, ldc, cols, accumulate);  \
            for (; i < M; i++)                                                                                      \
                NAME##_b1##SUFFIX(K, a + i * lda, lda, pan, pstride, c + i * ldc + p * W, ldc, cols, accumulate);  \
        }                                                                                                           \
    }

/* Block sizes, as accumulator registers: AVX-512 8 rows × 2 panels (16 of 32 zmm), AVX2 6 × 1 (12 of 16 ymm, a
 * panel row being two), SSE2 2 × 1 (8 of 16 xmm). A single row (B = 1, sampling) runs over NP panels at once so
 * that its FMA chains overlap. */
#if TG_PGEMM_DISPATCH
TG_DEFINE_GEMM(tg_pgemm_f32, TG_AVX512, float, tg_vf64, TG_WF, 8, 2, _avx512)
TG_DEFINE_GEMM(tg_pgemm_f64, TG_AVX512, double, tg_vd64, TG_WD, 8, 2, _avx512)
TG_DEFINE_GEMM(tg_pgemm_f32, TG_AVX2, float, tg_vf32, TG_WF, 6, 1, _avx2)
TG_DEFINE_GEMM(tg_pgemm_f64, TG_AVX2, double, tg_vd32, TG_WD, 6, 1, _avx2)
#endif
TG_DEFINE_GEMM(tg_pgemm_f32, TG_BASE, float, tg_vf16, TG_WF, 2, 1, _base)
TG_DEFINE_GEMM(tg_pgemm_f64, TG_BASE, double, tg_vd16, TG_WD, 2, 1, _base)

/* The best this CPU runs: 2 = AVX-512, 1 = AVX2+FMA, 0 = baseline. */
static int tg_pgemm_isa(void) {
    static int isa = -1;
    if (isa < 0) {
        int best = 0;
#if TG_PGEMM_DISPATCH
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) best = 2;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = 1;
#endif
        isa = best;
    }
    return isa;
}

#define TG_DEFINE_ENTRY(NAME, T)                                                                                   \
    static void NAME(int isa, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const T* a, Py_ssize_t lda,               \
                     const T* packed, T* c, Py_ssize_t ldc, int accumulate) {                                      \
        if (M == 0 || N == 0) return;                                                                              \
        if (isa < 0 || isa > tg_pgemm_isa()) isa = tg_pgemm_isa();                                                 \
        if (TG_PGEMM_DISPATCH && isa == 2) NAME##_avx512(M, N, K, a, lda, packed, c, ldc, accumulate);             \
        else if (TG_PGEMM_DISPATCH && isa == 1) NAME##_avx2(M, N, K, a, lda, packed, c, ldc, accumulate);          \
        else NAME##_base(M, N, K, a, lda, packed, c, ldc, accumulate);                                             \
    }
#if !TG_PGEMM_DISPATCH
#define tg_pgemm_f32_avx512 tg_pgemm_f32_base
#define tg_pgemm_f32_avx2 tg_pgemm_f32_base
#define tg_pgemm_f64_avx512 tg_pgemm_f64_base
#define tg_pgemm_f64_avx2 tg_pgemm_f64_base
#endif
/* isa: −1 for the best this CPU has, or 0/1/2 to ask for one (never above what the CPU has). */
TG_DEFINE_ENTRY(tg_pgemm_f32, float)
TG_DEFINE_ENTRY(tg_pgemm_f64, double)

#endif
