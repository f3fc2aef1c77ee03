/* Vectorizable exp, sigmoid and tanh over arrays, float and double, for the gate loops (_gate_loops.pxd).
 *
 * Every element goes through the same branch-free code, so GCC's auto-vectorizer turns each array loop into SIMD
 * at -O3; libm's scalar expf/tanhf calls were most of a step's time. Accuracy (tests/test_fastmath.py): within a
 * few ulp of NumPy everywhere, NaN propagates, ±0 and ±inf behave as in libm.
 * On x86-64 Linux with GCC the array functions are compiled three times (AVX-512, AVX2 + FMA, baseline SSE2) and
 * the loader picks one per CPU (function multi-versioning), so the wheel stays portable without -march=native.
 * setup.py adds -fno-trapping-math (values stay IEEE; only FP exception flags may differ), without which GCC will
 * not if-convert the selects for the baseline clone and leaves it scalar.
 */
#ifndef TINYGRAD_RNN_FASTMATH_H
#define TINYGRAD_RNN_FASTMATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Function multi-versioning needs GCC and glibc's ifunc; GCC 12 knows the x86-64-v3/v4 levels (v3 brings FMA), older
 * GCC gets the AVX-512F / AVX2 feature clones. Elsewhere (clang, MSVC, musl, ARM): one baseline build. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && defined(__GLIBC__) \
    && !defined(TG_NO_CLONES)
#if __GNUC__ >= 12
#define TG_CLONES "arch=x86-64-v4", "arch=x86-64-v3", "default"
#define TG_ISA_HIGH "x86-64-v4"
#define TG_ISA_MID "x86-64-v3"
#else
#define TG_CLONES "avx512f", "avx2", "default"
#define TG_ISA_HIGH "avx512f"
#define TG_ISA_MID "avx2"
#endif
#define TG_ARRAY_FN static __attribute__((unused, target_clones(TG_CLONES)))
#elif defined(__GNUC__)
#define TG_ARRAY_FN static __attribute__((unused))
#else
#define TG_ARRAY_FN static
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define TG_IVDEP _Pragma("GCC ivdep")  /* y may be x: same index only, no loop-carried dependence */
#else
#define TG_IVDEP
#endif

static inline double tg_f64(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }
static inline uint64_t tg_u64(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }
static inline float tg_f32(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
static inline uint32_t tg_u32(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }

/* Range reduction shared by exp and expm1: x = k·ln2 + r, k = round(x/ln2) (by adding and removing 1.5·2^52, which
 * leaves k in the low bits of t), r = x − k·ln2_hi − k·ln2_lo (Cody–Waite: k·ln2_hi is exact), |r| ≤ ln2/2.
 * e^r − 1 = r + r²·q(r), q the Taylor series of (e^r − 1 − r)/r² to r^11 (error < 0.1 ulp on |r| ≤ ln2/2). */
#define TG_SHIFT_D 6755399441055744.0                  /* 1.5·2^52 */
static inline double tg_reduce_d(double x, double* k, uint64_t* n) {
    double t = x * 1.4426950408889634 + TG_SHIFT_D;
    *n = tg_u64(t) - tg_u64(TG_SHIFT_D);                   /* k as a two's-complement integer */
    *k = t - TG_SHIFT_D;
    double r = x - *k * 6.93147180369123816490e-01;
    r = r - *k * 1.90821492927058770002e-10;
    double q = 1.0 / 6227020800.0;
    q = q * r + 1.0 / 479001600.0;
    q = q * r + 1.0 / 39916800.0;
    q = q * r + 1.0 / 3628800.0;
    q = q * r + 1.0 / 362880.0;
    q = q * r + 1.0 / 40320.0;
    q = q * r + 1.0 / 5040.0;
    q = q * r + 1.0 / 720.0;
    q = q * r + 1.0 / 120.0;
    q = q * r + 1.0 / 24.0;
    q = q * r + 1.0 / 6.0;
    q = q * r + 0.5;
    return r + r * r * q;                                   /* e^r − 1 */
}

/* e^x = 2^k·(1 + (e^r − 1)), 2^k applied as two normal powers of two so results may overflow to inf or go
 * subnormal with a single rounding; beyond [−746, 710] the result is set to 0 or inf (NaN passes). The bounds are
 * applied last: clamping x first lets GCC specialise the code for a constant bound, which it then cannot vectorize. */
static inline double tg_exp_d(double x) {
    double k;
    uint64_t n, n1;
    double p = 1.0 + tg_reduce_d(x, &k, &n);
    n1 = tg_u64(k * 0.5 + TG_SHIFT_D) - tg_u64(TG_SHIFT_D);   /* k = k1 + k2, both in [−538, 512] */
    double y = p * tg_f64((n1 + 1023) << 52) * tg_f64((n - n1 + 1023) << 52);
    y = x < -746.0 ? 0.0 : y;
    return x > 710.0 ? HUGE_VAL : y;
}

/* e^u − 1 for |u| ≤ 700 (or NaN): 2^k·(e^r − 1) + (2^k − 1), exact but for one rounding of the sum. */
static inline double tg_expm1_d(double u) {
    double k;
    uint64_t n;
    double m = tg_reduce_d(u, &k, &n);
    double s = tg_f64((n + 1023) << 52);
    return s * m + (s - 1.0);
}

/* σ(x) = 1/(1 + e) for x ≥ 0, else e/(1 + e), with e = e^(−|x|) and |x| clamped at 708 (as _math.pxd's sigmoid). */
static inline double tg_sigmoid_d(double x) {
    double ax = fabs(x);
    ax = ax > 708.0 ? 708.0 : ax;
    double e = tg_exp_d(-ax);
    return (x >= 0.0 ? 1.0 : e) / (1.0 + e);
}

/* tanh(x) = sign(x)·e/(e + 2), e = expm1(2|x|) ≥ 0 (an error in e shrinks by 2/(e + 2)); |x| clamped at 20, where
 * tanh rounds to 1. */
static inline double tg_tanh_d(double x) {
    double u = 2.0 * fabs(x);
    u = u > 40.0 ? 40.0 : u;
    double e = tg_expm1_d(u);
    return copysign(e / (e + 2.0), x);
}

/* float: the same with k·ln2_hi exact for |k| < 512, q to r^5 (Taylor to r^7, error < 0.2 ulp), clamps
 * [−104, 89] for exp, 87 for σ, 10 for tanh. */
#define TG_SHIFT_F 12582912.0f                        /* 1.5·2^23 */
static inline float tg_reduce_f(float x, float* k, uint32_t* n) {
    float t = x * 1.44269504f + TG_SHIFT_F;
    *n = tg_u32(t) - tg_u32(TG_SHIFT_F);
    *k = t - TG_SHIFT_F;
    float r = x - *k * 0.693145751953125f;
    r = r - *k * 1.428606765330187e-06f;
    float q = 1.0f / 5040.0f;
    q = q * r + 1.0f / 720.0f;
    q = q * r + 1.0f / 120.0f;
    q = q * r + 1.0f / 24.0f;
    q = q * r + 1.0f / 6.0f;
    q = q * r + 0.5f;
    return r + r * r * q;
}

static inline float tg_exp_f(float x) {
    float k;
    uint32_t n, n1;
    float p = 1.0f + tg_reduce_f(x, &k, &n);
    n1 = tg_u32(k * 0.5f + TG_SHIFT_F) - tg_u32(TG_SHIFT_F);
    float y = p * tg_f32((n1 + 127) << 23) * tg_f32((n - n1 + 127) << 23);
    y = x < -104.0f ? 0.0f : y;
    return x > 89.0f ? HUGE_VALF : y;
}

static inline float tg_expm1_f(float u) {
    float k;
    uint32_t n;
    float m = tg_reduce_f(u, &k, &n);
    float s = tg_f32((n + 127) << 23);
    return s * m + (s - 1.0f);
}

static inline float tg_sigmoid_f(float x) {
    float ax = fabsf(x);
    ax = ax > 87.0f ? 87.0f : ax;
    float e = tg_exp_f(-ax);
    return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

static inline float tg_tanh_f(float x) {
    float u = 2.0f * fabsf(x);
    u = u > 20.0f ? 20.0f : u;
    float e = tg_expm1_f(u);
    return copysignf(e / (e + 2.0f), x);
}

/* The array functions: y[i] = f(x[i]) for i < n; y may be x (in place), otherwise they must not overlap. */
#define TG_ARRAY(name, T, f)                                                    \
    TG_ARRAY_FN void name(ptrdiff_t n, const T* x, T* y) {                      \
        TG_IVDEP                                                                \
        for (ptrdiff_t i = 0; i < n; i++) y[i] = f(x[i]);                       \
    }
TG_ARRAY(tg_exp_array_d, double, tg_exp_d)
TG_ARRAY(tg_exp_array_f, float, tg_exp_f)
TG_ARRAY(tg_sigmoid_array_d, double, tg_sigmoid_d)
TG_ARRAY(tg_sigmoid_array_f, float, tg_sigmoid_f)
TG_ARRAY(tg_tanh_array_d, double, tg_tanh_d)
TG_ARRAY(tg_tanh_array_f, float, tg_tanh_f)
#undef TG_ARRAY

/* Which clone the loader picks on this CPU (the test GCC's resolver makes), for tests and benchmarks. */
static inline const char* tg_fastmath_isa(void) {
#ifdef TG_CLONES
    __builtin_cpu_init();
    if (__builtin_cpu_supports(TG_ISA_HIGH)) return TG_ISA_HIGH;
    if (__builtin_cpu_supports(TG_ISA_MID)) return TG_ISA_MID;
    return "baseline";
#else
    return "portable";
#endif
}

#endif
