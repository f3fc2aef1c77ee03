"""Fused recurrent gate kernels: one pass over (B, H) per step, forward and backward, float32 and float64.

The convention of every entry point here, in steps.pyx and linear.pyx (see README.md): inputs, the activation name,
then the outputs, which may be None (allocated here); the outputs are returned. Every array is checked through
_arrays.pxd (type, dtype, native byte order, shape, C order; outputs writeable and sharing no memory with an input or
another output). Gate order i, f, g, o (LSTM) and r, z, n (GRU).
"""
cimport numpy as cnp
from cython cimport floating

from ._arrays cimport data, disjoint_arrays, float_type, optional_data, output, rows_cols
from ._gate_loops cimport gru_backward, gru_forward, lstm_backward, lstm_forward, peephole_backward, peephole_forward
from ._math cimport gate_array, gate_code, gate_grad, tanh_array

cnp.import_array()


# ---- LSTM and peephole LSTM ------------------------------------------------------------------------------------

cdef void _lstm_forward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* z, void* c_prev, void* gates,
                        void* c, void* h) noexcept nogil:
    lstm_forward(a, B, H, <floating*>z, <floating*>c_prev, <floating*>gates, <floating*>c, <floating*>h)


def lstm_gates_forward(z, c_prev, str act, gates=None, c=None, h=None):
    """i,f,o = act(z), g = tanh(z); c = f⊙c_prev + i⊙g; h = o⊙tanh(c) → (gates, c, h)"""
    cdef int a = gate_code(act), t = float_type("c_prev", c_prev)
    cdef Py_ssize_t H, B = rows_cols("c_prev", c_prev, &H)
    cdef void* p_z = data("z", z, t, B, 4 * H)
    cdef void* p_c_prev = data("c_prev", c_prev, t, B, H)
    gates, c, h = output("gates", gates, t, B, 4 * H), output("c", c, t, B, H), output("h", h, t, B, H)
    cdef void* p_g = data("gates", gates, t, B, 4 * H)
    cdef void* p_c = data("c", c, t, B, H)
    cdef void* p_h = data("h", h, t, B, H)
    disjoint_arrays(("gates", "c", "h", "z", "c_prev"), 3, (gates, c, h, z, c_prev))
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _lstm_forward(<double>0, a, B, H, p_z, p_c_prev, p_g, p_c, p_h)
            else:
                _lstm_forward(<float>0, a, B, H, p_z, p_c_prev, p_g, p_c, p_h)
    return gates, c, h


cdef void _lstm_backward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* gates, void* c_prev, void* c,
                         void* dh, void* dc, void* dz, void* dc_prev) noexcept nogil:
    lstm_backward(a, B, H, <floating*>gates, <floating*>c_prev, <floating*>c, <floating*>dh, <floating*>dc,
                  <floating*>dz, <floating*>dc_prev)


def lstm_gates_backward(gates, c_prev, c, dh, dc, str act, dz=None, dc_prev=None):
    """dc_t = dc + dh⊙o⊙(1−tanh²c); dz = [dc_t⊙g⊙i', dc_t⊙c_prev⊙f', dc_t⊙i⊙(1−g²), dh⊙tanh(c)⊙o']; dc_prev = dc_t⊙f
    (dh or dc None: zero) → (dz, dc_prev)"""
    cdef int a = gate_code(act), t = float_type("c_prev", c_prev)
    cdef Py_ssize_t H, B = rows_cols("c_prev", c_prev, &H)
    cdef void* p_g = data("gates", gates, t, B, 4 * H)
    cdef void* p_c_prev = data("c_prev", c_prev, t, B, H)
    cdef void* p_c = data("c", c, t, B, H)
    cdef void* p_dh = optional_data("dh", dh, t, B, H)
    cdef void* p_dc = optional_data("dc", dc, t, B, H)
    dz, dc_prev = output("dz", dz, t, B, 4 * H), output("dc_prev", dc_prev, t, B, H)
    cdef void* p_dz = data("dz", dz, t, B, 4 * H)
    cdef void* p_dc_prev = data("dc_prev", dc_prev, t, B, H)
    disjoint_arrays(("dz", "dc_prev", "gates", "c_prev", "c", "dh", "dc"), 2, (dz, dc_prev, gates, c_prev, c, dh, dc))
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _lstm_backward(<double>0, a, B, H, p_g, p_c_prev, p_c, p_dh, p_dc, p_dz, p_dc_prev)
            else:
                _lstm_backward(<float>0, a, B, H, p_g, p_c_prev, p_c, p_dh, p_dc, p_dz, p_dc_prev)
    return dz, dc_prev


cdef void _peephole_forward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* z, void* c_prev, void* w_ci,
                            void* w_cf, void* w_co, void* gates, void* c, void* h) noexcept nogil:
    peephole_forward(a, B, H, <floating*>z, <floating*>c_prev, <floating*>w_ci, <floating*>w_cf, <floating*>w_co,
                     <floating*>gates, <floating*>c, <floating*>h)


def peephole_gates_forward(z, c_prev, w_ci, w_cf, w_co, str act, gates=None, c=None, h=None):
    """i = act(z_i + w_ci⊙c_prev), f = act(z_f + w_cf⊙c_prev), g = tanh(z_g); c = f⊙c_prev + i⊙g;
    o = act(z_o + w_co⊙c); h = o⊙tanh(c) → (gates, c, h)"""
    cdef int a = gate_code(act), t = float_type("c_prev", c_prev)
    cdef Py_ssize_t H, B = rows_cols("c_prev", c_prev, &H)
    cdef void* p_z = data("z", z, t, B, 4 * H)
    cdef void* p_c_prev = data("c_prev", c_prev, t, B, H)
    cdef void* p_ci = data("w_ci", w_ci, t, H, -1)
    cdef void* p_cf = data("w_cf", w_cf, t, H, -1)
    cdef void* p_co = data("w_co", w_co, t, H, -1)
    gates, c, h = output("gates", gates, t, B, 4 * H), output("c", c, t, B, H), output("h", h, t, B, H)
    cdef void* p_g = data("gates", gates, t, B, 4 * H)
    cdef void* p_c = data("c", c, t, B, H)
    cdef void* p_h = data("h", h, t, B, H)
    disjoint_arrays(("gates", "c", "h", "z", "c_prev", "w_ci", "w_cf", "w_co"), 3,
                    (gates, c, h, z, c_prev, w_ci, w_cf, w_co))
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _peephole_forward(<double>0, a, B, H, p_z, p_c_prev, p_ci, p_cf, p_co, p_g, p_c, p_h)
            else:
                _peephole_forward(<float>0, a, B, H, p_z, p_c_prev, p_ci, p_cf, p_co, p_g, p_c, p_h)
    return gates, c, h


cdef void _peephole_backward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* gates, void* c_prev, void* c,
                             void* w_ci, void* w_cf, void* w_co, void* dh, void* dc, void* dz, void* dc_prev,
                             void* dw_ci, void* dw_cf, void* dw_co) noexcept nogil:
    peephole_backward(a, B, H, <floating*>gates, <floating*>c_prev, <floating*>c, <floating*>w_ci,
                      <floating*>w_cf, <floating*>w_co, <floating*>dh, <floating*>dc, <floating*>dz,
                      <floating*>dc_prev, <floating*>dw_ci, <floating*>dw_cf, <floating*>dw_co)


def peephole_gates_backward(gates, c_prev, c, w_ci, w_cf, w_co, dh, dc, str act, dz=None, dc_prev=None,
                            dw_ci=None, dw_cf=None, dw_co=None):
    """do = dh⊙tanh(c)⊙o'; dc_t = dc + dh⊙o⊙(1−tanh²c) + do⊙w_co; di = dc_t⊙g⊙i'; df = dc_t⊙c_prev⊙f';
    dc_prev = dc_t⊙f + di⊙w_ci + df⊙w_cf; dw_ci = Σ_b di⊙c_prev, dw_cf = Σ_b df⊙c_prev, dw_co = Σ_b do⊙c
    → (dz, dc_prev, dw_ci, dw_cf, dw_co)"""
    cdef int a = gate_code(act), t = float_type("c_prev", c_prev)
    cdef Py_ssize_t H, B = rows_cols("c_prev", c_prev, &H)
    cdef void* p_g = data("gates", gates, t, B, 4 * H)
    cdef void* p_c_prev = data("c_prev", c_prev, t, B, H)
    cdef void* p_c = data("c", c, t, B, H)
    cdef void* p_ci = data("w_ci", w_ci, t, H, -1)
    cdef void* p_cf = data("w_cf", w_cf, t, H, -1)
    cdef void* p_co = data("w_co", w_co, t, H, -1)
    cdef void* p_dh = optional_data("dh", dh, t, B, H)
    cdef void* p_dc = optional_data("dc", dc, t, B, H)
    dz, dc_prev = output("dz", dz, t, B, 4 * H), output("dc_prev", dc_prev, t, B, H)
    dw_ci, dw_cf, dw_co = output("dw_ci", dw_ci, t, H, -1), output("dw_cf", dw_cf, t, H, -1), output("dw_co", dw_co, t, H, -1)
    cdef void* p_dz = data("dz", dz, t, B, 4 * H)
    cdef void* p_dc_prev = data("dc_prev", dc_prev, t, B, H)
    cdef void* p_dci = data("dw_ci", dw_ci, t, H, -1)
    cdef void* p_dcf = data("dw_cf", dw_cf, t, H, -1)
    cdef void* p_dco = data("dw_co", dw_co, t, H, -1)
    disjoint_arrays(("dz", "dc_prev", "dw_ci", "dw_cf", "dw_co", "gates", "c_prev", "c", "w_ci", "w_cf", "w_co", "dh",
                     "dc"), 5, (dz, dc_prev, dw_ci, dw_cf, dw_co, gates, c_prev, c, w_ci, w_cf, w_co, dh, dc))
    if H:                                        # B = 0 still sums to zero peephole gradients
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _peephole_backward(<double>0, a, B, H, p_g, p_c_prev, p_c, p_ci, p_cf, p_co, p_dh, p_dc, p_dz,
                                   p_dc_prev, p_dci, p_dcf, p_dco)
            else:
                _peephole_backward(<float>0, a, B, H, p_g, p_c_prev, p_c, p_ci, p_cf, p_co, p_dh, p_dc, p_dz,
                                   p_dc_prev, p_dci, p_dcf, p_dco)
    return dz, dc_prev, dw_ci, dw_cf, dw_co


# ---- GRU, reset-after (PyTorch's) ------------------------------------------------------------------------------

cdef void _gru_forward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* xp, void* hp, void* h_prev,
                       void* gates, void* h) noexcept nogil:
    gru_forward(a, B, H, <floating*>xp, <floating*>hp, <floating*>h_prev, <floating*>gates, <floating*>h)


def gru_gates_forward(xp, hp, h_prev, str act, gates=None, h=None):
    """reset-after: r, z = act(xp + hp); n = tanh(xp_n + r⊙hp_n); h = (1−z)⊙n + z⊙h_prev → (gates, h)"""
    cdef int a = gate_code(act), t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_xp = data("xp", xp, t, B, 3 * H)
    cdef void* p_hp = data("hp", hp, t, B, 3 * H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    gates, h = output("gates", gates, t, B, 3 * H), output("h", h, t, B, H)
    cdef void* p_g = data("gates", gates, t, B, 3 * H)
    cdef void* p_h = data("h", h, t, B, H)
    disjoint_arrays(("gates", "h", "xp", "hp", "h_prev"), 2, (gates, h, xp, hp, h_prev))
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _gru_forward(<double>0, a, B, H, p_xp, p_hp, p_h_prev, p_g, p_h)
            else:
                _gru_forward(<float>0, a, B, H, p_xp, p_hp, p_h_prev, p_g, p_h)
    return gates, h


cdef void _gru_backward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* gates, void* hp, void* h_prev,
                        void* dh, void* dxp, void* dhp, void* dh_prev) noexcept nogil:
    gru_backward(a, B, H, <floating*>gates, <floating*>hp, <floating*>h_prev, <floating*>dh, <floating*>dxp,
                 <floating*>dhp, <floating*>dh_prev)


def gru_gates_backward(gates, hp, h_prev, dh, str act, dxp=None, dhp=None, dh_prev=None):
    """dn = dh⊙(1−z)⊙(1−n²); dz = dh⊙(h_prev−n)⊙z'; dr = dn⊙hp_n⊙r'; dxp = [dr, dz, dn]; dhp = [dr, dz, dn⊙r];
    dh_prev = dh⊙z (the part not through hp; dh None: zero) → (dxp, dhp, dh_prev)"""
    cdef int a = gate_code(act), t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_g = data("gates", gates, t, B, 3 * H)
    cdef void* p_hp = data("hp", hp, t, B, 3 * H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    cdef void* p_dh = optional_data("dh", dh, t, B, H)
    dxp, dhp, dh_prev = (output("dxp", dxp, t, B, 3 * H), output("dhp", dhp, t, B, 3 * H),
                         output("dh_prev", dh_prev, t, B, H))
    cdef void* p_dxp = data("dxp", dxp, t, B, 3 * H)
    cdef void* p_dhp = data("dhp", dhp, t, B, 3 * H)
    cdef void* p_dh_prev = data("dh_prev", dh_prev, t, B, H)
    disjoint_arrays(("dxp", "dhp", "dh_prev", "gates", "hp", "h_prev", "dh"), 3,
                    (dxp, dhp, dh_prev, gates, hp, h_prev, dh))
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _gru_backward(<double>0, a, B, H, p_g, p_hp, p_h_prev, p_dh, p_dxp, p_dhp, p_dh_prev)
            else:
                _gru_backward(<float>0, a, B, H, p_g, p_hp, p_h_prev, p_dh, p_dxp, p_dhp, p_dh_prev)
    return dxp, dhp, dh_prev


# ---- GRU, Cho et al. 2014: two halves around the W_hn product ---------------------------------------------------

cdef void _cho_reset_forward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* xp_, void* hp_rz_,
                             void* h_prev_, void* gates_rz_, void* rh_) noexcept nogil:
    cdef const floating* xp = <floating*>xp_
    cdef const floating* hp_rz = <floating*>hp_rz_
    cdef const floating* h_prev = <floating*>h_prev_
    cdef floating* g = <floating*>gates_rz_
    cdef floating* rh = <floating*>rh_
    cdef Py_ssize_t b, j
    for b in range(B):
        for j in range(2 * H):
            g[b * 2 * H + j] = xp[b * 3 * H + j] + hp_rz[b * 2 * H + j]
        gate_array(a, 2 * H, g + b * 2 * H, g + b * 2 * H)
        for j in range(H):
            rh[b * H + j] = g[b * 2 * H + j] * h_prev[b * H + j]


def gru_cho_reset_forward(xp, hp_rz, h_prev, str act, gates_rz=None, rh=None):
    """Cho GRU, first half: r, z = act(xp_rz + hp_rz); rh = r⊙h_prev → (gates_rz, rh)"""
    cdef int a = gate_code(act), t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_xp = data("xp", xp, t, B, 3 * H)
    cdef void* p_hp = data("hp_rz", hp_rz, t, B, 2 * H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    gates_rz, rh = output("gates_rz", gates_rz, t, B, 2 * H), output("rh", rh, t, B, H)
    cdef void* p_g = data("gates_rz", gates_rz, t, B, 2 * H)
    cdef void* p_rh = data("rh", rh, t, B, H)
    disjoint_arrays(("gates_rz", "rh", "xp", "hp_rz", "h_prev"), 2, (gates_rz, rh, xp, hp_rz, h_prev))
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _cho_reset_forward(<double>0, a, B, H, p_xp, p_hp, p_h_prev, p_g, p_rh)
            else:
                _cho_reset_forward(<float>0, a, B, H, p_xp, p_hp, p_h_prev, p_g, p_rh)
    return gates_rz, rh


cdef void _cho_update_forward(floating kind, Py_ssize_t B, Py_ssize_t H, void* xp_, void* hn_, void* gates_rz_,
                              void* h_prev_, void* n_, void* h_) noexcept nogil:
    cdef const floating* xp = <floating*>xp_
    cdef const floating* hn = <floating*>hn_
    cdef const floating* g = <floating*>gates_rz_
    cdef const floating* h_prev = <floating*>h_prev_
    cdef floating* n = <floating*>n_
    cdef floating* h = <floating*>h_
    cdef floating z
    cdef Py_ssize_t b, j
    for b in range(B):
        for j in range(H):
            n[b * H + j] = xp[b * 3 * H + 2 * H + j] + hn[b * H + j]
        tanh_array(H, n + b * H, n + b * H)
        for j in range(H):
            z = g[b * 2 * H + H + j]
            h[b * H + j] = (1 - z) * n[b * H + j] + z * h_prev[b * H + j]


def gru_cho_update_forward(xp, hn, gates_rz, h_prev, n=None, h=None):
    """Cho GRU, second half: n = tanh(xp_n + hn); h = (1−z)⊙n + z⊙h_prev → (n, h)"""
    cdef int t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_xp = data("xp", xp, t, B, 3 * H)
    cdef void* p_hn = data("hn", hn, t, B, H)
    cdef void* p_g = data("gates_rz", gates_rz, t, B, 2 * H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    n, h = output("n", n, t, B, H), output("h", h, t, B, H)
    cdef void* p_n = data("n", n, t, B, H)
    cdef void* p_h = data("h", h, t, B, H)
    disjoint_arrays(("n", "h", "xp", "hn", "gates_rz", "h_prev"), 2, (n, h, xp, hn, gates_rz, h_prev))
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _cho_update_forward(<double>0, B, H, p_xp, p_hn, p_g, p_h_prev, p_n, p_h)
            else:
                _cho_update_forward(<float>0, B, H, p_xp, p_hn, p_g, p_h_prev, p_n, p_h)
    return n, h


cdef void _cho_update_backward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* gates_rz_, void* n_,
                               void* h_prev_, void* dh_, void* dz_pre_, void* dn_pre_,
                               void* dh_prev_) noexcept nogil:
    cdef const floating* g = <floating*>gates_rz_
    cdef const floating* n = <floating*>n_
    cdef const floating* h_prev = <floating*>h_prev_
    cdef const floating* dh = <floating*>dh_
    cdef floating* dz_pre = <floating*>dz_pre_
    cdef floating* dn_pre = <floating*>dn_pre_
    cdef floating* dh_prev = <floating*>dh_prev_
    cdef floating z, nn
    cdef Py_ssize_t b, j, k
    for b in range(B):
        for j in range(H):
            k = b * H + j
            z, nn = g[b * 2 * H + H + j], n[k]
            dn_pre[k] = dh[k] * (1 - z) * (1 - nn * nn)
            dz_pre[k] = dh[k] * (h_prev[k] - nn) * gate_grad(a, z)
            dh_prev[k] = dh[k] * z


def gru_cho_update_backward(gates_rz, n, h_prev, dh, str act, dz_pre=None, dn_pre=None, dh_prev=None):
    """dn_pre = dh⊙(1−z)⊙(1−n²); dz_pre = dh⊙(h_prev−n)⊙z'; dh_prev = dh⊙z → (dz_pre, dn_pre, dh_prev)"""
    cdef int a = gate_code(act), t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_g = data("gates_rz", gates_rz, t, B, 2 * H)
    cdef void* p_n = data("n", n, t, B, H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    cdef void* p_dh = data("dh", dh, t, B, H)
    dz_pre, dn_pre, dh_prev = (output("dz_pre", dz_pre, t, B, H), output("dn_pre", dn_pre, t, B, H),
                               output("dh_prev", dh_prev, t, B, H))
    cdef void* p_dz = data("dz_pre", dz_pre, t, B, H)
    cdef void* p_dn = data("dn_pre", dn_pre, t, B, H)
    cdef void* p_dh_prev = data("dh_prev", dh_prev, t, B, H)
    disjoint_arrays(("dz_pre", "dn_pre", "dh_prev", "gates_rz", "n", "h_prev", "dh"), 3,
                    (dz_pre, dn_pre, dh_prev, gates_rz, n, h_prev, dh))
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _cho_update_backward(<double>0, a, B, H, p_g, p_n, p_h_prev, p_dh, p_dz, p_dn, p_dh_prev)
            else:
                _cho_update_backward(<float>0, a, B, H, p_g, p_n, p_h_prev, p_dh, p_dz, p_dn, p_dh_prev)
    return dz_pre, dn_pre, dh_prev


cdef void _cho_reset_backward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* gates_rz_, void* h_prev_,
                              void* d_rh_, void* dr_pre_, void* dh_prev_) noexcept nogil:
    cdef const floating* g = <floating*>gates_rz_
    cdef const floating* h_prev = <floating*>h_prev_
    cdef const floating* d_rh = <floating*>d_rh_
    cdef floating* dr_pre = <floating*>dr_pre_
    cdef floating* dh_prev = <floating*>dh_prev_
    cdef floating r
    cdef Py_ssize_t b, j, k
    for b in range(B):
        for j in range(H):
            k = b * H + j
            r = g[b * 2 * H + j]
            dr_pre[k] = d_rh[k] * h_prev[k] * gate_grad(a, r)
            dh_prev[k] = d_rh[k] * r


def gru_cho_reset_backward(gates_rz, h_prev, d_rh, str act, dr_pre=None, dh_prev=None):
    """given d_rh = dn_pre @ W_hn: dr_pre = d_rh⊙h_prev⊙r'; dh_prev = d_rh⊙r → (dr_pre, dh_prev)"""
    cdef int a = gate_code(act), t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_g = data("gates_rz", gates_rz, t, B, 2 * H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    cdef void* p_d_rh = data("d_rh", d_rh, t, B, H)
    dr_pre, dh_prev = output("dr_pre", dr_pre, t, B, H), output("dh_prev", dh_prev, t, B, H)
    cdef void* p_dr = data("dr_pre", dr_pre, t, B, H)
    cdef void* p_dh_prev = data("dh_prev", dh_prev, t, B, H)
    disjoint_arrays(("dr_pre", "dh_prev", "gates_rz", "h_prev", "d_rh"), 2, (dr_pre, dh_prev, gates_rz, h_prev, d_rh))
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _cho_reset_backward(<double>0, a, B, H, p_g, p_h_prev, p_d_rh, p_dr, p_dh_prev)
            else:
                _cho_reset_backward(<float>0, a, B, H, p_g, p_h_prev, p_d_rh, p_dr, p_dh_prev)
    return dr_pre, dh_prev
