/* The gate loops of the LSTM, peephole LSTM and GRU steps (_gate_loops.pxd declares and documents them), one pass
 * per row: each unit's activations, elementwise formulas and outputs in a single loop over j.
 *
 * Why C and not Cython: the wheel is built for baseline x86-64 (no -march=native), so the gate loops Cython
 * compiled ran on 4-wide SSE2, in six passes per row, at 2–4 ns a unit; here each loop is compiled three times
 * (AVX-512, AVX2 + FMA, baseline) by fastmath.h's function multi-versioning and the loader picks one per CPU.
 * The formulas keep the Cython loops' order of operations; a clone with FMA may contract a·b + c (last-bit
 * differences against the baseline clone, the same in every kernel that calls these loops).
 *
 * Gate order i, f, g, o (LSTM) and r, z, n (GRU). `hard` selects hard_sigmoid gates (Keras: clip(0.2·x + 0.5, 0,
 * 1), derivative 0.2 strictly inside (0, 1)) instead of σ. A unit touches index j of each (B, H) block only, so z may
 * be gates (forward), c may be c_prev and dc_prev may be dc; the backward outputs must not overlap gates.
 * dh or dc NULL: zero (a missing gradient).
 */
#ifndef TINYGRAD_RNN_GATE_LOOPS_H
#define TINYGRAD_RNN_GATE_LOOPS_H

#include "fastmath.h"

static inline float tg_hard_sigmoid_f(float x) {
    float y = x * 0.2f + 0.5f;
    return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
}
static inline double tg_hard_sigmoid_d(double x) {
    double y = x * 0.2 + 0.5;
    return y < 0.0 ? 0.0 : (y > 1.0 ? 1.0 : y);
}

/* The workers must be inlined into each clone: a worker GCC keeps out of line is compiled for the baseline only
 * (it was: the forward ran at 10 ns a unit) */
#if defined(__GNUC__)
#define TG_WORKER static inline __attribute__((always_inline))
#else
#define TG_WORKER static inline
#endif

/* hard is a literal at every use (the workers below are inlined with constant flags), so each loop is branch-free */
#define TG_GATE(T, S, hard, x) ((hard) ? tg_hard_sigmoid_##S(x) : tg_sigmoid_##S(x))
#define TG_GATE_GRAD(T, hard, y) ((hard) ? ((y) > (T)0 && (y) < (T)1 ? (T)0.2 : (T)0) : (y) * ((T)1 - (y)))

/* A worker called with its runtime flags as literals, one call per combination, so that each inlined copy of its
 * loop is branch-free (hard: hard_sigmoid gates; dh_, dc_: whether those gradients are given). */
#define TG_BY_HARD(W, hard, ...)                                                                                    \
    if (hard) W(1, __VA_ARGS__); else W(0, __VA_ARGS__);
#define TG_BY_DH(W, hard, dh_, ...)                                                                                 \
    if (dh_) W(hard, 1, __VA_ARGS__); else W(hard, 0, __VA_ARGS__);
#define TG_BY_DH_DC(W, hard, dh_, dc_, ...)                                                                         \
    if (dh_ && dc_) W(hard, 1, 1, __VA_ARGS__);                                                                     \
    else if (dh_) W(hard, 1, 0, __VA_ARGS__);                                                                       \
    else if (dc_) W(hard, 0, 1, __VA_ARGS__);                                                                       \
    else W(hard, 0, 0, __VA_ARGS__);

#define TG_GATE_LOOPS(T, S)                                                                                         \
TG_WORKER void tg_lstm_forward_w_##S(const int hard, ptrdiff_t B, ptrdiff_t H, const T* z, const T* c_prev,         \
                                         T* gates, T* c, T* h) {                                                    \
    for (ptrdiff_t b = 0; b < B; b++) {                                                                             \
        const T* zb = z + b * 4 * H; const T* cp = c_prev + b * H;                                                  \
        T* gb = gates + b * 4 * H; T* cb = c + b * H; T* hb = h + b * H;                                            \
        TG_IVDEP                                                                                                    \
        for (ptrdiff_t j = 0; j < H; j++) {                                                                         \
            T i = TG_GATE(T, S, hard, zb[j]), f = TG_GATE(T, S, hard, zb[H + j]);                                   \
            T g = tg_tanh_##S(zb[2 * H + j]), o = TG_GATE(T, S, hard, zb[3 * H + j]);                               \
            T cc = f * cp[j] + i * g;                                                                               \
            gb[j] = i; gb[H + j] = f; gb[2 * H + j] = g; gb[3 * H + j] = o;                                         \
            cb[j] = cc;                                                                                             \
            hb[j] = o * tg_tanh_##S(cc);                                                                            \
        }                                                                                                           \
    }                                                                                                               \
}                                                                                                                   \
TG_ARRAY_FN void tg_lstm_forward_##S(int hard, ptrdiff_t B, ptrdiff_t H, const T* z, const T* c_prev, T* gates,     \
                                     T* c, T* h) {                                                                  \
    TG_BY_HARD(tg_lstm_forward_w_##S, hard, B, H, z, c_prev, gates, c, h)                                           \
}                                                                                                                   \
                                                                                                                    \
TG_WORKER void tg_lstm_backward_w_##S(const int hard, const int has_dh, const int has_dc, ptrdiff_t B,              \
                                          ptrdiff_t H, const T* gates, const T* c_prev, const T* c, const T* dh,    \
                                          const T* dc, T* dz, T* dc_prev) {                                         \
    for (ptrdiff_t b = 0; b < B; b++) {                                                                             \
        const T* gb = gates + b * 4 * H; const T* cp = c_prev + b * H; const T* cb = c + b * H;                     \
        const T* dhb = has_dh ? dh + b * H : NULL; const T* dcb = has_dc ? dc + b * H : NULL;                       \
        T* dzb = dz + b * 4 * H; T* dcp = dc_prev + b * H;                                                          \
        TG_IVDEP                                                                                                    \
        for (ptrdiff_t j = 0; j < H; j++) {                                                                         \
            T i = gb[j], f = gb[H + j], g = gb[2 * H + j], o = gb[3 * H + j];                                       \
            T tc = tg_tanh_##S(cb[j]);                                                                              \
            T dhj = has_dh ? dhb[j] : (T)0, dcj = has_dc ? dcb[j] : (T)0;                                           \
            T dct = dcj + dhj * o * ((T)1 - tc * tc);                                                               \
            dzb[j] = dct * g * TG_GATE_GRAD(T, hard, i);                                                            \
            dzb[H + j] = dct * cp[j] * TG_GATE_GRAD(T, hard, f);                                                    \
            dzb[2 * H + j] = dct * i * ((T)1 - g * g);                                                              \
            dzb[3 * H + j] = dhj * tc * TG_GATE_GRAD(T, hard, o);                                                   \
            dcp[j] = dct * f;                                                                                       \
        }                                                                                                           \
    }                                                                                                               \
}                                                                                                                   \
TG_ARRAY_FN void tg_lstm_backward_##S(int hard, ptrdiff_t B, ptrdiff_t H, const T* gates, const T* c_prev,          \
                                      const T* c, const T* dh, const T* dc, T* dz, T* dc_prev) {                    \
    if (hard) {                                                                                                     \
        TG_BY_DH_DC(tg_lstm_backward_w_##S, 1, dh != NULL, dc != NULL, B, H, gates, c_prev, c, dh, dc, dz, dc_prev) \
    } else {                                                                                                        \
        TG_BY_DH_DC(tg_lstm_backward_w_##S, 0, dh != NULL, dc != NULL, B, H, gates, c_prev, c, dh, dc, dz, dc_prev) \
    }                                                                                                               \
}                                                                                                                   \
                                                                                                                    \
TG_WORKER void tg_peephole_forward_w_##S(const int hard, ptrdiff_t B, ptrdiff_t H, const T* z,                      \
                                             const T* c_prev, const T* w_ci, const T* w_cf, const T* w_co,          \
                                             T* gates, T* c, T* h) {                                                \
    for (ptrdiff_t b = 0; b < B; b++) {                                                                             \
        const T* zb = z + b * 4 * H; const T* cp = c_prev + b * H;                                                  \
        T* gb = gates + b * 4 * H; T* cb = c + b * H; T* hb = h + b * H;                                            \
        TG_IVDEP                                                                                                    \
        for (ptrdiff_t j = 0; j < H; j++) {                                                                         \
            T i = TG_GATE(T, S, hard, zb[j] + w_ci[j] * cp[j]);                                                     \
            T f = TG_GATE(T, S, hard, zb[H + j] + w_cf[j] * cp[j]);                                                 \
            T g = tg_tanh_##S(zb[2 * H + j]), zo = zb[3 * H + j];                                                   \
            T cc = f * cp[j] + i * g;                                                                               \
            T o = TG_GATE(T, S, hard, zo + w_co[j] * cc);                                                           \
            gb[j] = i; gb[H + j] = f; gb[2 * H + j] = g; gb[3 * H + j] = o;                                         \
            cb[j] = cc;                                                                                             \
            hb[j] = o * tg_tanh_##S(cc);                                                                            \
        }                                                                                                           \
    }                                                                                                               \
}                                                                                                                   \
TG_ARRAY_FN void tg_peephole_forward_##S(int hard, ptrdiff_t B, ptrdiff_t H, const T* z, const T* c_prev,           \
                                         const T* w_ci, const T* w_cf, const T* w_co, T* gates, T* c, T* h) {       \
    TG_BY_HARD(tg_peephole_forward_w_##S, hard, B, H, z, c_prev, w_ci, w_cf, w_co, gates, c, h)                     \
}                                                                                                                   \
                                                                                                                    \
TG_WORKER void tg_peephole_backward_w_##S(const int hard, const int has_dh, const int has_dc, ptrdiff_t B,          \
                                              ptrdiff_t H, const T* gates, const T* c_prev, const T* c,             \
                                              const T* w_ci, const T* w_cf, const T* w_co, const T* dh,             \
                                              const T* dc, T* dz, T* dc_prev, T* dw_ci, T* dw_cf, T* dw_co) {       \
    for (ptrdiff_t j = 0; j < H; j++) { dw_ci[j] = 0; dw_cf[j] = 0; dw_co[j] = 0; }                                 \
    for (ptrdiff_t b = 0; b < B; b++) {                                                                             \
        const T* gb = gates + b * 4 * H; const T* cp = c_prev + b * H; const T* cb = c + b * H;                     \
        const T* dhb = has_dh ? dh + b * H : NULL; const T* dcb = has_dc ? dc + b * H : NULL;                       \
        T* dzb = dz + b * 4 * H; T* dcp = dc_prev + b * H;                                                          \
        TG_IVDEP                                                                                                    \
        for (ptrdiff_t j = 0; j < H; j++) {                                                                         \
            T i = gb[j], f = gb[H + j], g = gb[2 * H + j], o = gb[3 * H + j];                                       \
            T tc = tg_tanh_##S(cb[j]);                                                                              \
            T dhj = has_dh ? dhb[j] : (T)0, dcj = has_dc ? dcb[j] : (T)0;                                           \
            T d_o = dhj * tc * TG_GATE_GRAD(T, hard, o);                                                            \
            T dct = dcj + dhj * o * ((T)1 - tc * tc) + d_o * w_co[j];                                               \
            T d_i = dct * g * TG_GATE_GRAD(T, hard, i);                                                             \
            T d_f = dct * cp[j] * TG_GATE_GRAD(T, hard, f);                                                         \
            dzb[j] = d_i; dzb[H + j] = d_f; dzb[3 * H + j] = d_o;                                                   \
            dzb[2 * H + j] = dct * i * ((T)1 - g * g);                                                              \
            dw_ci[j] += d_i * cp[j];                                                                                \
            dw_cf[j] += d_f * cp[j];                                                                                \
            dw_co[j] += d_o * cb[j];                                                                                \
            dcp[j] = dct * f + d_i * w_ci[j] + d_f * w_cf[j];                                                       \
        }                                                                                                           \
    }                                                                                                               \
}                                                                                                                   \
TG_ARRAY_FN void tg_peephole_backward_##S(int hard, ptrdiff_t B, ptrdiff_t H, const T* gates, const T* c_prev,      \
                                          const T* c, const T* w_ci, const T* w_cf, const T* w_co, const T* dh,     \
                                          const T* dc, T* dz, T* dc_prev, T* dw_ci, T* dw_cf, T* dw_co) {           \
    if (hard) {                                                                                                     \
        TG_BY_DH_DC(tg_peephole_backward_w_##S, 1, dh != NULL, dc != NULL, B, H, gates, c_prev, c, w_ci,            \
                    w_cf, w_co, dh, dc, dz, dc_prev, dw_ci, dw_cf, dw_co)                                           \
    } else {                                                                                                        \
        TG_BY_DH_DC(tg_peephole_backward_w_##S, 0, dh != NULL, dc != NULL, B, H, gates, c_prev, c, w_ci,            \
                    w_cf, w_co, dh, dc, dz, dc_prev, dw_ci, dw_cf, dw_co)                                           \
    }                                                                                                               \
}                                                                                                                   \
                                                                                                                    \
TG_WORKER void tg_gru_forward_w_##S(const int hard, ptrdiff_t B, ptrdiff_t H, const T* xp, const T* hp,             \
                                        const T* h_prev, T* gates, T* h) {                                          \
    for (ptrdiff_t b = 0; b < B; b++) {                                                                             \
        const T* xb = xp + b * 3 * H; const T* hpb = hp + b * 3 * H; const T* hprev = h_prev + b * H;               \
        T* gb = gates + b * 3 * H; T* hb = h + b * H;                                                               \
        TG_IVDEP                                                                                                    \
        for (ptrdiff_t j = 0; j < H; j++) {                                                                         \
            T r = TG_GATE(T, S, hard, xb[j] + hpb[j]), zz = TG_GATE(T, S, hard, xb[H + j] + hpb[H + j]);            \
            T n = tg_tanh_##S(xb[2 * H + j] + r * hpb[2 * H + j]);                                                  \
            T hpj = hprev[j];                                                                                       \
            gb[j] = r; gb[H + j] = zz; gb[2 * H + j] = n;                                                           \
            hb[j] = ((T)1 - zz) * n + zz * hpj;                                                                     \
        }                                                                                                           \
    }                                                                                                               \
}                                                                                                                   \
TG_ARRAY_FN void tg_gru_forward_##S(int hard, ptrdiff_t B, ptrdiff_t H, const T* xp, const T* hp,                   \
                                    const T* h_prev, T* gates, T* h) {                                              \
    TG_BY_HARD(tg_gru_forward_w_##S, hard, B, H, xp, hp, h_prev, gates, h)                                          \
}                                                                                                                   \
                                                                                                                    \
TG_WORKER void tg_gru_backward_w_##S(const int hard, const int has_dh, ptrdiff_t B, ptrdiff_t H,                    \
                                         const T* gates, const T* hp, const T* h_prev, const T* dh, T* dxp,         \
                                         T* dhp, T* dh_prev) {                                                      \
    for (ptrdiff_t b = 0; b < B; b++) {                                                                             \
        const T* gb = gates + b * 3 * H; const T* hpb = hp + b * 3 * H; const T* hprev = h_prev + b * H;            \
        const T* dhb = has_dh ? dh + b * H : NULL;                                                                  \
        T* dxb = dxp + b * 3 * H; T* dhpb = dhp + b * 3 * H; T* dhpr = dh_prev + b * H;                             \
        TG_IVDEP                                                                                                    \
        for (ptrdiff_t j = 0; j < H; j++) {                                                                         \
            T r = gb[j], zz = gb[H + j], n = gb[2 * H + j];                                                         \
            T dhj = has_dh ? dhb[j] : (T)0;                                                                         \
            T dn = dhj * ((T)1 - zz) * ((T)1 - n * n);                                                              \
            T dzz = dhj * (hprev[j] - n) * TG_GATE_GRAD(T, hard, zz);                                               \
            T dr = dn * hpb[2 * H + j] * TG_GATE_GRAD(T, hard, r);                                                  \
            dxb[j] = dr; dxb[H + j] = dzz; dxb[2 * H + j] = dn;                                                     \
            dhpb[j] = dr; dhpb[H + j] = dzz; dhpb[2 * H + j] = dn * r;                                              \
            dhpr[j] = dhj * zz;                                                                                     \
        }                                                                                                           \
    }                                                                                                               \
}                                                                                                                   \
TG_ARRAY_FN void tg_gru_backward_##S(int hard, ptrdiff_t B, ptrdiff_t H, const T* gates, const T* hp,               \
                                     const T* h_prev, const T* dh, T* dxp, T* dhp, T* dh_prev) {                    \
    if (hard) {                                                                                                     \
        TG_BY_DH(tg_gru_backward_w_##S, 1, dh != NULL, B, H, gates, hp, h_prev, dh, dxp, dhp, dh_prev)              \
    } else {                                                                                                        \
        TG_BY_DH(tg_gru_backward_w_##S, 0, dh != NULL, B, H, gates, hp, h_prev, dh, dxp, dhp, dh_prev)              \
    }                                                                                                               \
}

TG_GATE_LOOPS(float, f)
TG_GATE_LOOPS(double, d)
#undef TG_GATE_LOOPS

#endif
