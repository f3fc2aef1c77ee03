# The gate loops, on raw row-major pointers, shared by gates.pyx (gate kernels) and steps.pyx (GEMM + gates).
# Gate order i, f, g, o (LSTM) and r, z, n (GRU); `a` is a gate activation code from _math.pxd.
# The forward loops read a row's pre-activations before writing its outputs, so z may alias gates.
from cython cimport floating

from ._math cimport gate, gate_grad, tanh_


cdef inline void lstm_forward(int a, Py_ssize_t B, Py_ssize_t H, const floating* z, const floating* c_prev,
                              floating* gates, floating* c, floating* h) noexcept nogil:
    """i,f,o = act(z), g = tanh(z); c = f⊙c_prev + i⊙g; h = o⊙tanh(c)"""
    cdef Py_ssize_t b, j, k, m
    cdef floating i, f, g, o, ct
    for b in range(B):
        for j in range(H):
            k, m = b * 4 * H + j, b * H + j
            i, f, g, o = gate(a, z[k]), gate(a, z[k + H]), tanh_(z[k + 2 * H]), gate(a, z[k + 3 * H])
            ct = f * c_prev[m] + i * g
            gates[k], gates[k + H], gates[k + 2 * H], gates[k + 3 * H] = i, f, g, o
            c[m] = ct
            h[m] = o * tanh_(ct)


cdef inline void lstm_backward(int a, Py_ssize_t B, Py_ssize_t H, const floating* gates, const floating* c_prev,
                               const floating* c, const floating* dh, const floating* dc,
                               floating* dz, floating* dc_prev) noexcept nogil:
    """dc_t = dc + dh⊙o⊙(1−tanh²c); dz = [dc_t⊙g⊙i', dc_t⊙c_prev⊙f', dc_t⊙i⊙(1−g²), dh⊙tanh(c)⊙o']; dc_prev = dc_t⊙f
    (dh or dc NULL: zero)"""
    cdef Py_ssize_t b, j, k, m
    cdef floating i, f, g, o, tc, dct, dhm
    for b in range(B):
        for j in range(H):
            k, m = b * 4 * H + j, b * H + j
            i, f, g, o = gates[k], gates[k + H], gates[k + 2 * H], gates[k + 3 * H]
            tc = tanh_(c[m])
            dhm = dh[m] if dh != NULL else 0
            dct = (dc[m] if dc != NULL else 0) + dhm * o * (1 - tc * tc)
            dz[k] = dct * g * gate_grad(a, i)
            dz[k + H] = dct * c_prev[m] * gate_grad(a, f)
            dz[k + 2 * H] = dct * i * (1 - g * g)
            dz[k + 3 * H] = dhm * tc * gate_grad(a, o)
            dc_prev[m] = dct * f


cdef inline void peephole_forward(int a, Py_ssize_t B, Py_ssize_t H, const floating* z, const floating* c_prev,
                                  const floating* w_ci, const floating* w_cf, const floating* w_co,
                                  floating* gates, floating* c, floating* h) noexcept nogil:
    """i = act(z_i + w_ci⊙c_prev), f = act(z_f + w_cf⊙c_prev), g = tanh(z_g); c = f⊙c_prev + i⊙g;
    o = act(z_o + w_co⊙c); h = o⊙tanh(c)"""
    cdef Py_ssize_t b, j, k, m
    cdef floating i, f, g, o, cp, ct, zo
    for b in range(B):
        for j in range(H):
            k, m = b * 4 * H + j, b * H + j
            cp, zo = c_prev[m], z[k + 3 * H]
            i = gate(a, z[k] + w_ci[j] * cp)
            f = gate(a, z[k + H] + w_cf[j] * cp)
            g = tanh_(z[k + 2 * H])
            ct = f * cp + i * g
            o = gate(a, zo + w_co[j] * ct)
            gates[k], gates[k + H], gates[k + 2 * H], gates[k + 3 * H] = i, f, g, o
            c[m] = ct
            h[m] = o * tanh_(ct)


cdef inline void peephole_backward(int a, Py_ssize_t B, Py_ssize_t H, const floating* gates,
                                   const floating* c_prev, const floating* c, const floating* w_ci,
                                   const floating* w_cf, const floating* w_co, const floating* dh,
                                   const floating* dc, floating* dz, floating* dc_prev, floating* dw_ci,
                                   floating* dw_cf, floating* dw_co) noexcept nogil:
    """do = dh⊙tanh(c)⊙o'; dc_t = dc + dh⊙o⊙(1−tanh²c) + do⊙w_co; di = dc_t⊙g⊙i'; df = dc_t⊙c_prev⊙f';
    dc_prev = dc_t⊙f + di⊙w_ci + df⊙w_cf; dw_ci = Σ_b di⊙c_prev, dw_cf = Σ_b df⊙c_prev, dw_co = Σ_b do⊙c"""
    cdef Py_ssize_t b, j, k, m
    cdef floating i, f, g, o, tc, cp, do, dct, di, df, dhm
    for j in range(H):
        dw_ci[j] = 0
        dw_cf[j] = 0
        dw_co[j] = 0
    for b in range(B):
        for j in range(H):
            k, m = b * 4 * H + j, b * H + j
            i, f, g, o = gates[k], gates[k + H], gates[k + 2 * H], gates[k + 3 * H]
            cp = c_prev[m]
            tc = tanh_(c[m])
            dhm = dh[m] if dh != NULL else 0
            do = dhm * tc * gate_grad(a, o)
            dct = (dc[m] if dc != NULL else 0) + dhm * o * (1 - tc * tc) + do * w_co[j]
            di = dct * g * gate_grad(a, i)
            df = dct * cp * gate_grad(a, f)
            dz[k], dz[k + H], dz[k + 2 * H], dz[k + 3 * H] = di, df, dct * i * (1 - g * g), do
            dc_prev[m] = dct * f + di * w_ci[j] + df * w_cf[j]
            dw_ci[j] += di * cp
            dw_cf[j] += df * cp
            dw_co[j] += do * c[m]


cdef inline void gru_forward(int a, Py_ssize_t B, Py_ssize_t H, const floating* xp, const floating* hp,
                             const floating* h_prev, floating* gates, floating* h) noexcept nogil:
    """reset-after: r, z = act(xp + hp); n = tanh(xp_n + r⊙hp_n); h = (1−z)⊙n + z⊙h_prev"""
    cdef Py_ssize_t b, j, k, m
    cdef floating r, zz, n
    for b in range(B):
        for j in range(H):
            k, m = b * 3 * H + j, b * H + j
            r = gate(a, xp[k] + hp[k])
            zz = gate(a, xp[k + H] + hp[k + H])
            n = tanh_(xp[k + 2 * H] + r * hp[k + 2 * H])
            gates[k], gates[k + H], gates[k + 2 * H] = r, zz, n
            h[m] = (1 - zz) * n + zz * h_prev[m]


cdef inline void gru_backward(int a, Py_ssize_t B, Py_ssize_t H, const floating* gates, const floating* hp,
                              const floating* h_prev, const floating* dh, floating* dxp, floating* dhp,
                              floating* dh_prev) noexcept nogil:
    """dn = dh⊙(1−z)⊙(1−n²); dz = dh⊙(h_prev−n)⊙z'; dr = dn⊙hp_n⊙r'; dxp = [dr, dz, dn]; dhp = [dr, dz, dn⊙r];
    dh_prev = dh⊙z (the part not through hp; dh NULL: zero)"""
    cdef Py_ssize_t b, j, k, m
    cdef floating r, zz, n, dn, dzz, dr, dhm
    for b in range(B):
        for j in range(H):
            k, m = b * 3 * H + j, b * H + j
            r, zz, n = gates[k], gates[k + H], gates[k + 2 * H]
            dhm = dh[m] if dh != NULL else 0
            dn = dhm * (1 - zz) * (1 - n * n)
            dzz = dhm * (h_prev[m] - n) * gate_grad(a, zz)
            dr = dn * hp[k + 2 * H] * gate_grad(a, r)
            dxp[k], dxp[k + H], dxp[k + 2 * H] = dr, dzz, dn
            dhp[k], dhp[k + H], dhp[k + 2 * H] = dr, dzz, dn * r
            dh_prev[m] = dhm * zz
