"""Fused recurrent gate kernels: one pass over (B, H) per step, forward and backward, float32 and float64.

Signatures match the NumPy twins in _reference_gates.py: inputs first, then the gate activation name, then the
C-contiguous outputs to write. Gate order i, f, g, o (LSTM) and r, z, n (GRU). _backend.py checks the arrays.
"""
from cython cimport floating

from ._math cimport gate, gate_grad, tanh_


cdef int gate_code(str act) except -1:
    if act == "sigmoid":
        return 1
    if act == "hard_sigmoid":
        return 3
    raise ValueError(f"act: expected 'sigmoid' or 'hard_sigmoid', but got {act!r}")


def lstm_gates_forward(const floating[:, ::1] z, const floating[:, ::1] c_prev, str act,
                       floating[:, ::1] gates, floating[:, ::1] c, floating[:, ::1] h):
    """i,f,o = act(z), g = tanh(z); c = f⊙c_prev + i⊙g; h = o⊙tanh(c)"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = c_prev.shape[0], H = c_prev.shape[1], b, j
    cdef floating i, f, g, o, ct
    with nogil:
        for b in range(B):
            for j in range(H):
                i = gate(a, z[b, j])
                f = gate(a, z[b, H + j])
                g = tanh_(z[b, 2 * H + j])
                o = gate(a, z[b, 3 * H + j])
                ct = f * c_prev[b, j] + i * g
                gates[b, j], gates[b, H + j], gates[b, 2 * H + j], gates[b, 3 * H + j] = i, f, g, o
                c[b, j] = ct
                h[b, j] = o * tanh_(ct)


def lstm_gates_backward(const floating[:, ::1] gates, const floating[:, ::1] c_prev, const floating[:, ::1] c,
                        const floating[:, ::1] dh, const floating[:, ::1] dc, str act,
                        floating[:, ::1] dz, floating[:, ::1] dc_prev):
    """dc_t = dc + dh⊙o⊙(1−tanh²c); dz = [dc_t⊙g⊙i', dc_t⊙c_prev⊙f', dc_t⊙i⊙(1−g²), dh⊙tanh(c)⊙o']; dc_prev = dc_t⊙f"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = c_prev.shape[0], H = c_prev.shape[1], b, j
    cdef floating i, f, g, o, tc, dct
    with nogil:
        for b in range(B):
            for j in range(H):
                i, f, g, o = gates[b, j], gates[b, H + j], gates[b, 2 * H + j], gates[b, 3 * H + j]
                tc = tanh_(c[b, j])
                dct = dc[b, j] + dh[b, j] * o * (1 - tc * tc)
                dz[b, j] = dct * g * gate_grad(a, i)
                dz[b, H + j] = dct * c_prev[b, j] * gate_grad(a, f)
                dz[b, 2 * H + j] = dct * i * (1 - g * g)
                dz[b, 3 * H + j] = dh[b, j] * tc * gate_grad(a, o)
                dc_prev[b, j] = dct * f


def peephole_gates_forward(const floating[:, ::1] z, const floating[:, ::1] c_prev, const floating[::1] w_ci,
                           const floating[::1] w_cf, const floating[::1] w_co, str act,
                           floating[:, ::1] gates, floating[:, ::1] c, floating[:, ::1] h):
    """i = act(z_i + w_ci⊙c_prev), f = act(z_f + w_cf⊙c_prev), g = tanh(z_g); c = f⊙c_prev + i⊙g;
    o = act(z_o + w_co⊙c); h = o⊙tanh(c)"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = c_prev.shape[0], H = c_prev.shape[1], b, j
    cdef floating i, f, g, o, cp, ct
    with nogil:
        for b in range(B):
            for j in range(H):
                cp = c_prev[b, j]
                i = gate(a, z[b, j] + w_ci[j] * cp)
                f = gate(a, z[b, H + j] + w_cf[j] * cp)
                g = tanh_(z[b, 2 * H + j])
                ct = f * cp + i * g
                o = gate(a, z[b, 3 * H + j] + w_co[j] * ct)
                gates[b, j], gates[b, H + j], gates[b, 2 * H + j], gates[b, 3 * H + j] = i, f, g, o
                c[b, j] = ct
                h[b, j] = o * tanh_(ct)


def peephole_gates_backward(const floating[:, ::1] gates, const floating[:, ::1] c_prev, const floating[:, ::1] c,
                            const floating[::1] w_ci, const floating[::1] w_cf, const floating[::1] w_co,
                            const floating[:, ::1] dh, const floating[:, ::1] dc, str act,
                            floating[:, ::1] dz, floating[:, ::1] dc_prev, floating[::1] dw_ci,
                            floating[::1] dw_cf, floating[::1] dw_co):
    """do = dh⊙tanh(c)⊙o'; dc_t = dc + dh⊙o⊙(1−tanh²c) + do⊙w_co; di = dc_t⊙g⊙i'; df = dc_t⊙c_prev⊙f';
    dc_prev = dc_t⊙f + di⊙w_ci + df⊙w_cf; dw_ci = Σ_b di⊙c_prev, dw_cf = Σ_b df⊙c_prev, dw_co = Σ_b do⊙c"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = c_prev.shape[0], H = c_prev.shape[1], b, j
    cdef floating i, f, g, o, tc, cp, do, dct, di, df
    with nogil:
        for j in range(H):
            dw_ci[j] = 0
            dw_cf[j] = 0
            dw_co[j] = 0
        for b in range(B):
            for j in range(H):
                i, f, g, o = gates[b, j], gates[b, H + j], gates[b, 2 * H + j], gates[b, 3 * H + j]
                cp = c_prev[b, j]
                tc = tanh_(c[b, j])
                do = dh[b, j] * tc * gate_grad(a, o)
                dct = dc[b, j] + dh[b, j] * o * (1 - tc * tc) + do * w_co[j]
                di = dct * g * gate_grad(a, i)
                df = dct * cp * gate_grad(a, f)
                dz[b, j], dz[b, H + j], dz[b, 2 * H + j], dz[b, 3 * H + j] = di, df, dct * i * (1 - g * g), do
                dc_prev[b, j] = dct * f + di * w_ci[j] + df * w_cf[j]
                dw_ci[j] += di * cp
                dw_cf[j] += df * cp
                dw_co[j] += do * c[b, j]


def gru_gates_forward(const floating[:, ::1] xp, const floating[:, ::1] hp, const floating[:, ::1] h_prev, str act,
                      floating[:, ::1] gates, floating[:, ::1] h):
    """reset-after: r, z = act(xp + hp); n = tanh(xp_n + r⊙hp_n); h = (1−z)⊙n + z⊙h_prev"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1], b, j
    cdef floating r, zz, n
    with nogil:
        for b in range(B):
            for j in range(H):
                r = gate(a, xp[b, j] + hp[b, j])
                zz = gate(a, xp[b, H + j] + hp[b, H + j])
                n = tanh_(xp[b, 2 * H + j] + r * hp[b, 2 * H + j])
                gates[b, j], gates[b, H + j], gates[b, 2 * H + j] = r, zz, n
                h[b, j] = (1 - zz) * n + zz * h_prev[b, j]


def gru_gates_backward(const floating[:, ::1] gates, const floating[:, ::1] hp, const floating[:, ::1] h_prev,
                       const floating[:, ::1] dh, str act,
                       floating[:, ::1] dxp, floating[:, ::1] dhp, floating[:, ::1] dh_prev):
    """dn = dh⊙(1−z)⊙(1−n²); dz = dh⊙(h_prev−n)⊙z'; dr = dn⊙hp_n⊙r'; dxp = [dr, dz, dn]; dhp = [dr, dz, dn⊙r];
    dh_prev = dh⊙z (the part not through hp)"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1], b, j
    cdef floating r, zz, n, dn, dzz, dr
    with nogil:
        for b in range(B):
            for j in range(H):
                r, zz, n = gates[b, j], gates[b, H + j], gates[b, 2 * H + j]
                dn = dh[b, j] * (1 - zz) * (1 - n * n)
                dzz = dh[b, j] * (h_prev[b, j] - n) * gate_grad(a, zz)
                dr = dn * hp[b, 2 * H + j] * gate_grad(a, r)
                dxp[b, j], dxp[b, H + j], dxp[b, 2 * H + j] = dr, dzz, dn
                dhp[b, j], dhp[b, H + j], dhp[b, 2 * H + j] = dr, dzz, dn * r
                dh_prev[b, j] = dh[b, j] * zz


def gru_cho_reset_forward(const floating[:, ::1] xp, const floating[:, ::1] hp_rz, const floating[:, ::1] h_prev,
                          str act, floating[:, ::1] gates_rz, floating[:, ::1] rh):
    """Cho GRU, first half: r, z = act(xp_rz + hp_rz); rh = r⊙h_prev"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1], b, j
    cdef floating r
    with nogil:
        for b in range(B):
            for j in range(H):
                r = gate(a, xp[b, j] + hp_rz[b, j])
                gates_rz[b, j] = r
                gates_rz[b, H + j] = gate(a, xp[b, H + j] + hp_rz[b, H + j])
                rh[b, j] = r * h_prev[b, j]


def gru_cho_update_forward(const floating[:, ::1] xp, const floating[:, ::1] hn, const floating[:, ::1] gates_rz,
                           const floating[:, ::1] h_prev, floating[:, ::1] n, floating[:, ::1] h):
    """Cho GRU, second half: n = tanh(xp_n + hn); h = (1−z)⊙n + z⊙h_prev"""
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1], b, j
    cdef floating nn, zz
    with nogil:
        for b in range(B):
            for j in range(H):
                nn = tanh_(xp[b, 2 * H + j] + hn[b, j])
                zz = gates_rz[b, H + j]
                n[b, j] = nn
                h[b, j] = (1 - zz) * nn + zz * h_prev[b, j]


def gru_cho_update_backward(const floating[:, ::1] gates_rz, const floating[:, ::1] n,
                            const floating[:, ::1] h_prev, const floating[:, ::1] dh, str act,
                            floating[:, ::1] dz_pre, floating[:, ::1] dn_pre, floating[:, ::1] dh_prev):
    """dn_pre = dh⊙(1−z)⊙(1−n²); dz_pre = dh⊙(h_prev−n)⊙z'; dh_prev = dh⊙z"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1], b, j
    cdef floating zz, nn
    with nogil:
        for b in range(B):
            for j in range(H):
                zz, nn = gates_rz[b, H + j], n[b, j]
                dn_pre[b, j] = dh[b, j] * (1 - zz) * (1 - nn * nn)
                dz_pre[b, j] = dh[b, j] * (h_prev[b, j] - nn) * gate_grad(a, zz)
                dh_prev[b, j] = dh[b, j] * zz


def gru_cho_reset_backward(const floating[:, ::1] gates_rz, const floating[:, ::1] h_prev,
                           const floating[:, ::1] d_rh, str act, floating[:, ::1] dr_pre, floating[:, ::1] dh_prev):
    """given d_rh = dn_pre @ W_hn: dr_pre = d_rh⊙h_prev⊙r'; dh_prev = d_rh⊙r"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1], b, j
    cdef floating r
    with nogil:
        for b in range(B):
            for j in range(H):
                r = gates_rz[b, j]
                dr_pre[b, j] = d_rh[b, j] * h_prev[b, j] * gate_grad(a, r)
                dh_prev[b, j] = d_rh[b, j] * r
