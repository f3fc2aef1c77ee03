/* Log-softmax over each row and its cross-entropy gradient, for nn/losses.py's CrossEntropy (rows.pyx): NumPy's
 * reductions along a short last axis (a char-LM's 65 classes) cost more than the arithmetic, 0.1 ms of the loss's
 * 0.36 per step at 800 rows. Each row in three short loops: the max, e = exp(x − m) into the output (fastmath.h's
 * exp, vectorized), their sum, then out = (x − m) − log Σ. A NaN in the row makes Σ NaN, so the whole row NaN, as
 * NumPy's NaN max does (whichever value the max picked). Compiled per CPU as
 * fastmath.h's array loops are. */
#ifndef TINYGRAD_RNN_SOFTMAX_ROWS_H
#define TINYGRAD_RNN_SOFTMAX_ROWS_H

#include "fastmath.h"

#define TG_LANES 16 /* the max and the sum in 16 lanes (j mod 16), combined at the end: one chain of adds per row
                     * was 4 cycles an element, most of the loss's time */
#define TG_DEFINE_LOG_SOFTMAX(NAME, T, EXP, LOG)                                                                \
    TG_ARRAY_FN void NAME(ptrdiff_t n, ptrdiff_t c, const T* x, T* out) {                                      \
        for (ptrdiff_t r = 0; r < n; r++) {                                                                     \
            const T* xr = x + r * c;                                                                            \
            T* o = out + r * c;                                                                                 \
            T lane[TG_LANES];                                                                                   \
            ptrdiff_t j0 = 0;                                                                                   \
            for (int i = 0; i < TG_LANES; i++) lane[i] = -(T)INFINITY;                                          \
            for (; j0 + TG_LANES <= c; j0 += TG_LANES)                                                          \
                for (int i = 0; i < TG_LANES; i++)                                                              \
                    lane[i] = xr[j0 + i] > lane[i] ? xr[j0 + i] : lane[i];                                      \
            for (ptrdiff_t j = j0; j < c; j++)                                                                  \
                lane[0] = xr[j] > lane[0] ? xr[j] : lane[0];                                                    \
            T m = lane[0];                                                                                      \
            for (int i = 1; i < TG_LANES; i++) m = lane[i] > m ? lane[i] : m;                                   \
            if (m == -(T)INFINITY)                                                                              \
                m = 0; /* every entry −inf: NumPy's x − max is NaN there too, as is x − 0 − log 0 = −inf + inf */ \
            TG_IVDEP for (ptrdiff_t j = 0; j < c; j++) o[j] = EXP(xr[j] - m);                                  \
            for (int i = 0; i < TG_LANES; i++) lane[i] = 0;                                                     \
            for (j0 = 0; j0 + TG_LANES <= c; j0 += TG_LANES)                                                    \
                for (int i = 0; i < TG_LANES; i++) lane[i] += o[j0 + i];                                        \
            for (ptrdiff_t j = j0; j < c; j++) lane[j - j0] += o[j];                                            \
            T s = 0;                                                                                            \
            for (int i = 0; i < TG_LANES; i++) s += lane[i];                                                    \
            T lse = LOG(s);                                                                                     \
            TG_IVDEP for (ptrdiff_t j = 0; j < c; j++) o[j] = (xr[j] - m) - lse;                               \
        }                                                                                                       \
    }
TG_DEFINE_LOG_SOFTMAX(tg_log_softmax_rows_f, float, tg_exp_f, logf)
TG_DEFINE_LOG_SOFTMAX(tg_log_softmax_rows_d, double, tg_exp_d, log)

/* grad[r, j] = exp(lp[r, j])·coef[r], minus coef[r] at j = target[r]: softmax − onehot, scaled per row */
#define TG_DEFINE_CE_GRAD(NAME, T, EXP)                                                                         \
    TG_ARRAY_FN void NAME(ptrdiff_t n, ptrdiff_t c, const T* lp, const T* coef, const ptrdiff_t* target, T* grad) { \
        for (ptrdiff_t r = 0; r < n; r++) {                                                                     \
            const T* l = lp + r * c;                                                                            \
            T* g = grad + r * c;                                                                                \
            T k = coef[r];                                                                                      \
            TG_IVDEP for (ptrdiff_t j = 0; j < c; j++) g[j] = EXP(l[j]) * k;                                   \
            g[target[r]] -= k;                                                                                  \
        }                                                                                                       \
    }
TG_DEFINE_CE_GRAD(tg_ce_grad_rows_f, float, tg_exp_f)
TG_DEFINE_CE_GRAD(tg_ce_grad_rows_d, double, tg_exp_d)

#endif
