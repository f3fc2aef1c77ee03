/* The LSTM and GRU sequence kernels' loops over time on several threads, in one OpenMP region for the whole sequence
 * (sequence.pyx calls these when the recurrent product is big enough to split and more than one thread is
 * allowed; otherwise its own one-thread loop runs).
 *
 * Why: splitting only the per-step product (skinny.h's tg_panels_*) forks the threads at every step and leaves the
 * gate loops on one core; at B = 16, H = 128 the gates were as long as a thread's half of the product. Here the
 * threads live for the whole sequence; each step, thread q computes its share of the product's panels (columns),
 * waits for the others (a barrier), then runs the gate loops for its rows of the batch, and waits again before the
 * next step reads h. Every element is computed by the same code in the same order as on one thread, so the
 * results are bitwise the same at any thread count (tests/fused/test_sequence_threads.py). The GRU's loop is the
 * same with its own step (reset-after: hp = b_hh + h·W_hhᵀ, then the gates; backward: the gates' loop, then
 * dh_prev += dhp·W_hh).
 *
 * `keep` (T, B) or NULL: 0 where a sequence has ended (the state is carried, the output is 0, the gradient passes
 * the step by), as sequence.pyx's loops do.
 */
#ifndef TINYGRAD_RNN_SEQUENCE_THREADS_H
#define TINYGRAD_RNN_SEQUENCE_THREADS_H

#include "gate_loops.h"
#include "skinny.h"
#include "sums.h"

#ifdef _OPENMP
#define TG_THREAD_ID() omp_get_thread_num()
#define TG_THREAD_COUNT() omp_get_num_threads()
#define TG_BARRIER() _Pragma("omp barrier")
#else
#define TG_THREAD_ID() 0
#define TG_THREAD_COUNT() 1
#define TG_BARRIER()
#endif

/* The per-row steps both cells' loops share, on a thread's rows [b0, b1) of (B, H) blocks; keep_t NULL: every row
 * counts. */
#define TG_ROW_STEPS(T_, S)                                                                                        \
static inline void tg_rows_or_zero_##S(ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t H, const T_* src, T_* dst) {          \
    for (ptrdiff_t i = b0 * H; i < b1 * H; i++) dst[i] = src ? src[i] : (T_)0;                                     \
}                                                                                                                  \
/* new ← old where the sequence has ended (the state carried), y ← h where it counts and 0 where it has ended */    \
static inline void tg_carry_ended_rows_##S(ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t H, const T_* keep_t, T_* new_,    \
                                           const T_* old) {                                                        \
    for (ptrdiff_t b = b0; b < b1; b++)                                                                            \
        if (keep_t && keep_t[b] == 0) memcpy(new_ + b * H, old + b * H, sizeof(T_) * (size_t)H);                  \
}                                                                                                                  \
static inline void tg_output_rows_##S(ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t H, const T_* keep_t, const T_* h,      \
                                      T_* y) {                                                                     \
    for (ptrdiff_t b = b0; b < b1; b++) {                                                                          \
        if (keep_t && keep_t[b] == 0) memset(y + b * H, 0, sizeof(T_) * (size_t)H);                                \
        else memcpy(y + b * H, h + b * H, sizeof(T_) * (size_t)H);                                                 \
    }                                                                                                              \
}                                                                                                                  \
/* what the step's backward gets: the carried gradient plus dy_t (NULL: none), 0 where the step did not count */    \
static inline void tg_step_grad_rows_##S(ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t H, const T_* keep_t,                \
                                         const T_* carried, const T_* dy_t, T_* out) {                             \
    for (ptrdiff_t b = b0; b < b1; b++) {                                                                          \
        if (keep_t && keep_t[b] == 0) memset(out + b * H, 0, sizeof(T_) * (size_t)H);                              \
        else if (dy_t) tg_add_arrays_##S(H, carried + b * H, dy_t + b * H, out + b * H); /* (a per-CPU build) */    \
        else memcpy(out + b * H, carried + b * H, sizeof(T_) * (size_t)H);                                         \
    }                                                                                                              \
}                                                                                                                  \
/* new += carried where the sequence has ended: the gradient passes the step by */                                 \
static inline void tg_pass_ended_rows_##S(ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t H, const T_* keep_t, T_* new_,     \
                                          const T_* carried) {                                                     \
    for (ptrdiff_t b = b0; b < b1; b++)                                                                            \
        if (keep_t && keep_t[b] == 0)                                                                              \
            for (ptrdiff_t j = b * H; j < (b + 1) * H; j++) new_[j] = new_[j] + carried[j];                        \
}
TG_ROW_STEPS(float, f)
TG_ROW_STEPS(double, d)
#undef TG_ROW_STEPS

/* Thread q of Q's share of a region's work: panels [p0, p1) of the product's columns, batch rows [b0, b1). */
#define TG_SHARE(panels, B)                                                                                        \
    ptrdiff_t q = TG_THREAD_ID(), Q = TG_THREAD_COUNT();                                                           \
    ptrdiff_t p0 = (panels) * q / Q, p1 = (panels) * (q + 1) / Q, b0 = (B) * q / Q, b1 = (B) * (q + 1) / Q;

#define TG_LSTM_THREADS(T_, S, NR, KERN_T)                                                                        \
/* gates, cs, hs, ys (T, B, ·) written; pk: W_hhᵀ's panels (K = H, N = 4H) */                                      \
static void tg_lstm_threads_forward_##S(int nt, KERN_T kern, int hard, int reverse, ptrdiff_t T, ptrdiff_t B,      \
                                        ptrdiff_t H, const T_* xp, const T_* h0, const T_* c0, const T_* pk,       \
                                        const T_* keep, T_* gates, T_* cs, T_* hs, T_* ys) {                       \
    ptrdiff_t N = 4 * H, n = B * H, panels = (N + NR - 1) / NR;                                                    \
    _Pragma("omp parallel num_threads(nt)")                                                                        \
    {                                                                                                              \
        TG_SHARE(panels, B)                                                                                        \
        ptrdiff_t j0 = p0 * NR, j1 = p1 * NR < N ? p1 * NR : N;                                                    \
        const T_* h_prev = h0;                                                                                     \
        const T_* c_prev = c0;                                                                                     \
        for (ptrdiff_t k = 0; k < T; k++) {                                                                        \
            ptrdiff_t t = reverse ? T - 1 - k : k;                                                                 \
            T_* z = gates + t * 4 * n;                                                                             \
            T_* c = cs + t * n;                                                                                    \
            T_* h = hs + t * n;                                                                                    \
            T_* y = ys + t * n;                                                                                    \
            const T_* keep_t = keep ? keep + t * B : NULL;                                                         \
            if (j1 > j0) {                                                                                         \
                for (ptrdiff_t b = 0; b < B; b++)                                                                  \
                    memcpy(z + b * N + j0, xp + t * 4 * n + b * N + j0, sizeof(T_) * (size_t)(j1 - j0));           \
                kern(B, j1 - j0, H, h_prev, H, 1, pk + p0 * H * NR, 1, z + j0, N, NULL);                            \
            }                                                                                                      \
            TG_BARRIER()                                                                                           \
            if (b1 > b0) {                                                                                         \
                tg_lstm_forward_##S(hard, b1 - b0, H, z + b0 * N, c_prev + b0 * H, z + b0 * N, c + b0 * H,         \
                                    h + b0 * H);                                                                   \
                tg_carry_ended_rows_##S(b0, b1, H, keep_t, c, c_prev);                                             \
                tg_carry_ended_rows_##S(b0, b1, H, keep_t, h, h_prev);                                             \
                tg_output_rows_##S(b0, b1, H, keep_t, h, y);                                                       \
            }                                                                                                      \
            TG_BARRIER()                                                                                           \
            h_prev = h;                                                                                            \
            c_prev = c;                                                                                            \
        }                                                                                                          \
    }                                                                                                              \
}                                                                                                                  \
                                                                                                                   \
/* dz (T, B, 4H), dh0, dc0 written; pk: W_hh's panels (K = 4H, N = H); work: 6·B·H (dh, dc, dh_new, dc_new, gh,     \
 * gc); dys, dh_n, dc_n, dcs (T, B, H: ∂L/∂c_t of the forward's cs) NULL: zero */                                   \
static void tg_lstm_threads_backward_##S(int nt, KERN_T kern, int hard, int reverse, ptrdiff_t T, ptrdiff_t B,     \
                                         ptrdiff_t H, const T_* gates, const T_* cs, const T_* c0, const T_* pk,   \
                                         const T_* keep, const T_* dys, const T_* dh_n, const T_* dc_n,            \
                                         const T_* dcs, T_* dz, T_* dh0, T_* dc0, T_* work) {                      \
    ptrdiff_t n = B * H, panels = (H + NR - 1) / NR;                                                               \
    _Pragma("omp parallel num_threads(nt)")                                                                        \
    {                                                                                                              \
        TG_SHARE(panels, B)                                                                                        \
        ptrdiff_t j0 = p0 * NR, j1 = p1 * NR < H ? p1 * NR : H, rows = b1 - b0;                                     \
        T_* dh = work;                                                                                             \
        T_* dc = dh + n;                                                                                           \
        T_* dh_new = dc + n;                                                                                       \
        T_* dc_new = dh_new + n;                                                                                   \
        T_* gh = dc_new + n;                                                                                       \
        T_* gc = gh + n;                                                                                           \
        tg_rows_or_zero_##S(b0, b1, H, dh_n, dh);                                                                  \
        tg_rows_or_zero_##S(b0, b1, H, dc_n, dc);                                                                  \
        for (ptrdiff_t k = T - 1; k >= 0; k--) {                                                                   \
            ptrdiff_t t = reverse ? T - 1 - k : k;                                                                 \
            const T_* c_prev = k == 0 ? c0 : cs + (reverse ? T - k : k - 1) * n;                                   \
            const T_* keep_t = keep ? keep + t * B : NULL;                                                         \
            const T_* dy_t = dys ? dys + t * n : NULL;                                                             \
            T_* dz_t = dz + t * 4 * n;                                                                             \
            if (dcs && rows > 0) /* c_t's own gradient, on every row (it passes an ended step by with the rest) */ \
                tg_add_arrays_##S(rows * H, dc + b0 * H, dcs + t * n + b0 * H, dc + b0 * H);                       \
            tg_step_grad_rows_##S(b0, b1, H, keep_t, dh, dy_t, gh);                                                \
            tg_step_grad_rows_##S(b0, b1, H, keep_t, dc, NULL, gc);                                                \
            if (rows > 0)                                                                                          \
                tg_lstm_backward_##S(hard, rows, H, gates + t * 4 * n + b0 * 4 * H, c_prev + b0 * H,               \
                                     cs + t * n + b0 * H, gh + b0 * H, gc + b0 * H, dz_t + b0 * 4 * H,             \
                                     dc_new + b0 * H);                                                             \
            TG_BARRIER()                                                                                           \
            if (j1 > j0)                                                                                           \
                kern(B, j1 - j0, 4 * H, dz_t, 4 * H, 1, pk + p0 * 4 * H * NR, 0, dh_new + j0, H, NULL);             \
            TG_BARRIER()                                                                                           \
            tg_pass_ended_rows_##S(b0, b1, H, keep_t, dh_new, dh);                                                 \
            tg_pass_ended_rows_##S(b0, b1, H, keep_t, dc_new, dc);                                                 \
            T_* swap = dh; dh = dh_new; dh_new = swap;                                                             \
            swap = dc; dc = dc_new; dc_new = swap;                                                                 \
        }                                                                                                          \
        if (rows > 0) {                                                                                            \
            memcpy(dh0 + b0 * H, dh + b0 * H, sizeof(T_) * (size_t)(rows * H));                                   \
            memcpy(dc0 + b0 * H, dc + b0 * H, sizeof(T_) * (size_t)(rows * H));                                    \
        }                                                                                                          \
    }                                                                                                              \
}

TG_LSTM_THREADS(float, f, TG_NR_F, tg_gemm_f_t)
TG_LSTM_THREADS(double, d, TG_NR_D, tg_gemm_d_t)
#undef TG_LSTM_THREADS

#define TG_GRU_THREADS(T_, S, NR, KERN_T)                                                                         \
/* hp, gates (T, B, 3H), hs, ys (T, B, H) written; pk: W_hhᵀ's panels (K = H, N = 3H); b_hh NULL: no bias */        \
static void tg_gru_threads_forward_##S(int nt, KERN_T kern, int hard, int reverse, ptrdiff_t T, ptrdiff_t B,       \
                                       ptrdiff_t H, const T_* xp, const T_* h0, const T_* b_hh, const T_* pk,      \
                                       const T_* keep, T_* hps, T_* gates, T_* hs, T_* ys) {                       \
    ptrdiff_t N = 3 * H, n = B * H, panels = (N + NR - 1) / NR;                                                    \
    _Pragma("omp parallel num_threads(nt)")                                                                        \
    {                                                                                                              \
        TG_SHARE(panels, B)                                                                                        \
        ptrdiff_t j0 = p0 * NR, j1 = p1 * NR < N ? p1 * NR : N;                                                    \
        const T_* h_prev = h0;                                                                                     \
        for (ptrdiff_t k = 0; k < T; k++) {                                                                        \
            ptrdiff_t t = reverse ? T - 1 - k : k;                                                                 \
            T_* hp = hps + t * 3 * n;                                                                              \
            T_* h = hs + t * n;                                                                                    \
            T_* y = ys + t * n;                                                                                    \
            const T_* keep_t = keep ? keep + t * B : NULL;                                                         \
            if (j1 > j0) /* hp = h_prev @ W_hhᵀ + b_hh, b_hh added as the sums are stored */                     \
                kern(B, j1 - j0, H, h_prev, H, 1, pk + p0 * H * NR, 0, hp + j0, N, b_hh ? b_hh + j0 : NULL);        \
            TG_BARRIER()                                                                                           \
            if (b1 > b0) {                                                                                         \
                tg_gru_forward_##S(hard, b1 - b0, H, xp + t * 3 * n + b0 * N, hp + b0 * N, h_prev + b0 * H,        \
                                   gates + t * 3 * n + b0 * N, h + b0 * H);                                        \
                tg_carry_ended_rows_##S(b0, b1, H, keep_t, h, h_prev);                                             \
                tg_output_rows_##S(b0, b1, H, keep_t, h, y);                                                       \
            }                                                                                                      \
            TG_BARRIER()                                                                                           \
            h_prev = h;                                                                                            \
        }                                                                                                          \
    }                                                                                                              \
}                                                                                                                  \
                                                                                                                   \
/* dxp, dhp (T, B, 3H), dh0 written; pk: W_hh's panels (K = 3H, N = H); work: 3·B·H (dh, dh_new, g); dys, dh_n      \
 * NULL: zero */                                                                                                   \
static void tg_gru_threads_backward_##S(int nt, KERN_T kern, int hard, int reverse, ptrdiff_t T, ptrdiff_t B,      \
                                        ptrdiff_t H, const T_* gates, const T_* hps, const T_* hs, const T_* h0,   \
                                        const T_* pk, const T_* keep, const T_* dys, const T_* dh_n, T_* dxp,      \
                                        T_* dhps, T_* dh0, T_* work) {                                             \
    ptrdiff_t n = B * H, panels = (H + NR - 1) / NR;                                                               \
    _Pragma("omp parallel num_threads(nt)")                                                                        \
    {                                                                                                              \
        TG_SHARE(panels, B)                                                                                        \
        ptrdiff_t j0 = p0 * NR, j1 = p1 * NR < H ? p1 * NR : H, rows = b1 - b0;                                     \
        T_* dh = work;                                                                                             \
        T_* dh_new = dh + n;                                                                                       \
        T_* g = dh_new + n;                                                                                        \
        tg_rows_or_zero_##S(b0, b1, H, dh_n, dh);                                                                  \
        for (ptrdiff_t k = T - 1; k >= 0; k--) {                                                                   \
            ptrdiff_t t = reverse ? T - 1 - k : k;                                                                 \
            const T_* h_prev = k == 0 ? h0 : hs + (reverse ? T - k : k - 1) * n;                                   \
            const T_* keep_t = keep ? keep + t * B : NULL;                                                         \
            const T_* dy_t = dys ? dys + t * n : NULL;                                                             \
            T_* dhp = dhps + t * 3 * n;                                                                            \
            tg_step_grad_rows_##S(b0, b1, H, keep_t, dh, dy_t, g);                                                 \
            if (rows > 0)                                                                                          \
                tg_gru_backward_##S(hard, rows, H, gates + t * 3 * n + b0 * 3 * H, hps + t * 3 * n + b0 * 3 * H,   \
                                    h_prev + b0 * H, g + b0 * H, dxp + t * 3 * n + b0 * 3 * H, dhp + b0 * 3 * H,   \
                                    dh_new + b0 * H);                                                              \
            TG_BARRIER()                                                                                           \
            if (j1 > j0)                    /* dh_prev = dh⊙z (the gates' loop) + dhp @ W_hh */                    \
                kern(B, j1 - j0, 3 * H, dhp, 3 * H, 1, pk + p0 * 3 * H * NR, 1, dh_new + j0, H, NULL);              \
            TG_BARRIER()                                                                                           \
            tg_pass_ended_rows_##S(b0, b1, H, keep_t, dh_new, dh);                                                 \
            T_* swap = dh; dh = dh_new; dh_new = swap;                                                             \
        }                                                                                                          \
        if (rows > 0)                                                                                              \
            memcpy(dh0 + b0 * H, dh + b0 * H, sizeof(T_) * (size_t)(rows * H));                                   \
    }                                                                                                              \
}

TG_GRU_THREADS(float, f, TG_NR_F, tg_gemm_f_t)
TG_GRU_THREADS(double, d, TG_NR_D, tg_gemm_d_t)
#undef TG_GRU_THREADS

#endif
