# The gate loops, on raw row-major pointers, shared by gates.pyx (gate kernels), steps.pyx (GEMM + gates) and
# sequence.pyx (whole sequences). Gate order i, f, g, o (LSTM) and r, z, n (GRU); `a` is a gate activation code from
# _math.pxd. The loops themselves are C (gate_loops.h: one pass per row, compiled for AVX-512, AVX2 and baseline and
# picked per CPU); these wrappers pick the float or double one. A unit touches index j only, so z may alias gates
# (forward; steps.pyx does so) and an (B, H) output may share memory with an (B, H) input (c with c_prev, dc_prev
# with dc); the backward gradients dz, dxp, dhp must not overlap gates.
# The entry points (gates.pyx, steps.pyx) refuse every overlap a caller passes (_overlap.pxd): the GEMMs around these
# loops tolerate none, and one rule is easier to trust than a table of the safe ones.
from cython cimport floating

from ._math cimport HARD_SIGMOID


cdef extern from "gate_loops.h" nogil:
    void tg_lstm_forward_f(int hard, Py_ssize_t B, Py_ssize_t H, const float* z, const float* c_prev, float* gates,
                           float* c, float* h)
    void tg_lstm_forward_d(int hard, Py_ssize_t B, Py_ssize_t H, const double* z, const double* c_prev,
                           double* gates, double* c, double* h)
    void tg_lstm_backward_f(int hard, Py_ssize_t B, Py_ssize_t H, const float* gates, const float* c_prev,
                            const float* c, const float* dh, const float* dc, float* dz, float* dc_prev)
    void tg_lstm_backward_d(int hard, Py_ssize_t B, Py_ssize_t H, const double* gates, const double* c_prev,
                            const double* c, const double* dh, const double* dc, double* dz, double* dc_prev)
    void tg_peephole_forward_f(int hard, Py_ssize_t B, Py_ssize_t H, const float* z, const float* c_prev,
                               const float* w_ci, const float* w_cf, const float* w_co, float* gates, float* c,
                               float* h)
    void tg_peephole_forward_d(int hard, Py_ssize_t B, Py_ssize_t H, const double* z, const double* c_prev,
                               const double* w_ci, const double* w_cf, const double* w_co, double* gates,
                               double* c, double* h)
    void tg_peephole_backward_f(int hard, Py_ssize_t B, Py_ssize_t H, const float* gates, const float* c_prev,
                                const float* c, const float* w_ci, const float* w_cf, const float* w_co,
                                const float* dh, const float* dc, float* dz, float* dc_prev, float* dw_ci,
                                float* dw_cf, float* dw_co)
    void tg_peephole_backward_d(int hard, Py_ssize_t B, Py_ssize_t H, const double* gates, const double* c_prev,
                                const double* c, const double* w_ci, const double* w_cf, const double* w_co,
                                const double* dh, const double* dc, double* dz, double* dc_prev, double* dw_ci,
                                double* dw_cf, double* dw_co)
    void tg_gru_forward_f(int hard, Py_ssize_t B, Py_ssize_t H, const float* xp, const float* hp,
                          const float* h_prev, float* gates, float* h)
    void tg_gru_forward_d(int hard, Py_ssize_t B, Py_ssize_t H, const double* xp, const double* hp,
                          const double* h_prev, double* gates, double* h)
    void tg_gru_backward_f(int hard, Py_ssize_t B, Py_ssize_t H, const float* gates, const float* hp,
                           const float* h_prev, const float* dh, float* dxp, float* dhp, float* dh_prev)
    void tg_gru_backward_d(int hard, Py_ssize_t B, Py_ssize_t H, const double* gates, const double* hp,
                           const double* h_prev, const double* dh, double* dxp, double* dhp, double* dh_prev)


cdef inline void lstm_forward(int a, Py_ssize_t B, Py_ssize_t H, const floating* z, const floating* c_prev,
                              floating* gates, floating* c, floating* h) noexcept nogil:
    """i,f,o = act(z), g = tanh(z); c = f⊙c_prev + i⊙g; h = o⊙tanh(c)"""
    if floating is float:
        tg_lstm_forward_f(a == HARD_SIGMOID, B, H, z, c_prev, gates, c, h)
    else:
        tg_lstm_forward_d(a == HARD_SIGMOID, B, H, z, c_prev, gates, c, h)


cdef inline void lstm_backward(int a, Py_ssize_t B, Py_ssize_t H, const floating* gates, const floating* c_prev,
                               const floating* c, const floating* dh, const floating* dc,
                               floating* dz, floating* dc_prev) noexcept nogil:
    """dc_t = dc + dh⊙o⊙(1−tanh²c); dz = [dc_t⊙g⊙i', dc_t⊙c_prev⊙f', dc_t⊙i⊙(1−g²), dh⊙tanh(c)⊙o']; dc_prev = dc_t⊙f
    (dh or dc NULL: zero)"""
    if floating is float:
        tg_lstm_backward_f(a == HARD_SIGMOID, B, H, gates, c_prev, c, dh, dc, dz, dc_prev)
    else:
        tg_lstm_backward_d(a == HARD_SIGMOID, B, H, gates, c_prev, c, dh, dc, dz, dc_prev)


cdef inline void peephole_forward(int a, Py_ssize_t B, Py_ssize_t H, const floating* z, const floating* c_prev,
                                  const floating* w_ci, const floating* w_cf, const floating* w_co,
                                  floating* gates, floating* c, floating* h) noexcept nogil:
    """i = act(z_i + w_ci⊙c_prev), f = act(z_f + w_cf⊙c_prev), g = tanh(z_g); c = f⊙c_prev + i⊙g;
    o = act(z_o + w_co⊙c); h = o⊙tanh(c)"""
    if floating is float:
        tg_peephole_forward_f(a == HARD_SIGMOID, B, H, z, c_prev, w_ci, w_cf, w_co, gates, c, h)
    else:
        tg_peephole_forward_d(a == HARD_SIGMOID, B, H, z, c_prev, w_ci, w_cf, w_co, gates, c, h)


cdef inline void peephole_backward(int a, Py_ssize_t B, Py_ssize_t H, const floating* gates,
                                   const floating* c_prev, const floating* c, const floating* w_ci,
                                   const floating* w_cf, const floating* w_co, const floating* dh,
                                   const floating* dc, floating* dz, floating* dc_prev, floating* dw_ci,
                                   floating* dw_cf, floating* dw_co) noexcept nogil:
    """do = dh⊙tanh(c)⊙o'; dc_t = dc + dh⊙o⊙(1−tanh²c) + do⊙w_co; di = dc_t⊙g⊙i'; df = dc_t⊙c_prev⊙f';
    dc_prev = dc_t⊙f + di⊙w_ci + df⊙w_cf; dw_ci = Σ_b di⊙c_prev, dw_cf = Σ_b df⊙c_prev, dw_co = Σ_b do⊙c"""
    if floating is float:
        tg_peephole_backward_f(a == HARD_SIGMOID, B, H, gates, c_prev, c, w_ci, w_cf, w_co, dh, dc, dz, dc_prev,
                               dw_ci, dw_cf, dw_co)
    else:
        tg_peephole_backward_d(a == HARD_SIGMOID, B, H, gates, c_prev, c, w_ci, w_cf, w_co, dh, dc, dz, dc_prev,
                               dw_ci, dw_cf, dw_co)


cdef inline void gru_forward(int a, Py_ssize_t B, Py_ssize_t H, const floating* xp, const floating* hp,
                             const floating* h_prev, floating* gates, floating* h) noexcept nogil:
    """reset-after: r, z = act(xp + hp); n = tanh(xp_n + r⊙hp_n); h = (1−z)⊙n + z⊙h_prev"""
    if floating is float:
        tg_gru_forward_f(a == HARD_SIGMOID, B, H, xp, hp, h_prev, gates, h)
    else:
        tg_gru_forward_d(a == HARD_SIGMOID, B, H, xp, hp, h_prev, gates, h)


cdef inline void gru_backward(int a, Py_ssize_t B, Py_ssize_t H, const floating* gates, const floating* hp,
                              const floating* h_prev, const floating* dh, floating* dxp, floating* dhp,
                              floating* dh_prev) noexcept nogil:
    """dn = dh⊙(1−z)⊙(1−n²); dz = dh⊙(h_prev−n)⊙z'; dr = dn⊙hp_n⊙r'; dxp = [dr, dz, dn]; dhp = [dr, dz, dn⊙r];
    dh_prev = dh⊙z (the part not through hp; dh NULL: zero)"""
    if floating is float:
        tg_gru_backward_f(a == HARD_SIGMOID, B, H, gates, hp, h_prev, dh, dxp, dhp, dh_prev)
    else:
        tg_gru_backward_d(a == HARD_SIGMOID, B, H, gates, hp, h_prev, dh, dxp, dhp, dh_prev)
