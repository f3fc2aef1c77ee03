/* The recurrent products of a sequence kernel for skinny batches: C (M, N) = A (M, K) @ B (K, N) + beta·C with M
 * small (the batch), B a weight that every step of the sequence multiplies by (W_hhᵀ forward, W_hh backward).
 *
 * Why not BLAS: at these shapes a BLAS call spends much of its time on set-up and on packing B into its own panel
 * layout, again at every call (a 1×32 · 32×128 product costs about 1.4 µs of dispatch; 16×128 · 128×512 runs at a
 * third of one core's peak in every BLAS at hand). Here B is packed once per sequence (tg_pack_*) into panels of
 * NR columns: panel p holds columns p·NR … p·NR + NR − 1 of B for every k, NR contiguous values per k, the last panel
 * padded with zeros. Each step then runs a register-blocked micro-kernel over the panels: an MR × NR block of C is
 * kept in vector registers while k runs, each step of k loading NR values of the panel and broadcasting MR values
 * of A. The panel stays in L1 while every row block uses it.
 *
 * Three builds of the micro-kernel, chosen at run time from the CPU (as fastmath.h chooses its clones): AVX-512 (MR = 8
 * rows of 2 zmm: 16 accumulators hide the FMA latency on both pipes; 4 rows ran 7–18 % slower here), AVX2 + FMA (MR = 2
 * rows of 4 ymm), and a portable one in plain C vectors (MR = 1), which GCC lowers to SSE2 on x86-64 and to whatever
 * vectors other targets have; compilers without GCC's vector extensions get a scalar loop. NR is the same for all (32
 * floats, 16 doubles: 128 bytes), so one packing serves every build. Sums run over k in order, with FMA where the build
 * has it: results equal BLAS's to rounding.
 */
#ifndef TINYGRAD_RNN_SKINNY_H
#define TINYGRAD_RNN_SKINNY_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define TG_NR_F 32
#define TG_NR_D 16

/* elements of the packed form of a (K, N) operand: ceil(N / NR) panels of K·NR */
static inline ptrdiff_t tg_packed_size(ptrdiff_t K, ptrdiff_t N, ptrdiff_t nr) { return ((N + nr - 1) / nr) * K * nr; }

/* B (K, N) into panels; B[k, n] is b[k·ldb + n], or with trans b[n·ldb + k] (B given as its transpose) */
#define TG_DEFINE_PACK(NAME, T, NR)                                                                             \
    static void NAME(ptrdiff_t K, ptrdiff_t N, const T* b, ptrdiff_t ldb, int trans, T* p) {                      \
        ptrdiff_t panels = (N + NR - 1) / NR;                                                                   \
        for (ptrdiff_t q = 0; q < panels; q++) {                                                                \
            T* out = p + q * K * NR;                                                                            \
            ptrdiff_t n0 = q * NR, width = N - n0 < NR ? N - n0 : NR;                                           \
            for (ptrdiff_t k = 0; k < K; k++) {                                                                 \
                for (ptrdiff_t j = 0; j < width; j++)                                                           \
                    out[k * NR + j] = trans ? b[(n0 + j) * ldb + k] : b[k * ldb + n0 + j];                      \
                for (ptrdiff_t j = width; j < NR; j++)                                                          \
                    out[k * NR + j] = 0;                                                                        \
            }                                                                                                   \
        }                                                                                                       \
    }
TG_DEFINE_PACK(tg_pack_d, double, TG_NR_D)
#if defined(__SSE__) && defined(__GNUC__)
#include <xmmintrin.h>
TG_DEFINE_PACK(tg_pack_rows_f, float, TG_NR_F)
/* tg_pack_f with the transposed case in 4 × 4 blocks (SSE, every x86-64): the element-by-element loop above read
 * across 32 rows of b per k and ran 19 µs for the sequence kernels' W_hhᵀ (512 × 128), once a layer call; the
 * same values land in the same places. */
static void tg_pack_f(ptrdiff_t K, ptrdiff_t N, const float* b, ptrdiff_t ldb, int trans, float* p) {
    if (!trans) {
        tg_pack_rows_f(K, N, b, ldb, trans, p);
        return;
    }
    ptrdiff_t panels = (N + TG_NR_F - 1) / TG_NR_F;
    for (ptrdiff_t q = 0; q < panels; q++) {
        float* out = p + q * K * TG_NR_F;
        ptrdiff_t n0 = q * TG_NR_F, width = N - n0 < TG_NR_F ? N - n0 : TG_NR_F, j = 0;
        for (; j + 4 <= width; j += 4) {
            const float* r = b + (n0 + j) * ldb;
            ptrdiff_t k = 0;
            for (; k + 4 <= K; k += 4) {
                __m128 a0 = _mm_loadu_ps(r + k), a1 = _mm_loadu_ps(r + ldb + k);
                __m128 a2 = _mm_loadu_ps(r + 2 * ldb + k), a3 = _mm_loadu_ps(r + 3 * ldb + k);
                _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
                _mm_storeu_ps(out + k * TG_NR_F + j, a0);
                _mm_storeu_ps(out + (k + 1) * TG_NR_F + j, a1);
                _mm_storeu_ps(out + (k + 2) * TG_NR_F + j, a2);
                _mm_storeu_ps(out + (k + 3) * TG_NR_F + j, a3);
            }
            for (ptrdiff_t i = 0; i < 4; i++)         /* K mod 4 */
                for (ptrdiff_t kk = k; kk < K; kk++)
                    out[kk * TG_NR_F + j + i] = r[i * ldb + kk];
        }
        for (; j < width; j++)                        /* width mod 4 */
            for (ptrdiff_t k = 0; k < K; k++)
                out[k * TG_NR_F + j] = b[(n0 + j) * ldb + k];
        for (; j < TG_NR_F; j++)                      /* the last panel's padding */
            for (ptrdiff_t k = 0; k < K; k++)
                out[k * TG_NR_F + j] = 0;
    }
}
#else
TG_DEFINE_PACK(tg_pack_f, float, TG_NR_F)
#endif

/* One block of R rows of C over one panel: R × NV accumulators, k in order. */
#define TG_GEMM_ROWS(T, V, VW, NR, R)                                                                           \
    for (; m0 + (R) <= M; m0 += (R)) {                                                                          \
        V acc[R][NV];                                                                                           \
        _Pragma("GCC unroll 16") for (int i = 0; i < (R); i++)                                                  \
            _Pragma("GCC unroll 16") for (int v = 0; v < NV; v++) acc[i][v] = (V){0};                           \
        const T* arow = a + m0 * sam;                                                                           \
        for (ptrdiff_t k = 0; k < K; k++) {                                                                     \
            V bv[NV];                                                                                           \
            _Pragma("GCC unroll 16") for (int v = 0; v < NV; v++)                                               \
                memcpy(&bv[v], panel + k * NR + v * VW, sizeof(V));                                             \
            _Pragma("GCC unroll 16") for (int i = 0; i < (R); i++) {                                            \
                T s = arow[i * sam + k * sak];                                                                  \
                _Pragma("GCC unroll 16") for (int v = 0; v < NV; v++) acc[i][v] += s * bv[v];                   \
            }                                                                                                   \
        }                                                                                                       \
        _Pragma("GCC unroll 16") for (int i = 0; i < (R); i++) {                                                \
            T out[NR];                                                                                          \
            _Pragma("GCC unroll 16") for (int v = 0; v < NV; v++) memcpy(out + v * VW, &acc[i][v], sizeof(V));  \
            T* crow = c + (m0 + i) * ldc + n0;                                                                  \
            if (bias != NULL)                                                                                   \
                for (ptrdiff_t j = 0; j < width; j++) crow[j] = out[j] + bias[n0 + j];                          \
            else if (beta == 0)                                                                                 \
                for (ptrdiff_t j = 0; j < width; j++) crow[j] = out[j];                                         \
            else                                                                                                \
                for (ptrdiff_t j = 0; j < width; j++) crow[j] = out[j] + beta * crow[j];                        \
        }                                                                                                       \
    }

/* The micro-kernel over all panels, for vectors V of VW elements of T: blocks of MR rows, then of MR/2 (MR ≥ 4),
 * then single rows for what is left (M mod MR), so a batch of 4 still gets 4-row blocks when MR is 8. Each element
 * of C is the same sum over k in the same order whichever block it falls in: results do not depend on M. Written
 * with GCC's vector extensions; the loops over i and v have constant bounds and are unrolled, so the accumulators
 * live in registers. bias (N,) or NULL: C = A @ B + bias, added as the sums are stored (beta unused). */
#define TG_DEFINE_GEMM(NAME, ATTR, T, V, VW, NR, MR)                                                            \
    ATTR static void NAME(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, const T* a, ptrdiff_t sam, ptrdiff_t sak,         \
                          const T* p, T beta, T* c, ptrdiff_t ldc, const T* bias) {                            \
        enum { NV = NR / VW };                                                                                  \
        ptrdiff_t panels = (N + NR - 1) / NR;                                                                   \
        for (ptrdiff_t q = 0; q < panels; q++) {                                                                \
            const T* panel = p + q * K * NR;                                                                    \
            ptrdiff_t n0 = q * NR, width = N - n0 < NR ? N - n0 : NR;                                           \
            ptrdiff_t m0 = 0;                                                                                   \
            TG_GEMM_ROWS(T, V, VW, NR, MR)                                                                      \
            if ((MR) >= 4) {                                                                                    \
                TG_GEMM_ROWS(T, V, VW, NR, (MR) / 2)                                                            \
            }                                                                                                   \
            TG_GEMM_ROWS(T, V, VW, NR, 1)                                                                       \
        }                                                                                                       \
    }

/* A plain loop over the same packed panels, for compilers without vector extensions and as the tests' oracle. */
#define TG_DEFINE_GEMM_SCALAR(NAME, T, NR)                                                                      \
    static void NAME(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, const T* a, ptrdiff_t sam, ptrdiff_t sak, const T* p, \
                     T beta, T* c, ptrdiff_t ldc, const T* bias) {                                              \
        for (ptrdiff_t m = 0; m < M; m++)                                                                       \
            for (ptrdiff_t n = 0; n < N; n++) {                                                                 \
                const T* col = p + (n / NR) * K * NR + n % NR;                                                  \
                T s = 0;                                                                                        \
                for (ptrdiff_t k = 0; k < K; k++) s += a[m * sam + k * sak] * col[k * NR];                          \
                c[m * ldc + n] = bias != NULL ? s + bias[n] : beta == 0 ? s : s + beta * c[m * ldc + n];        \
            }                                                                                                   \
    }
TG_DEFINE_GEMM_SCALAR(tg_gemm_scalar_f, float, TG_NR_F)
TG_DEFINE_GEMM_SCALAR(tg_gemm_scalar_d, double, TG_NR_D)

typedef void (*tg_gemm_f_t)(ptrdiff_t, ptrdiff_t, ptrdiff_t, const float*, ptrdiff_t, ptrdiff_t, const float*, float,
                            float*, ptrdiff_t, const float*);
typedef void (*tg_gemm_d_t)(ptrdiff_t, ptrdiff_t, ptrdiff_t, const double*, ptrdiff_t, ptrdiff_t, const double*,
                            double, double*, ptrdiff_t, const double*);

#define TG_ISA_SCALAR 0
#define TG_ISA_PORTABLE 1
#define TG_ISA_AVX2 2
#define TG_ISA_AVX512 3

#if defined(__GNUC__) && !defined(__clang__) && !defined(TG_NO_CLONES)
typedef float tg_vf16 __attribute__((vector_size(16)));
typedef double tg_vd16 __attribute__((vector_size(16)));
TG_DEFINE_GEMM(tg_gemm_portable_f, , float, tg_vf16, 4, TG_NR_F, 1)
TG_DEFINE_GEMM(tg_gemm_portable_d, , double, tg_vd16, 2, TG_NR_D, 1)
#define TG_HAVE_PORTABLE 1
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(TG_NO_CLONES)
typedef float tg_vf32 __attribute__((vector_size(32)));
typedef double tg_vd32 __attribute__((vector_size(32)));
typedef float tg_vf64 __attribute__((vector_size(64)));
typedef double tg_vd64 __attribute__((vector_size(64)));
TG_DEFINE_GEMM(tg_gemm_avx2_f, __attribute__((target("avx2,fma"))), float, tg_vf32, 8, TG_NR_F, 2)
TG_DEFINE_GEMM(tg_gemm_avx2_d, __attribute__((target("avx2,fma"))), double, tg_vd32, 4, TG_NR_D, 2)
TG_DEFINE_GEMM(tg_gemm_avx512_f, __attribute__((target("avx512f,fma"))), float, tg_vf64, 16, TG_NR_F, 8)
TG_DEFINE_GEMM(tg_gemm_avx512_d, __attribute__((target("avx512f,fma"))), double, tg_vd64, 8, TG_NR_D, 8)
#define TG_HAVE_X86 1
#endif

/* The best build this CPU runs (TG_ISA_*). */
static int tg_skinny_best_isa(void) {
#ifdef TG_HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return TG_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return TG_ISA_AVX2;
#endif
#ifdef TG_HAVE_PORTABLE
    return TG_ISA_PORTABLE;
#else
    return TG_ISA_SCALAR;
#endif
}

/* The micro-kernel of build `isa` (a build this CPU cannot run, or one not compiled here: NULL). */
static tg_gemm_f_t tg_gemm_f_of(int isa) {
    int best = tg_skinny_best_isa();
    if (isa > best)
        return NULL;
    switch (isa) {
#ifdef TG_HAVE_X86
    case TG_ISA_AVX512: return tg_gemm_avx512_f;
    case TG_ISA_AVX2: return tg_gemm_avx2_f;
#endif
#ifdef TG_HAVE_PORTABLE
    case TG_ISA_PORTABLE: return tg_gemm_portable_f;
#endif
    case TG_ISA_SCALAR: return tg_gemm_scalar_f;
    default: return NULL;
    }
}

static tg_gemm_d_t tg_gemm_d_of(int isa) {
    int best = tg_skinny_best_isa();
    if (isa > best)
        return NULL;
    switch (isa) {
#ifdef TG_HAVE_X86
    case TG_ISA_AVX512: return tg_gemm_avx512_d;
    case TG_ISA_AVX2: return tg_gemm_avx2_d;
#endif
#ifdef TG_HAVE_PORTABLE
    case TG_ISA_PORTABLE: return tg_gemm_portable_d;
#endif
    case TG_ISA_SCALAR: return tg_gemm_scalar_d;
    default: return NULL;
    }
}

static const char* tg_skinny_isa_name(int isa) {
    switch (isa) {
    case TG_ISA_AVX512: return "avx512";
    case TG_ISA_AVX2: return "avx2";
    case TG_ISA_PORTABLE: return "portable";
    default: return "scalar";
    }
}

/* ---- two cores, and products of any size ---------------------------------------------------------------------
 * tg_threads: how many OpenMP threads a product of `fmas` multiply-adds over `tiles` independent tiles uses. The
 * limit is read at every call (omp_get_max_threads: OMP_NUM_THREADS, threadpoolctl's threadpool_limits), so
 * threadpool_limits(1) gives one thread; a product too small to pay for waking a second thread (about a
 * microsecond) runs on the caller's. Threads split the panels (columns of C) and row blocks, never a sum over k:
 * every element of C is summed in the same order by one thread, so the results are bitwise the same at any count. */
#ifdef _OPENMP
#include <omp.h>
#endif
#define TG_PARALLEL_FMAS (1 << 18)
#define TG_KC 1024 /* rows of B packed at a time: 1024 ran the weight gradients 5–12 % faster than 256 (the panel
                    * of kc × 128 bytes comes from L2, streamed in order; fewer passes over C) */
#define TG_AGROUP 8 /* rows of a transposed A copied side by side: the AVX-512 kernel's block height (MR) */
#define TG_MC 128   /* rows of A per block: 128 × 1024 floats (512 KiB) stay in L2 while every panel uses them */

static inline int tg_threads(ptrdiff_t fmas, ptrdiff_t tiles) {
#ifdef _OPENMP
    if (fmas < TG_PARALLEL_FMAS || tiles < 2)
        return 1;
    int n = omp_get_max_threads();
    return n < 1 ? 1 : (n > tiles ? (int)tiles : n);
#else
    (void)fmas; (void)tiles;
    return 1;
#endif
}

/* C (M, N) = A @ B + beta·C (bias not NULL: + bias in every row, beta unused) on B's panels packed whole (K rows:
 * tg_pack_*), the panels split across threads: the sequence kernels' per-step product. A[m, k] is a[m·sam + k·sak]. */
#define TG_DEFINE_PANELS(NAME, T, NR, KERN_T)                                                                   \
    static void NAME(KERN_T kern, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, const T* a, ptrdiff_t sam,              \
                     ptrdiff_t sak, const T* p, T beta, T* c, ptrdiff_t ldc, const T* bias) {                   \
        ptrdiff_t panels = (N + NR - 1) / NR;                                                                   \
        int nt = tg_threads(M * N * K, panels);                                                                 \
        if (nt == 1) {                                                                                          \
            kern(M, N, K, a, sam, sak, p, beta, c, ldc, bias);                                                  \
            return;                                                                                             \
        }                                                                                                       \
        _Pragma("omp parallel for num_threads(nt) schedule(static)")                                            \
        for (ptrdiff_t q = 0; q < panels; q++) {                                                                \
            ptrdiff_t n0 = q * NR;                                                                              \
            kern(M, N - n0 < NR ? N - n0 : NR, K, a, sam, sak, p + q * K * NR, beta, c + n0, ldc,                \
                 bias == NULL ? NULL : bias + n0);                                                              \
        }                                                                                                       \
    }
TG_DEFINE_PANELS(tg_panels_f, float, TG_NR_F, tg_gemm_f_t)
TG_DEFINE_PANELS(tg_panels_d, double, TG_NR_D, tg_gemm_d_t)

/* C (M, N) = op(A) @ op(B) + beta·C for any sizes, in the blocks of a GotoBLAS GEMM: TG_KC rows of op(B) packed
 * at a time (the sum over k in blocks, each added to C), and per block of TG_MC rows of A every panel's tiles. op(A)
 * = A (M, K) or, trans_a, Aᵀ of a (K, M); op(B) the same. bias (N,) or NULL: added to every row of C, by the
 * micro-kernel as it stores its first block's sums (beta = 0; else each tile is set to beta·C + bias first), where a
 * separate pass after the GEMM read and wrote all of C once more (a tenth of the input projection's time). Returns
 * -1 (nothing written) when a buffer cannot be allocated: the caller then uses BLAS.
 *
 * Aᵀ given (the weight gradients dzᵀ x over T·B rows): the micro-kernel reads each k's TG_AGROUP values of a row
 * group from one line when they sit side by side, so a thread copies its block of rows there (k-major, in groups of
 * TG_AGROUP rows) just before its tiles use it, into its own buffer, which stays in L2 for every panel (a copy of the
 * whole of A first, 8 MiB at 2048 rows, was read back from L3: 12 % of the product). Reading a (K, M) array in place
 * instead strides by M per k: fine at 512 rows, but 2048 rows map every k to the same cache sets and run 25 % slower.
 */
/* The blocked GEMM's packed panels and copies of A, in memory each calling thread keeps for its next call (grown
 * when a call needs more, freed when the thread ends): a fresh malloc of these sizes comes from mmap once glibc's
 * heap has been trimmed, and every page of it then faults on first write (megabytes per training step on a VM,
 * where a fault costs microseconds). At most TG_SCRATCH_KEEP bytes are kept (a layer at L needs about 3 MiB): a
 * larger call (a 50,000-word output layer's 195 MiB of panels) allocates and frees its own, whose page faults its
 * arithmetic dwarfs, rather than holding that memory for the rest of the process. Without POSIX threads, or when
 * the thread key cannot be made: malloc and free per call. */
#define TG_SCRATCH_KEEP ((size_t)16 << 20)
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
typedef struct { void* memory; size_t bytes; } tg_scratch_t;
static pthread_key_t tg_scratch_key;
static pthread_once_t tg_scratch_once = PTHREAD_ONCE_INIT;
static int tg_scratch_keyed = 0;   /* the key was made */
static void tg_scratch_free(void* s) {
    free(((tg_scratch_t*)s)->memory);
    free(s);
}
static void tg_scratch_init(void) { tg_scratch_keyed = pthread_key_create(&tg_scratch_key, tg_scratch_free) == 0; }
/* At least `bytes` of scratch memory (NULL: out of memory), this thread's kept memory when it may be kept: valid
 * until this thread's next tg_scratch; give it back with tg_scratch_done. */
static void* tg_scratch(size_t bytes) {
    (void)pthread_once(&tg_scratch_once, tg_scratch_init);
    if (!tg_scratch_keyed || bytes > TG_SCRATCH_KEEP)
        return malloc(bytes);
    tg_scratch_t* s = (tg_scratch_t*)pthread_getspecific(tg_scratch_key);
    if (s == NULL) {
        s = (tg_scratch_t*)calloc(1, sizeof(tg_scratch_t));
        if (s == NULL || pthread_setspecific(tg_scratch_key, s) != 0) {
            free(s);
            return malloc(bytes);   /* (tg_scratch_done frees what is not this thread's kept memory) */
        }
    }
    if (s->bytes < bytes) {
        free(s->memory);
        s->memory = malloc(bytes);
        s->bytes = s->memory == NULL ? 0 : bytes;
    }
    return s->memory;
}
static void tg_scratch_done(void* memory) {
    tg_scratch_t* s = tg_scratch_keyed ? (tg_scratch_t*)pthread_getspecific(tg_scratch_key) : NULL;
    if (s == NULL || s->memory != memory)
        free(memory);
}
#else
static void* tg_scratch(size_t bytes) { return malloc(bytes); }
static void tg_scratch_done(void* memory) { free(memory); }
#endif

#ifdef _OPENMP
#define TG_OMP_THREAD() omp_get_thread_num()
#else
#define TG_OMP_THREAD() 0
#endif
/* The same product into two outputs that share op(A): C (M, N) = op(A) @ op(B) and C2 (M, N2) = op(A) @ op(B2), each
 * + beta·its own; bias (N,) for C only; N2 = 0: C alone (NAME, below). The panels of B and B2 are packed side by
 * side and every job takes a tile of one of them, so a copy of Aᵀ serves both: an LSTM layer's dW_ih = dzᵀ x and
 * dW_hh = dzᵀ h (M 512, K 800, N 64 + 128) ran 740–750 µs in a C harness where the two products ran 770–785 (the
 * copies of dzᵀ are a tenth of each). Each element of either output is summed as by NAME alone: bitwise the same
 * results. */
#define TG_DEFINE_BLOCKED(NAME, T, NR, PACK, KERN_T)                                                            \
    static int NAME##_two(KERN_T kern, int trans_a, int trans_b, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,          \
                          const T* a, ptrdiff_t lda, const T* b, ptrdiff_t ldb, T beta, T* c, ptrdiff_t ldc,     \
                          const T* bias, ptrdiff_t N2, const T* b2, ptrdiff_t ldb2, T* c2, ptrdiff_t ldc2) {     \
        ptrdiff_t kc = K < TG_KC ? K : TG_KC, blocks = (M + TG_MC - 1) / TG_MC;                                  \
        ptrdiff_t panels1 = (N + NR - 1) / NR, panels = panels1 + (N2 + NR - 1) / NR;                            \
        int nt = tg_threads(M * (N + N2) * kc, panels * blocks);                                                \
        ptrdiff_t mc = M < TG_MC ? (M + TG_AGROUP - 1) / TG_AGROUP * TG_AGROUP : TG_MC; /* rows a copy holds */  \
        size_t packed = (size_t)(panels * kc * NR), copies = trans_a ? (size_t)(nt * mc * kc) : 0;               \
        T* p = (T*)tg_scratch(sizeof(T) * (packed + copies));                                                  \
        if (p == NULL)                                                                                          \
            return -1;                                                                                          \
        T* at = p + packed;                                                                                     \
        for (ptrdiff_t k0 = 0; k0 < K; k0 += kc) {                                                              \
            ptrdiff_t kb = K - k0 < kc ? K - k0 : kc;                                                           \
            T bk = k0 == 0 ? beta : (T)1;                                                                       \
            PACK(kb, N, trans_b ? b + k0 : b + k0 * ldb, ldb, trans_b, p);                                      \
            if (N2 > 0)                                                                                         \
                PACK(kb, N2, trans_b ? b2 + k0 : b2 + k0 * ldb2, ldb2, trans_b, p + panels1 * kb * NR);         \
            _Pragma("omp parallel num_threads(nt) if(nt > 1)")                                                  \
            {                                                                                                   \
                T* mine = trans_a ? at + TG_OMP_THREAD() * mc * kb : NULL;                                      \
                ptrdiff_t copied = -1; /* the block of rows in `mine` */                                        \
                _Pragma("omp for schedule(static)")                                                             \
                for (ptrdiff_t job = 0; job < blocks * panels; job++) {                                         \
                    ptrdiff_t q = job % panels, second = q >= panels1, n = second ? N2 : N;                     \
                    ptrdiff_t m0 = (job / panels) * TG_MC, n0 = (second ? q - panels1 : q) * NR;                \
                    ptrdiff_t mb = M - m0 < TG_MC ? M - m0 : TG_MC, width = n - n0 < NR ? n - n0 : NR;          \
                    T* cc = second ? c2 : c;                                                                    \
                    ptrdiff_t ldcc = second ? ldc2 : ldc;                                                       \
                    const T* panel = p + q * kb * NR;                                                           \
                    const T* bias_ = second ? NULL : bias;                                                      \
                    T bt = bk;                                                                                  \
                    const T* bb = k0 == 0 && beta == 0 ? bias_ : NULL; /* added in the first block's stores */  \
                    if (bias_ != NULL && k0 == 0 && beta != 0) {                                                \
                        for (ptrdiff_t r = m0; r < m0 + mb; r++)                                                \
                            for (ptrdiff_t j = 0; j < width; j++)                                               \
                                cc[r * ldcc + n0 + j] = beta * cc[r * ldcc + n0 + j] + bias_[n0 + j];           \
                        bt = 1;                                                                                 \
                    }                                                                                           \
                    if (!trans_a) {                                                                             \
                        kern(mb, width, kb, a + m0 * lda + k0, lda, 1, panel, bt, cc + m0 * ldcc + n0, ldcc,    \
                             bb == NULL ? NULL : bb + n0);                                                      \
                        continue;                                                                               \
                    }                                                                                           \
                    if (copied != m0) {                                                                         \
                        tg_copy_groups_##T(kb, mb, a + k0 * lda + m0, lda, mine);                               \
                        copied = m0;                                                                            \
                    }                                                                                           \
                    for (ptrdiff_t g = 0; g < mb; g += TG_AGROUP)                                               \
                        kern(mb - g < TG_AGROUP ? mb - g : TG_AGROUP, width, kb, mine + g * kb, 1, TG_AGROUP,   \
                             panel, bt, cc + (m0 + g) * ldcc + n0, ldcc, bb == NULL ? NULL : bb + n0);          \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
        tg_scratch_done(p);                                                                                     \
        return 0;                                                                                               \
    }                                                                                                           \
    static int NAME(KERN_T kern, int trans_a, int trans_b, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, const T* a,    \
                    ptrdiff_t lda, const T* b, ptrdiff_t ldb, T beta, T* c, ptrdiff_t ldc, const T* bias) {     \
        return NAME##_two(kern, trans_a, trans_b, M, N, K, a, lda, b, ldb, beta, c, ldc, bias, 0, NULL, 0, NULL, 0); \
    }

/* Rows m of a block of Aᵀ (kb, mb), a[k·lda + m], into groups of TG_AGROUP rows side by side: out[g·kb + k·TG_AGROUP +
 * i] = A[g + i, k], zeros past mb. In strips of TG_AGROUP values of k: each strip's lines are read from memory once,
 * where a group's kb values at a stride of lda map to one L1 set and were read twice. */
#define TG_DEFINE_COPY_GROUPS(T)                                                                                \
    static void tg_copy_groups_##T(ptrdiff_t kb, ptrdiff_t mb, const T* a, ptrdiff_t lda, T* out) {              \
        for (ptrdiff_t s0 = 0; s0 < kb; s0 += TG_AGROUP) {                                                      \
            ptrdiff_t se = kb - s0 < TG_AGROUP ? kb : s0 + TG_AGROUP;                                           \
            for (ptrdiff_t g = 0; g < mb; g += TG_AGROUP) {                                                     \
                ptrdiff_t w = mb - g < TG_AGROUP ? mb - g : TG_AGROUP;                                          \
                T* o = out + g * kb;                                                                            \
                if (w == TG_AGROUP) /* a whole group: a straight copy per k (a select kept it scalar) */        \
                    for (ptrdiff_t k = s0; k < se; k++)                                                         \
                        memcpy(o + k * TG_AGROUP, a + k * lda + g, sizeof(T) * TG_AGROUP);                      \
                else                                                                                            \
                    for (ptrdiff_t k = s0; k < se; k++)                                                         \
                        for (ptrdiff_t i = 0; i < TG_AGROUP; i++)                                               \
                            o[k * TG_AGROUP + i] = i < w ? a[k * lda + g + i] : 0;                              \
            }                                                                                                   \
        }                                                                                                       \
    }
TG_DEFINE_COPY_GROUPS(float)
TG_DEFINE_COPY_GROUPS(double)
TG_DEFINE_BLOCKED(tg_blocked_f, float, TG_NR_F, tg_pack_f, tg_gemm_f_t)
TG_DEFINE_BLOCKED(tg_blocked_d, double, TG_NR_D, tg_pack_d, tg_gemm_d_t)

#endif
