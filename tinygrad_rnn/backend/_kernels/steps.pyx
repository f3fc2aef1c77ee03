"""Fused recurrent steps: the recurrent GEMM and the gate update in one call, forward and backward.

One call per time step and direction, so a step costs one tape node and one kernel call. The convention of gates.pyx
and linear.pyx (see README.md): inputs, the activation name, then the outputs, which may be None (allocated here);
the outputs are returned. Every array is checked through _arrays.pxd, and the GEMM sizes against the BLAS's integer.
"""
cimport numpy as cnp
from cython cimport floating
from libc.string cimport memcpy, memset

from ._arrays cimport data, disjoint_arrays, float_type, optional_data, output, rows_cols
from ._blas cimport check_gemm, gemm
from ._gate_loops cimport gru_backward, gru_forward, lstm_backward, lstm_forward, peephole_backward, peephole_forward
from ._math cimport gate_code, tanh_array

cnp.import_array()


cdef inline void recurrent_gemm(bint transposed, Py_ssize_t B, Py_ssize_t N, Py_ssize_t H, floating* h_prev,
                                floating* w, floating* out) noexcept nogil:
    """out (B, N) += h_prev @ W_hhᵀ, W_hh given as (N, H), or as its transpose (H, N): the plain row-major
    product, which BLAS runs faster (a Scan transposes W_hh once per sequence)."""
    if transposed:
        gemm(False, False, B, N, H, 1, h_prev, H, w, N, 1, out, N)
    else:
        gemm(False, True, B, N, H, 1, h_prev, H, w, H, 1, out, N)


cdef int check_recurrent(bint transposed, Py_ssize_t B, Py_ssize_t N, Py_ssize_t H) except -1:
    """check_gemm for recurrent_gemm's sizes."""
    return check_gemm("h_prev", B, N, H, H, N if transposed else H, N)


cdef void* weight_data(w_hh, int t, Py_ssize_t rows, Py_ssize_t cols, bint transposed) except NULL:
    """The data of w_hh, checked as (rows, cols), or as (cols, rows) when it is given transposed."""
    return data("w_hh", w_hh, t, cols, rows) if transposed else data("w_hh", w_hh, t, rows, cols)


# ---- LSTM ------------------------------------------------------------------------------------------------------

cdef void _lstm_forward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* xp, void* h_prev, void* c_prev,
                        void* w_hh, bint transposed, void* gates, void* c, void* h) noexcept nogil:
    cdef floating* z = <floating*>gates
    memcpy(z, xp, B * 4 * H * sizeof(floating))
    recurrent_gemm(transposed, B, 4 * H, H, <floating*>h_prev, <floating*>w_hh, z)
    lstm_forward(a, B, H, z, <floating*>c_prev, z, <floating*>c, <floating*>h)


def lstm_step_forward(xp, h_prev, c_prev, w_hh, str act, gates=None, c=None, h=None, bint transposed=False):
    """z = xp + h_prev @ W_hhᵀ; i,f,o = act(z), g = tanh(z); c = f⊙c_prev + i⊙g; h = o⊙tanh(c) → (gates, c, h)"""
    cdef int a = gate_code(act), t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_xp = data("xp", xp, t, B, 4 * H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    cdef void* p_c_prev = data("c_prev", c_prev, t, B, H)
    cdef void* p_w = weight_data(w_hh, t, 4 * H, H, transposed)
    gates, c, h = output("gates", gates, t, B, 4 * H), output("c", c, t, B, H), output("h", h, t, B, H)
    cdef void* p_g = data("gates", gates, t, B, 4 * H)
    cdef void* p_c = data("c", c, t, B, H)
    cdef void* p_h = data("h", h, t, B, H)
    disjoint_arrays(("gates", "c", "h", "xp", "h_prev", "c_prev", "w_hh"), 3, (gates, c, h, xp, h_prev, c_prev, w_hh))
    check_recurrent(transposed, B, 4 * H, H)
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _lstm_forward(<double>0, a, B, H, p_xp, p_h_prev, p_c_prev, p_w, transposed, p_g, p_c, p_h)
            else:
                _lstm_forward(<float>0, a, B, H, p_xp, p_h_prev, p_c_prev, p_w, transposed, p_g, p_c, p_h)
    return gates, c, h


cdef void _lstm_backward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* gates, void* c_prev, void* c,
                         void* w_hh, void* dh, void* dc, void* dz, void* dc_prev, void* dh_prev) noexcept nogil:
    lstm_backward(a, B, H, <floating*>gates, <floating*>c_prev, <floating*>c, <floating*>dh, <floating*>dc,
                  <floating*>dz, <floating*>dc_prev)
    gemm(False, False, B, H, 4 * H, 1, <floating*>dz, 4 * H, <floating*>w_hh, H, 0, <floating*>dh_prev, H)


def lstm_step_backward(gates, c_prev, c, w_hh, dh, dc, str act, dz=None, dc_prev=None, dh_prev=None):
    """dz, dc_prev as lstm_gates_backward (dh or dc None: zero); dh_prev = dz @ W_hh → (dz, dc_prev, dh_prev)"""
    cdef int a = gate_code(act), t = float_type("c_prev", c_prev)
    cdef Py_ssize_t H, B = rows_cols("c_prev", c_prev, &H)
    cdef void* p_g = data("gates", gates, t, B, 4 * H)
    cdef void* p_c_prev = data("c_prev", c_prev, t, B, H)
    cdef void* p_c = data("c", c, t, B, H)
    cdef void* p_w = data("w_hh", w_hh, t, 4 * H, H)
    cdef void* p_dh = optional_data("dh", dh, t, B, H)
    cdef void* p_dc = optional_data("dc", dc, t, B, H)
    dz, dc_prev, dh_prev = (output("dz", dz, t, B, 4 * H), output("dc_prev", dc_prev, t, B, H),
                            output("dh_prev", dh_prev, t, B, H))
    cdef void* p_dz = data("dz", dz, t, B, 4 * H)
    cdef void* p_dc_prev = data("dc_prev", dc_prev, t, B, H)
    cdef void* p_dh_prev = data("dh_prev", dh_prev, t, B, H)
    disjoint_arrays(("dz", "dc_prev", "dh_prev", "gates", "c_prev", "c", "w_hh", "dh", "dc"), 3,
                    (dz, dc_prev, dh_prev, gates, c_prev, c, w_hh, dh, dc))
    check_gemm("c_prev", B, H, 4 * H, 4 * H, H, H)
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _lstm_backward(<double>0, a, B, H, p_g, p_c_prev, p_c, p_w, p_dh, p_dc, p_dz, p_dc_prev, p_dh_prev)
            else:
                _lstm_backward(<float>0, a, B, H, p_g, p_c_prev, p_c, p_w, p_dh, p_dc, p_dz, p_dc_prev, p_dh_prev)
    return dz, dc_prev, dh_prev


# ---- peephole LSTM ---------------------------------------------------------------------------------------------

cdef void _peephole_forward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* xp, void* h_prev,
                            void* c_prev, void* w_hh, bint transposed, void* w_ci, void* w_cf, void* w_co,
                            void* gates, void* c, void* h) noexcept nogil:
    cdef floating* z = <floating*>gates
    memcpy(z, xp, B * 4 * H * sizeof(floating))
    recurrent_gemm(transposed, B, 4 * H, H, <floating*>h_prev, <floating*>w_hh, z)
    peephole_forward(a, B, H, z, <floating*>c_prev, <floating*>w_ci, <floating*>w_cf, <floating*>w_co, z,
                     <floating*>c, <floating*>h)


def peephole_step_forward(xp, h_prev, c_prev, w_hh, w_ci, w_cf, w_co, str act, gates=None, c=None, h=None,
                          bint transposed=False):
    """z = xp + h_prev @ W_hhᵀ, then the peephole gates (i, f see c_prev; o sees the new c) → (gates, c, h)"""
    cdef int a = gate_code(act), t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_xp = data("xp", xp, t, B, 4 * H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    cdef void* p_c_prev = data("c_prev", c_prev, t, B, H)
    cdef void* p_w = weight_data(w_hh, t, 4 * H, H, transposed)
    cdef void* p_ci = data("w_ci", w_ci, t, H, -1)
    cdef void* p_cf = data("w_cf", w_cf, t, H, -1)
    cdef void* p_co = data("w_co", w_co, t, H, -1)
    gates, c, h = output("gates", gates, t, B, 4 * H), output("c", c, t, B, H), output("h", h, t, B, H)
    cdef void* p_g = data("gates", gates, t, B, 4 * H)
    cdef void* p_c = data("c", c, t, B, H)
    cdef void* p_h = data("h", h, t, B, H)
    disjoint_arrays(("gates", "c", "h", "xp", "h_prev", "c_prev", "w_hh", "w_ci", "w_cf", "w_co"), 3,
                    (gates, c, h, xp, h_prev, c_prev, w_hh, w_ci, w_cf, w_co))
    check_recurrent(transposed, B, 4 * H, H)
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _peephole_forward(<double>0, a, B, H, p_xp, p_h_prev, p_c_prev, p_w, transposed, p_ci, p_cf, p_co,
                                  p_g, p_c, p_h)
            else:
                _peephole_forward(<float>0, a, B, H, p_xp, p_h_prev, p_c_prev, p_w, transposed, p_ci, p_cf, p_co,
                                  p_g, p_c, p_h)
    return gates, c, h


cdef void _peephole_backward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* gates, void* c_prev, void* c,
                             void* w_hh, void* w_ci, void* w_cf, void* w_co, void* dh, void* dc, void* dz,
                             void* dc_prev, void* dh_prev, void* dw_ci, void* dw_cf, void* dw_co) noexcept nogil:
    if B == 0:
        memset(dw_ci, 0, H * sizeof(floating))
        memset(dw_cf, 0, H * sizeof(floating))
        memset(dw_co, 0, H * sizeof(floating))
        return
    peephole_backward(a, B, H, <floating*>gates, <floating*>c_prev, <floating*>c, <floating*>w_ci,
                      <floating*>w_cf, <floating*>w_co, <floating*>dh, <floating*>dc, <floating*>dz,
                      <floating*>dc_prev, <floating*>dw_ci, <floating*>dw_cf, <floating*>dw_co)
    gemm(False, False, B, H, 4 * H, 1, <floating*>dz, 4 * H, <floating*>w_hh, H, 0, <floating*>dh_prev, H)


def peephole_step_backward(gates, c_prev, c, w_hh, w_ci, w_cf, w_co, dh, dc, str act, dz=None, dc_prev=None,
                           dh_prev=None, dw_ci=None, dw_cf=None, dw_co=None):
    """as peephole_gates_backward, plus dh_prev = dz @ W_hh → (dz, dc_prev, dh_prev, dw_ci, dw_cf, dw_co)"""
    cdef int a = gate_code(act), t = float_type("c_prev", c_prev)
    cdef Py_ssize_t H, B = rows_cols("c_prev", c_prev, &H)
    cdef void* p_g = data("gates", gates, t, B, 4 * H)
    cdef void* p_c_prev = data("c_prev", c_prev, t, B, H)
    cdef void* p_c = data("c", c, t, B, H)
    cdef void* p_w = data("w_hh", w_hh, t, 4 * H, H)
    cdef void* p_ci = data("w_ci", w_ci, t, H, -1)
    cdef void* p_cf = data("w_cf", w_cf, t, H, -1)
    cdef void* p_co = data("w_co", w_co, t, H, -1)
    cdef void* p_dh = optional_data("dh", dh, t, B, H)
    cdef void* p_dc = optional_data("dc", dc, t, B, H)
    dz, dc_prev, dh_prev = (output("dz", dz, t, B, 4 * H), output("dc_prev", dc_prev, t, B, H),
                            output("dh_prev", dh_prev, t, B, H))
    dw_ci, dw_cf, dw_co = output("dw_ci", dw_ci, t, H, -1), output("dw_cf", dw_cf, t, H, -1), output("dw_co", dw_co, t, H, -1)
    cdef void* p_dz = data("dz", dz, t, B, 4 * H)
    cdef void* p_dc_prev = data("dc_prev", dc_prev, t, B, H)
    cdef void* p_dh_prev = data("dh_prev", dh_prev, t, B, H)
    cdef void* p_dci = data("dw_ci", dw_ci, t, H, -1)
    cdef void* p_dcf = data("dw_cf", dw_cf, t, H, -1)
    cdef void* p_dco = data("dw_co", dw_co, t, H, -1)
    disjoint_arrays(("dz", "dc_prev", "dh_prev", "dw_ci", "dw_cf", "dw_co", "gates", "c_prev", "c", "w_hh", "w_ci",
                     "w_cf", "w_co", "dh", "dc"), 6,
                    (dz, dc_prev, dh_prev, dw_ci, dw_cf, dw_co, gates, c_prev, c, w_hh, w_ci, w_cf, w_co, dh, dc))
    check_gemm("c_prev", B, H, 4 * H, 4 * H, H, H)
    if H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _peephole_backward(<double>0, a, B, H, p_g, p_c_prev, p_c, p_w, p_ci, p_cf, p_co, p_dh, p_dc, p_dz,
                                   p_dc_prev, p_dh_prev, p_dci, p_dcf, p_dco)
            else:
                _peephole_backward(<float>0, a, B, H, p_g, p_c_prev, p_c, p_w, p_ci, p_cf, p_co, p_dh, p_dc, p_dz,
                                   p_dc_prev, p_dh_prev, p_dci, p_dcf, p_dco)
    return dz, dc_prev, dh_prev, dw_ci, dw_cf, dw_co


# ---- GRU (reset-after) -----------------------------------------------------------------------------------------

cdef void _gru_forward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* xp, void* h_prev, void* w_hh,
                       bint transposed, void* b_hh, void* hp, void* gates, void* h) noexcept nogil:
    cdef floating* out = <floating*>hp
    cdef Py_ssize_t b
    for b in range(B):
        if b_hh != NULL:
            memcpy(out + b * 3 * H, b_hh, 3 * H * sizeof(floating))
        else:
            memset(out + b * 3 * H, 0, 3 * H * sizeof(floating))
    recurrent_gemm(transposed, B, 3 * H, H, <floating*>h_prev, <floating*>w_hh, out)
    gru_forward(a, B, H, <floating*>xp, out, <floating*>h_prev, <floating*>gates, <floating*>h)


def gru_step_forward(xp, h_prev, w_hh, b_hh, str act, hp=None, gates=None, h=None, bint transposed=False):
    """hp = h_prev @ W_hhᵀ + b_hh (None: no bias); r, z = act(xp + hp); n = tanh(xp_n + r⊙hp_n);
    h = (1−z)⊙n + z⊙h_prev → (hp, gates, h)"""
    cdef int a = gate_code(act), t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_xp = data("xp", xp, t, B, 3 * H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    cdef void* p_w = weight_data(w_hh, t, 3 * H, H, transposed)
    cdef void* p_b = optional_data("b_hh", b_hh, t, 3 * H, -1)
    hp, gates, h = output("hp", hp, t, B, 3 * H), output("gates", gates, t, B, 3 * H), output("h", h, t, B, H)
    cdef void* p_hp = data("hp", hp, t, B, 3 * H)
    cdef void* p_g = data("gates", gates, t, B, 3 * H)
    cdef void* p_h = data("h", h, t, B, H)
    disjoint_arrays(("hp", "gates", "h", "xp", "h_prev", "w_hh", "b_hh"), 3, (hp, gates, h, xp, h_prev, w_hh, b_hh))
    check_recurrent(transposed, B, 3 * H, H)
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _gru_forward(<double>0, a, B, H, p_xp, p_h_prev, p_w, transposed, p_b, p_hp, p_g, p_h)
            else:
                _gru_forward(<float>0, a, B, H, p_xp, p_h_prev, p_w, transposed, p_b, p_hp, p_g, p_h)
    return hp, gates, h


cdef void _gru_backward(floating kind, int a, Py_ssize_t B, Py_ssize_t H, void* gates, void* hp, void* h_prev,
                        void* w_hh, void* dh, void* dxp, void* dhp, void* dh_prev) noexcept nogil:
    gru_backward(a, B, H, <floating*>gates, <floating*>hp, <floating*>h_prev, <floating*>dh, <floating*>dxp,
                 <floating*>dhp, <floating*>dh_prev)
    gemm(False, False, B, H, 3 * H, 1, <floating*>dhp, 3 * H, <floating*>w_hh, H, 1, <floating*>dh_prev, H)


def gru_step_backward(gates, hp, h_prev, w_hh, dh, str act, dxp=None, dhp=None, dh_prev=None):
    """dxp, dhp as gru_gates_backward (dh None: zero); dh_prev = dh⊙z + dhp @ W_hh → (dxp, dhp, dh_prev)"""
    cdef int a = gate_code(act), t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_g = data("gates", gates, t, B, 3 * H)
    cdef void* p_hp = data("hp", hp, t, B, 3 * H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    cdef void* p_w = data("w_hh", w_hh, t, 3 * H, H)
    cdef void* p_dh = optional_data("dh", dh, t, B, H)
    dxp, dhp, dh_prev = (output("dxp", dxp, t, B, 3 * H), output("dhp", dhp, t, B, 3 * H),
                         output("dh_prev", dh_prev, t, B, H))
    cdef void* p_dxp = data("dxp", dxp, t, B, 3 * H)
    cdef void* p_dhp = data("dhp", dhp, t, B, 3 * H)
    cdef void* p_dh_prev = data("dh_prev", dh_prev, t, B, H)
    disjoint_arrays(("dxp", "dhp", "dh_prev", "gates", "hp", "h_prev", "w_hh", "dh"), 3,
                    (dxp, dhp, dh_prev, gates, hp, h_prev, w_hh, dh))
    check_gemm("h_prev", B, H, 3 * H, 3 * H, H, H)
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _gru_backward(<double>0, a, B, H, p_g, p_hp, p_h_prev, p_w, p_dh, p_dxp, p_dhp, p_dh_prev)
            else:
                _gru_backward(<float>0, a, B, H, p_g, p_hp, p_h_prev, p_w, p_dh, p_dxp, p_dhp, p_dh_prev)
    return dxp, dhp, dh_prev


# ---- vanilla RNN -----------------------------------------------------------------------------------------------

cdef int rnn_code(str nonlinearity) except -1:
    if nonlinearity == "tanh":
        return 0
    if nonlinearity == "relu":
        return 1
    raise ValueError(f"nonlinearity: expected one of 'tanh', 'relu', but got {nonlinearity!r}")


cdef void _rnn_forward(floating kind, bint relu, Py_ssize_t B, Py_ssize_t H, void* xp, void* h_prev, void* w_hh,
                       bint transposed, void* h) noexcept nogil:
    cdef floating* out = <floating*>h
    cdef Py_ssize_t k
    memcpy(out, xp, B * H * sizeof(floating))
    recurrent_gemm(transposed, B, H, H, <floating*>h_prev, <floating*>w_hh, out)
    if relu:
        for k in range(B * H):
            out[k] = 0 if out[k] < 0 else out[k]             # max(z, 0), NaN kept (as np.maximum does)
    else:
        tanh_array(B * H, out, out)


def rnn_step_forward(xp, h_prev, w_hh, str nonlinearity, h=None, bint transposed=False):
    """h = act(xp + h_prev @ W_hhᵀ), act tanh or relu → h"""
    cdef int relu = rnn_code(nonlinearity), t = float_type("h_prev", h_prev)
    cdef Py_ssize_t H, B = rows_cols("h_prev", h_prev, &H)
    cdef void* p_xp = data("xp", xp, t, B, H)
    cdef void* p_h_prev = data("h_prev", h_prev, t, B, H)
    cdef void* p_w = weight_data(w_hh, t, H, H, transposed)
    h = output("h", h, t, B, H)
    cdef void* p_h = data("h", h, t, B, H)
    disjoint_arrays(("h", "xp", "h_prev", "w_hh"), 1, (h, xp, h_prev, w_hh))
    check_recurrent(transposed, B, H, H)
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _rnn_forward(<double>0, relu, B, H, p_xp, p_h_prev, p_w, transposed, p_h)
            else:
                _rnn_forward(<float>0, relu, B, H, p_xp, p_h_prev, p_w, transposed, p_h)
    return h


cdef void _rnn_backward(floating kind, bint relu, Py_ssize_t B, Py_ssize_t H, void* h, void* w_hh, void* dh,
                        void* dz, void* dh_prev) noexcept nogil:
    cdef floating* y = <floating*>h
    cdef floating* g = <floating*>dh
    cdef floating* out = <floating*>dz
    cdef Py_ssize_t k
    for k in range(B * H):
        if g == NULL:
            out[k] = 0
        else:
            out[k] = g[k] * ((1 if y[k] > 0 else 0) if relu else 1 - y[k] * y[k])
    gemm(False, False, B, H, H, 1, out, H, <floating*>w_hh, H, 0, <floating*>dh_prev, H)


def rnn_step_backward(h, w_hh, dh, str nonlinearity, dz=None, dh_prev=None):
    """dz = dh⊙act'(h) (from the output: 1 − h², or h > 0; dh None: zero); dh_prev = dz @ W_hh → (dz, dh_prev)"""
    cdef int relu = rnn_code(nonlinearity), t = float_type("h", h)
    cdef Py_ssize_t H, B = rows_cols("h", h, &H)
    cdef void* p_h = data("h", h, t, B, H)
    cdef void* p_w = data("w_hh", w_hh, t, H, H)
    cdef void* p_dh = optional_data("dh", dh, t, B, H)
    dz, dh_prev = output("dz", dz, t, B, H), output("dh_prev", dh_prev, t, B, H)
    cdef void* p_dz = data("dz", dz, t, B, H)
    cdef void* p_dh_prev = data("dh_prev", dh_prev, t, B, H)
    disjoint_arrays(("dz", "dh_prev", "h", "w_hh", "dh"), 2, (dz, dh_prev, h, w_hh, dh))
    check_gemm("h", B, H, H, H, H, H)
    if B and H:
        with nogil:
            if t == cnp.NPY_FLOAT64:
                _rnn_backward(<double>0, relu, B, H, p_h, p_w, p_dh, p_dz, p_dh_prev)
            else:
                _rnn_backward(<float>0, relu, B, H, p_h, p_w, p_dh, p_dz, p_dh_prev)
    return dz, dh_prev


# ---- W_hhᵀ, once per sequence ------------------------------------------------------------------------------------

cdef enum:
    TILE = 32                                    # 32×32 tiles: reads and writes both stay within cache lines


cdef void _transpose(floating kind, const void* src, void* dst, Py_ssize_t R, Py_ssize_t C) noexcept nogil:
    cdef const floating* a = <const floating*>src
    cdef floating* b = <floating*>dst
    cdef Py_ssize_t i0 = 0, j0, i, j, ie, je
    while i0 < R:
        ie = min(i0 + TILE, R)
        j0 = 0
        while j0 < C:
            je = min(j0 + TILE, C)
            for j in range(j0, je):
                for i in range(i0, ie):
                    b[j * R + i] = a[i * C + j]
            j0 += TILE
        i0 += TILE


def transposed(w, out=None):
    """wᵀ as a new C-contiguous array (or into out): W_hh (G·H, H) → (H, G·H), tiled (NumPy's strided copy of a
    transpose is 3× slower at these sizes)"""
    cdef int t = float_type("w", w)
    cdef Py_ssize_t C, R = rows_cols("w", w, &C)
    cdef void* p_w = data("w", w, t, R, C)
    out = output("out", out, t, C, R)
    cdef void* p_out = data("out", out, t, C, R)
    disjoint_arrays(("out", "w"), 1, (out, w))
    with nogil:
        if t == cnp.NPY_FLOAT64:
            _transpose(<double>0, p_w, p_out, R, C)
        else:
            _transpose(<float>0, p_w, p_out, R, C)
    return out
