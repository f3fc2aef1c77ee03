/* One Adam update of a parameter array in one pass (optim_steps.pyx), for torch.optim.Adam's single-tensor formula
 * as optim/optimizers.py writes it in NumPy: every operation rounded as NumPy rounds it (the scalars rounded to the
 * array's type first, as NumPy 2 does with Python floats), and no multiply-add contracted into an FMA, so the
 * result is bitwise NumPy's (tests/core/test_adam_kernel.py). NumPy needs about ten passes and as many temporary
 * arrays; a char-LM step's Adam took 0.5 ms of 8.
 *   decoupled: p ← p·(1 − lr·wd); else g ← g + wd·p (wd ≠ 0)
 *   m ← m + w·(g − m) (w = 1 − β₁ < 0.5; else g − (g − m)·(1 − w)); v ← v·β₂ + ((1 − β₂)·g)·g
 *   u = v, or with amsgrad vmax ← max(vmax, v) (NaN kept, as np.maximum); p ← p − (step_size·m) / (√u / bc₂ + eps)
 */
#ifndef TINYGRAD_RNN_ADAM_STEP_H
#define TINYGRAD_RNN_ADAM_STEP_H

#include <math.h>
#include <stddef.h>

#include "fastmath.h"      /* TG_ARRAY_FN: one clone per CPU level (AVX-512, AVX2, baseline) */

/* setup.py compiles optim_steps.pyx with -ffp-contract=off (no a·b + c fused into one rounding: NumPy rounds
 * each) and -fno-math-errno (sqrt then needs no libm call, so the loop vectorizes; its value is the same). */
#if defined(__GNUC__)
#define TG_ADAM_WORKER static inline __attribute__((always_inline))
#else
#define TG_ADAM_WORKER static inline
#endif

#define TG_ADAM_STEP(T, S, SQRT)                                                                                 \
TG_ADAM_WORKER void tg_adam_w_##S(const int wd_mode, const int small_w, const int ams, ptrdiff_t n,               \
                                  T* restrict p, const T* restrict grad, T* restrict m, T* restrict v,            \
                                  T* restrict vmax, T wd, T decay, T w, T one_minus_w, T beta2,                   \
                                  T one_minus_beta2, T step_size, T bc2, T eps) {                                 \
    for (ptrdiff_t i = 0; i < n; i++) {                                                                           \
        T g = grad[i], pi = p[i];                                                                                 \
        if (wd_mode == 2)                         /* decoupled */                                               \
            pi = pi * decay;                                                                                      \
        else if (wd_mode == 1) {                  /* into the gradient */                                       \
            T t = wd * pi;                                                                                        \
            g = g + t;                                                                                            \
        }                                                                                                         \
        T mi = m[i], d = g - mi;                                                                                  \
        if (small_w) {                                                                                            \
            d = w * d;                                                                                            \
            mi = mi + d;                                                                                          \
        } else {                                                                                                  \
            d = d * one_minus_w;                                                                                  \
            mi = g - d;                                                                                           \
        }                                                                                                         \
        T vi = v[i] * beta2;                                                                                      \
        T gg = one_minus_beta2 * g;                                                                               \
        gg = gg * g;                                                                                              \
        vi = vi + gg;                                                                                             \
        m[i] = mi;                                                                                                \
        v[i] = vi;                                                                                                \
        T u = vi;                                                                                                 \
        if (ams) {                                                                                                \
            T a = vmax[i];                                                                                        \
            u = (a >= vi || a != a) ? a : vi;                                                                     \
            vmax[i] = u;                                                                                          \
        }                                                                                                         \
        T den = SQRT(u) / bc2;                                                                                    \
        den = den + eps;                                                                                          \
        T num = step_size * mi;                                                                                   \
        p[i] = pi - num / den;                                                                                    \
    }                                                                                                             \
}                                                                                                                 \
/* wd_mode: 0 none, 1 added to the gradient, 2 decoupled; vmax NULL: no amsgrad. No two arrays may overlap. */     \
TG_ARRAY_FN void tg_adam_step_##S(ptrdiff_t n, T* p, const T* grad, T* m, T* v, T* vmax, int wd_mode, T wd,       \
                                  T decay, T w, T one_minus_w, int small_w, T beta2, T one_minus_beta2,           \
                                  T step_size, T bc2, T eps) {                                                    \
    for (int mode = 0; mode < 3; mode++)                                                                          \
        if (mode == wd_mode) {                                                                                    \
            if (small_w && vmax == NULL)                                                                          \
                tg_adam_w_##S(mode, 1, 0, n, p, grad, m, v, vmax, wd, decay, w, one_minus_w, beta2,              \
                              one_minus_beta2, step_size, bc2, eps);                                              \
            else if (small_w)                                                                                     \
                tg_adam_w_##S(mode, 1, 1, n, p, grad, m, v, vmax, wd, decay, w, one_minus_w, beta2,              \
                              one_minus_beta2, step_size, bc2, eps);                                              \
            else if (vmax == NULL)                                                                                \
                tg_adam_w_##S(mode, 0, 0, n, p, grad, m, v, vmax, wd, decay, w, one_minus_w, beta2,              \
                              one_minus_beta2, step_size, bc2, eps);                                              \
            else                                                                                                  \
                tg_adam_w_##S(mode, 0, 1, n, p, grad, m, v, vmax, wd, decay, w, one_minus_w, beta2,              \
                              one_minus_beta2, step_size, bc2, eps);                                              \
        }                                                                                                         \
}
TG_ADAM_STEP(float, f, sqrtf)
TG_ADAM_STEP(double, d, sqrt)
#undef TG_ADAM_STEP

/* Two cores: a parameter of at least TG_ADAM_PARALLEL elements is cut into one run per OpenMP thread (the limit read
 * at every call, so threadpoolctl's threadpool_limits(1) gives one), each run a whole number of 64-element blocks
 * (two threads share a cache line at most at a run's edge, when NumPy's 16-byte alignment does not line the array
 * up with one). Every element's arithmetic is the same at any thread count, so the result
 * is bitwise the one-thread update. Below the threshold (about 10 µs of work) a second thread costs more to wake
 * than it takes off. A char-LM step's Adam: benchmarks/ and the README hold the numbers. */
#ifdef _OPENMP
#include <omp.h>
#endif
#define TG_ADAM_PARALLEL 16384
#define TG_ADAM_BLOCK 64

static inline int tg_adam_threads(ptrdiff_t n) {
#ifdef _OPENMP
    if (n < TG_ADAM_PARALLEL)
        return 1;
    int t = omp_get_max_threads();
    ptrdiff_t blocks = (n + TG_ADAM_BLOCK - 1) / TG_ADAM_BLOCK;
    return t < 1 ? 1 : (t > blocks ? (int)blocks : t);
#else
    (void)n;
    return 1;
#endif
}

#define TG_ADAM_SPLIT(T, S)                                                                                      \
static void tg_adam_steps_##S(ptrdiff_t n, T* p, const T* grad, T* m, T* v, T* vmax, int wd_mode, T wd, T decay, \
                              T w, T one_minus_w, int small_w, T beta2, T one_minus_beta2, T step_size, T bc2,    \
                              T eps) {                                                                            \
    int nt = tg_adam_threads(n);                                                                                  \
    if (nt == 1) {                                                                                                \
        tg_adam_step_##S(n, p, grad, m, v, vmax, wd_mode, wd, decay, w, one_minus_w, small_w, beta2,             \
                         one_minus_beta2, step_size, bc2, eps);                                                   \
        return;                                                                                                   \
    }                                                                                                             \
    ptrdiff_t blocks = (n + TG_ADAM_BLOCK - 1) / TG_ADAM_BLOCK, run = (blocks + nt - 1) / nt * TG_ADAM_BLOCK;     \
    _Pragma("omp parallel for num_threads(nt) schedule(static)")                                                  \
    for (int k = 0; k < nt; k++) {                                                                                \
        ptrdiff_t lo = k * run, len = n - lo < run ? n - lo : run;                                                \
        if (len > 0)                                                                                              \
            tg_adam_step_##S(len, p + lo, grad + lo, m + lo, v + lo, vmax == NULL ? NULL : vmax + lo, wd_mode,   \
                             wd, decay, w, one_minus_w, small_w, beta2, one_minus_beta2, step_size, bc2, eps);    \
    }                                                                                                             \
}
TG_ADAM_SPLIT(float, f)
TG_ADAM_SPLIT(double, d)
#undef TG_ADAM_SPLIT

#endif
