"""Fused recurrent gate kernels: one pass over (B, H) per step, forward and backward, float32 and float64.

Signatures match the NumPy twins in _reference_gates.py: inputs first, then the gate activation name, then the
C-contiguous outputs to write. Gate order i, f, g, o (LSTM) and r, z, n (GRU). Each entry checks its shapes, and
that no output shares memory with an input or another output (typed memoryviews check dtype, rank, C order and
refuse a byte-swapped buffer); _backend.py turns any failure into a message naming the argument.
"""
from cython cimport floating

from ._checks cimport expect, expect1, gate_code
from ._gate_loops cimport gru_backward, gru_forward, lstm_backward, lstm_forward, peephole_backward, peephole_forward
from ._math cimport gate_array, gate_grad, tanh_array
from ._overlap cimport Span, disjoint, span


cdef inline Span rows(const floating[:, ::1] a):
    """The bytes of a (B, H) memoryview (None or empty: none), for disjoint()."""
    if a is None or a.shape[0] == 0 or a.shape[1] == 0:
        return span(NULL, 0)
    return span(&a[0, 0], a.shape[0] * a.shape[1] * sizeof(floating))


cdef inline Span vec(const floating[::1] a):
    """The bytes of an (H,) memoryview (empty: none)."""
    if a is None or a.shape[0] == 0:
        return span(NULL, 0)
    return span(&a[0], a.shape[0] * sizeof(floating))


cdef const floating* optional_rows(str name, const floating[:, ::1] a, Py_ssize_t B, Py_ssize_t H) except? NULL:
    """&a[0, 0] after checking a is (B, H); NULL for None (an upstream gradient that is zero) or an empty a."""
    if a is None:
        return NULL
    expect(name, a.shape[0], a.shape[1], B, H)
    return &a[0, 0] if B and H else NULL


def lstm_gates_forward(const floating[:, ::1] z not None, const floating[:, ::1] c_prev not None, str act,
                       floating[:, ::1] gates not None, floating[:, ::1] c not None, floating[:, ::1] h not None):
    """i,f,o = act(z), g = tanh(z); c = f⊙c_prev + i⊙g; h = o⊙tanh(c)"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = c_prev.shape[0], H = c_prev.shape[1]
    expect("z", z.shape[0], z.shape[1], B, 4 * H)
    expect("gates", gates.shape[0], gates.shape[1], B, 4 * H)
    expect("c", c.shape[0], c.shape[1], B, H)
    expect("h", h.shape[0], h.shape[1], B, H)
    cdef Span s[5]
    s[0], s[1], s[2], s[3], s[4] = rows(gates), rows(c), rows(h), rows(z), rows(c_prev)
    disjoint(("gates", "c", "h", "z", "c_prev"), s, 3, 5)
    if B and H:
        with nogil:
            lstm_forward(a, B, H, &z[0, 0], &c_prev[0, 0], &gates[0, 0], &c[0, 0], &h[0, 0])


def lstm_gates_backward(const floating[:, ::1] gates not None, const floating[:, ::1] c_prev not None,
                        const floating[:, ::1] c not None, const floating[:, ::1] dh, const floating[:, ::1] dc,
                        str act, floating[:, ::1] dz not None, floating[:, ::1] dc_prev not None):
    """dc_t = dc + dh⊙o⊙(1−tanh²c); dz = [dc_t⊙g⊙i', dc_t⊙c_prev⊙f', dc_t⊙i⊙(1−g²), dh⊙tanh(c)⊙o']; dc_prev = dc_t⊙f
    (dh or dc None: zero)"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = c_prev.shape[0], H = c_prev.shape[1]
    expect("gates", gates.shape[0], gates.shape[1], B, 4 * H)
    expect("c", c.shape[0], c.shape[1], B, H)
    cdef const floating* pdh = optional_rows("dh", dh, B, H)
    cdef const floating* pdc = optional_rows("dc", dc, B, H)
    expect("dz", dz.shape[0], dz.shape[1], B, 4 * H)
    expect("dc_prev", dc_prev.shape[0], dc_prev.shape[1], B, H)
    cdef Span s[7]
    s[0], s[1], s[2], s[3], s[4], s[5], s[6] = rows(dz), rows(dc_prev), rows(gates), rows(c_prev), rows(c), rows(dh), rows(dc)
    disjoint(("dz", "dc_prev", "gates", "c_prev", "c", "dh", "dc"), s, 2, 7)
    if B and H:
        with nogil:
            lstm_backward(a, B, H, &gates[0, 0], &c_prev[0, 0], &c[0, 0], pdh, pdc, &dz[0, 0], &dc_prev[0, 0])


def peephole_gates_forward(const floating[:, ::1] z not None, const floating[:, ::1] c_prev not None,
                           const floating[::1] w_ci not None, const floating[::1] w_cf not None,
                           const floating[::1] w_co not None, str act,
                           floating[:, ::1] gates not None, floating[:, ::1] c not None, floating[:, ::1] h not None):
    """i = act(z_i + w_ci⊙c_prev), f = act(z_f + w_cf⊙c_prev), g = tanh(z_g); c = f⊙c_prev + i⊙g;
    o = act(z_o + w_co⊙c); h = o⊙tanh(c)"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = c_prev.shape[0], H = c_prev.shape[1]
    expect("z", z.shape[0], z.shape[1], B, 4 * H)
    expect1("w_ci", w_ci.shape[0], H)
    expect1("w_cf", w_cf.shape[0], H)
    expect1("w_co", w_co.shape[0], H)
    expect("gates", gates.shape[0], gates.shape[1], B, 4 * H)
    expect("c", c.shape[0], c.shape[1], B, H)
    expect("h", h.shape[0], h.shape[1], B, H)
    cdef Span s[8]
    s[0], s[1], s[2], s[3], s[4] = rows(gates), rows(c), rows(h), rows(z), rows(c_prev)
    s[5], s[6], s[7] = vec(w_ci), vec(w_cf), vec(w_co)
    disjoint(("gates", "c", "h", "z", "c_prev", "w_ci", "w_cf", "w_co"), s, 3, 8)
    if B and H:
        with nogil:
            peephole_forward(a, B, H, &z[0, 0], &c_prev[0, 0], &w_ci[0], &w_cf[0], &w_co[0],
                             &gates[0, 0], &c[0, 0], &h[0, 0])


def peephole_gates_backward(const floating[:, ::1] gates not None, const floating[:, ::1] c_prev not None,
                            const floating[:, ::1] c not None, const floating[::1] w_ci not None,
                            const floating[::1] w_cf not None, const floating[::1] w_co not None,
                            const floating[:, ::1] dh, const floating[:, ::1] dc, str act,
                            floating[:, ::1] dz not None, floating[:, ::1] dc_prev not None,
                            floating[::1] dw_ci not None, floating[::1] dw_cf not None, floating[::1] dw_co not None):
    """do = dh⊙tanh(c)⊙o'; dc_t = dc + dh⊙o⊙(1−tanh²c) + do⊙w_co; di = dc_t⊙g⊙i'; df = dc_t⊙c_prev⊙f';
    dc_prev = dc_t⊙f + di⊙w_ci + df⊙w_cf; dw_ci = Σ_b di⊙c_prev, dw_cf = Σ_b df⊙c_prev, dw_co = Σ_b do⊙c"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = c_prev.shape[0], H = c_prev.shape[1]
    expect("gates", gates.shape[0], gates.shape[1], B, 4 * H)
    expect("c", c.shape[0], c.shape[1], B, H)
    for name, n in (("w_ci", w_ci.shape[0]), ("w_cf", w_cf.shape[0]), ("w_co", w_co.shape[0]),
                    ("dw_ci", dw_ci.shape[0]), ("dw_cf", dw_cf.shape[0]), ("dw_co", dw_co.shape[0])):
        expect1(name, n, H)
    cdef const floating* pdh = optional_rows("dh", dh, B, H)
    cdef const floating* pdc = optional_rows("dc", dc, B, H)
    expect("dz", dz.shape[0], dz.shape[1], B, 4 * H)
    expect("dc_prev", dc_prev.shape[0], dc_prev.shape[1], B, H)
    cdef Span s[13]
    s[0], s[1], s[2], s[3], s[4] = rows(dz), rows(dc_prev), vec(dw_ci), vec(dw_cf), vec(dw_co)
    s[5], s[6], s[7], s[8], s[9], s[10] = rows(gates), rows(c_prev), rows(c), vec(w_ci), vec(w_cf), vec(w_co)
    s[11], s[12] = rows(dh), rows(dc)
    disjoint(("dz", "dc_prev", "dw_ci", "dw_cf", "dw_co", "gates", "c_prev", "c", "w_ci", "w_cf", "w_co", "dh", "dc"),
             s, 5, 13)
    if H:
        with nogil:
            peephole_backward(a, B, H, &gates[0, 0] if B else NULL, &c_prev[0, 0] if B else NULL,
                              &c[0, 0] if B else NULL, &w_ci[0], &w_cf[0], &w_co[0], pdh, pdc,
                              &dz[0, 0] if B else NULL, &dc_prev[0, 0] if B else NULL, &dw_ci[0], &dw_cf[0], &dw_co[0])


def gru_gates_forward(const floating[:, ::1] xp not None, const floating[:, ::1] hp not None,
                      const floating[:, ::1] h_prev not None, str act,
                      floating[:, ::1] gates not None, floating[:, ::1] h not None):
    """reset-after: r, z = act(xp + hp); n = tanh(xp_n + r⊙hp_n); h = (1−z)⊙n + z⊙h_prev"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1]
    expect("xp", xp.shape[0], xp.shape[1], B, 3 * H)
    expect("hp", hp.shape[0], hp.shape[1], B, 3 * H)
    expect("gates", gates.shape[0], gates.shape[1], B, 3 * H)
    expect("h", h.shape[0], h.shape[1], B, H)
    cdef Span s[5]
    s[0], s[1], s[2], s[3], s[4] = rows(gates), rows(h), rows(xp), rows(hp), rows(h_prev)
    disjoint(("gates", "h", "xp", "hp", "h_prev"), s, 2, 5)
    if B and H:
        with nogil:
            gru_forward(a, B, H, &xp[0, 0], &hp[0, 0], &h_prev[0, 0], &gates[0, 0], &h[0, 0])


def gru_gates_backward(const floating[:, ::1] gates not None, const floating[:, ::1] hp not None,
                       const floating[:, ::1] h_prev not None, const floating[:, ::1] dh, str act,
                       floating[:, ::1] dxp not None, floating[:, ::1] dhp not None,
                       floating[:, ::1] dh_prev not None):
    """dn = dh⊙(1−z)⊙(1−n²); dz = dh⊙(h_prev−n)⊙z'; dr = dn⊙hp_n⊙r'; dxp = [dr, dz, dn]; dhp = [dr, dz, dn⊙r];
    dh_prev = dh⊙z (the part not through hp; dh None: zero)"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1]
    expect("gates", gates.shape[0], gates.shape[1], B, 3 * H)
    expect("hp", hp.shape[0], hp.shape[1], B, 3 * H)
    cdef const floating* pdh = optional_rows("dh", dh, B, H)
    expect("dxp", dxp.shape[0], dxp.shape[1], B, 3 * H)
    expect("dhp", dhp.shape[0], dhp.shape[1], B, 3 * H)
    expect("dh_prev", dh_prev.shape[0], dh_prev.shape[1], B, H)
    cdef Span s[7]
    s[0], s[1], s[2], s[3], s[4], s[5], s[6] = rows(dxp), rows(dhp), rows(dh_prev), rows(gates), rows(hp), rows(h_prev), rows(dh)
    disjoint(("dxp", "dhp", "dh_prev", "gates", "hp", "h_prev", "dh"), s, 3, 7)
    if B and H:
        with nogil:
            gru_backward(a, B, H, &gates[0, 0], &hp[0, 0], &h_prev[0, 0], pdh, &dxp[0, 0], &dhp[0, 0],
                         &dh_prev[0, 0])


def gru_cho_reset_forward(const floating[:, ::1] xp not None, const floating[:, ::1] hp_rz not None, const floating[:, ::1] h_prev not None,
                          str act, floating[:, ::1] gates_rz not None, floating[:, ::1] rh not None):
    """Cho GRU, first half: r, z = act(xp_rz + hp_rz); rh = r⊙h_prev"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1], b, j
    expect("xp", xp.shape[0], xp.shape[1], B, 3 * H)
    expect("hp_rz", hp_rz.shape[0], hp_rz.shape[1], B, 2 * H)
    expect("gates_rz", gates_rz.shape[0], gates_rz.shape[1], B, 2 * H)
    expect("rh", rh.shape[0], rh.shape[1], B, H)
    cdef Span s[5]
    s[0], s[1], s[2], s[3], s[4] = rows(gates_rz), rows(rh), rows(xp), rows(hp_rz), rows(h_prev)
    disjoint(("gates_rz", "rh", "xp", "hp_rz", "h_prev"), s, 2, 5)
    if B == 0 or H == 0:
        return
    with nogil:
        for b in range(B):
            for j in range(2 * H):
                gates_rz[b, j] = xp[b, j] + hp_rz[b, j]
            gate_array(a, 2 * H, &gates_rz[b, 0], &gates_rz[b, 0])
            for j in range(H):
                rh[b, j] = gates_rz[b, j] * h_prev[b, j]


def gru_cho_update_forward(const floating[:, ::1] xp not None, const floating[:, ::1] hn not None, const floating[:, ::1] gates_rz not None,
                           const floating[:, ::1] h_prev not None, floating[:, ::1] n not None, floating[:, ::1] h not None):
    """Cho GRU, second half: n = tanh(xp_n + hn); h = (1−z)⊙n + z⊙h_prev"""
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1], b, j
    cdef floating zz
    expect("xp", xp.shape[0], xp.shape[1], B, 3 * H)
    expect("hn", hn.shape[0], hn.shape[1], B, H)
    expect("gates_rz", gates_rz.shape[0], gates_rz.shape[1], B, 2 * H)
    expect("n", n.shape[0], n.shape[1], B, H)
    expect("h", h.shape[0], h.shape[1], B, H)
    cdef Span s[6]
    s[0], s[1], s[2], s[3], s[4], s[5] = rows(n), rows(h), rows(xp), rows(hn), rows(gates_rz), rows(h_prev)
    disjoint(("n", "h", "xp", "hn", "gates_rz", "h_prev"), s, 2, 6)
    if B == 0 or H == 0:
        return
    with nogil:
        for b in range(B):
            for j in range(H):
                n[b, j] = xp[b, 2 * H + j] + hn[b, j]
            tanh_array(H, &n[b, 0], &n[b, 0])
            for j in range(H):
                zz = gates_rz[b, H + j]
                h[b, j] = (1 - zz) * n[b, j] + zz * h_prev[b, j]


def gru_cho_update_backward(const floating[:, ::1] gates_rz not None, const floating[:, ::1] n not None,
                            const floating[:, ::1] h_prev not None, const floating[:, ::1] dh not None, str act,
                            floating[:, ::1] dz_pre not None, floating[:, ::1] dn_pre not None, floating[:, ::1] dh_prev not None):
    """dn_pre = dh⊙(1−z)⊙(1−n²); dz_pre = dh⊙(h_prev−n)⊙z'; dh_prev = dh⊙z"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1], b, j
    cdef floating zz, nn
    expect("gates_rz", gates_rz.shape[0], gates_rz.shape[1], B, 2 * H)
    for name, arr in (("n", n), ("dh", dh), ("dz_pre", dz_pre), ("dn_pre", dn_pre), ("dh_prev", dh_prev)):
        expect(name, arr.shape[0], arr.shape[1], B, H)
    cdef Span s[7]
    s[0], s[1], s[2], s[3], s[4], s[5], s[6] = rows(dz_pre), rows(dn_pre), rows(dh_prev), rows(gates_rz), rows(n), rows(h_prev), rows(dh)
    disjoint(("dz_pre", "dn_pre", "dh_prev", "gates_rz", "n", "h_prev", "dh"), s, 3, 7)
    with nogil:
        for b in range(B):
            for j in range(H):
                zz, nn = gates_rz[b, H + j], n[b, j]
                dn_pre[b, j] = dh[b, j] * (1 - zz) * (1 - nn * nn)
                dz_pre[b, j] = dh[b, j] * (h_prev[b, j] - nn) * gate_grad(a, zz)
                dh_prev[b, j] = dh[b, j] * zz


def gru_cho_reset_backward(const floating[:, ::1] gates_rz not None, const floating[:, ::1] h_prev not None,
                           const floating[:, ::1] d_rh not None, str act, floating[:, ::1] dr_pre not None, floating[:, ::1] dh_prev not None):
    """given d_rh = dn_pre @ W_hn: dr_pre = d_rh⊙h_prev⊙r'; dh_prev = d_rh⊙r"""
    cdef int a = gate_code(act)
    cdef Py_ssize_t B = h_prev.shape[0], H = h_prev.shape[1], b, j
    cdef floating r
    expect("gates_rz", gates_rz.shape[0], gates_rz.shape[1], B, 2 * H)
    for name, arr in (("d_rh", d_rh), ("dr_pre", dr_pre), ("dh_prev", dh_prev)):
        expect(name, arr.shape[0], arr.shape[1], B, H)
    cdef Span s[5]
    s[0], s[1], s[2], s[3], s[4] = rows(dr_pre), rows(dh_prev), rows(gates_rz), rows(h_prev), rows(d_rh)
    disjoint(("dr_pre", "dh_prev", "gates_rz", "h_prev", "d_rh"), s, 2, 5)
    with nogil:
        for b in range(B):
            for j in range(H):
                r = gates_rz[b, j]
                dr_pre[b, j] = d_rh[b, j] * h_prev[b, j] * gate_grad(a, r)
                dh_prev[b, j] = d_rh[b, j] * r
