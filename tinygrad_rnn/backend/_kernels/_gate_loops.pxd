# The gate loops, on raw row-major pointers, shared by gates.pyx (gate kernels) and steps.pyx (GEMM + gates).
# Gate order i, f, g, o (LSTM) and r, z, n (GRU); `a` is a gate activation code from _math.pxd.
# Each row goes in passes over contiguous runs (at most CHUNK units where a stack buffer is needed): activations
# through the vectorized array functions of _math.pxd (scalar expf/tanhf were most of the time), each elementwise
# formula in its own plain loop, which the compiler vectorizes too. A pass touches unit j at index j only, so z may
# alias gates (forward; steps.pyx does so) and an (B, H) output may share memory with an (B, H) input (c with c_prev,
# dc_prev with dc); the backward gradients dz, dxp, dhp must not overlap gates, which later passes re-read.
# The entry points (gates.pyx, steps.pyx) refuse every overlap a caller passes (_overlap.pxd): the GEMMs around these
# loops tolerate none, and one rule is easier to trust than a table of the safe ones.
from cython cimport floating
from libc.string cimport memcpy, memset

from ._math cimport gate_array, gate_grad, tanh_array

cdef enum:
    CHUNK = 256                  # units per stack-buffer pass for tanh(c) in the backward loops


cdef inline void lstm_forward(int a, Py_ssize_t B, Py_ssize_t H, const floating* z, const floating* c_prev,
                              floating* gates, floating* c, floating* h) noexcept nogil:
    """i,f,o = act(z), g = tanh(z); c = f⊙c_prev + i⊙g; h = o⊙tanh(c)"""
    cdef Py_ssize_t b, j
    cdef const floating* zb
    cdef const floating* cp
    cdef floating* gb
    cdef floating* cb
    cdef floating* hb
    for b in range(B):
        zb, gb, cp, cb, hb = z + b * 4 * H, gates + b * 4 * H, c_prev + b * H, c + b * H, h + b * H
        gate_array(a, 2 * H, zb, gb)                                # i, f
        tanh_array(H, zb + 2 * H, gb + 2 * H)                      # g
        gate_array(a, H, zb + 3 * H, gb + 3 * H)                   # o
        for j in range(H):
            cb[j] = gb[H + j] * cp[j] + gb[j] * gb[2 * H + j]
        tanh_array(H, cb, hb)
        for j in range(H):
            hb[j] = gb[3 * H + j] * hb[j]


cdef inline void lstm_backward(int a, Py_ssize_t B, Py_ssize_t H, const floating* gates, const floating* c_prev,
                               const floating* c, const floating* dh, const floating* dc,
                               floating* dz, floating* dc_prev) noexcept nogil:
    """dc_t = dc + dh⊙o⊙(1−tanh²c); dz = [dc_t⊙g⊙i', dc_t⊙c_prev⊙f', dc_t⊙i⊙(1−g²), dh⊙tanh(c)⊙o']; dc_prev = dc_t⊙f
    (dh or dc NULL: zero)"""
    cdef Py_ssize_t b, j, j0, n, k, m
    cdef floating tc[CHUNK]
    cdef floating dct[CHUNK]
    cdef floating zeros[CHUNK]
    cdef const floating *i
    cdef const floating *f
    cdef const floating *g
    cdef const floating *o
    cdef const floating *cp
    cdef const floating *dhm
    cdef const floating *dcm
    cdef floating *dzm
    memset(zeros, 0, sizeof(zeros))
    for b in range(B):
        j0 = 0
        while j0 < H:                                           # row b in chunks of at most CHUNK units
            n, k, m = min(H - j0, <Py_ssize_t>CHUNK), b * 4 * H + j0, b * H + j0
            i, f, g, o, cp, dzm = gates + k, gates + k + H, gates + k + 2 * H, gates + k + 3 * H, c_prev + m, dz + k
            dhm = dh + m if dh != NULL else zeros              # a missing gradient reads as zeros
            dcm = dc + m if dc != NULL else zeros
            tanh_array(n, c + m, tc)
            for j in range(n):
                dct[j] = dcm[j] + dhm[j] * o[j] * (1 - tc[j] * tc[j])
            for j in range(n):
                dzm[j] = dct[j] * g[j] * gate_grad(a, i[j])
            for j in range(n):
                dzm[H + j] = dct[j] * cp[j] * gate_grad(a, f[j])
            for j in range(n):
                dzm[2 * H + j] = dct[j] * i[j] * (1 - g[j] * g[j])
            for j in range(n):
                dzm[3 * H + j] = dhm[j] * tc[j] * gate_grad(a, o[j])
            for j in range(n):
                dc_prev[m + j] = dct[j] * f[j]
            j0 += n


cdef inline void peephole_forward(int a, Py_ssize_t B, Py_ssize_t H, const floating* z, const floating* c_prev,
                                  const floating* w_ci, const floating* w_cf, const floating* w_co,
                                  floating* gates, floating* c, floating* h) noexcept nogil:
    """i = act(z_i + w_ci⊙c_prev), f = act(z_f + w_cf⊙c_prev), g = tanh(z_g); c = f⊙c_prev + i⊙g;
    o = act(z_o + w_co⊙c); h = o⊙tanh(c)"""
    cdef Py_ssize_t b, j
    cdef const floating* zb
    cdef const floating* cp
    cdef floating* gb
    cdef floating* cb
    cdef floating* hb
    for b in range(B):
        zb, gb, cp, cb, hb = z + b * 4 * H, gates + b * 4 * H, c_prev + b * H, c + b * H, h + b * H
        for j in range(H):
            gb[j] = zb[j] + w_ci[j] * cp[j]
        for j in range(H):
            gb[H + j] = zb[H + j] + w_cf[j] * cp[j]
        gate_array(a, 2 * H, gb, gb)                                # i, f
        tanh_array(H, zb + 2 * H, gb + 2 * H)                      # g
        for j in range(H):
            cb[j] = gb[H + j] * cp[j] + gb[j] * gb[2 * H + j]
        for j in range(H):
            gb[3 * H + j] = zb[3 * H + j] + w_co[j] * cb[j]
        gate_array(a, H, gb + 3 * H, gb + 3 * H)                   # o
        tanh_array(H, cb, hb)
        for j in range(H):
            hb[j] = gb[3 * H + j] * hb[j]


cdef inline void peephole_backward(int a, Py_ssize_t B, Py_ssize_t H, const floating* gates,
                                   const floating* c_prev, const floating* c, const floating* w_ci,
                                   const floating* w_cf, const floating* w_co, const floating* dh,
                                   const floating* dc, floating* dz, floating* dc_prev, floating* dw_ci,
                                   floating* dw_cf, floating* dw_co) noexcept nogil:
    """do = dh⊙tanh(c)⊙o'; dc_t = dc + dh⊙o⊙(1−tanh²c) + do⊙w_co; di = dc_t⊙g⊙i'; df = dc_t⊙c_prev⊙f';
    dc_prev = dc_t⊙f + di⊙w_ci + df⊙w_cf; dw_ci = Σ_b di⊙c_prev, dw_cf = Σ_b df⊙c_prev, dw_co = Σ_b do⊙c"""
    cdef Py_ssize_t b, j, j0, n, k, m
    cdef floating tc[CHUNK]
    cdef floating dct[CHUNK]
    cdef floating zeros[CHUNK]
    cdef const floating *i
    cdef const floating *f
    cdef const floating *g
    cdef const floating *o
    cdef const floating *cp
    cdef const floating *dhm
    cdef const floating *dcm
    cdef floating *di
    cdef floating *df
    cdef floating *do
    memset(zeros, 0, sizeof(zeros))
    for j in range(H):
        dw_ci[j] = 0
        dw_cf[j] = 0
        dw_co[j] = 0
    for b in range(B):
        j0 = 0
        while j0 < H:                                           # row b in chunks of at most CHUNK units
            n, k, m = min(H - j0, <Py_ssize_t>CHUNK), b * 4 * H + j0, b * H + j0
            i, f, g, o, cp = gates + k, gates + k + H, gates + k + 2 * H, gates + k + 3 * H, c_prev + m
            di, df, do = dz + k, dz + k + H, dz + k + 3 * H
            dhm = dh + m if dh != NULL else zeros              # a missing gradient reads as zeros
            dcm = dc + m if dc != NULL else zeros
            tanh_array(n, c + m, tc)
            for j in range(n):
                do[j] = dhm[j] * tc[j] * gate_grad(a, o[j])
            for j in range(n):
                dct[j] = dcm[j] + dhm[j] * o[j] * (1 - tc[j] * tc[j]) + do[j] * w_co[j0 + j]
            for j in range(n):
                di[j] = dct[j] * g[j] * gate_grad(a, i[j])
            for j in range(n):
                df[j] = dct[j] * cp[j] * gate_grad(a, f[j])
            for j in range(n):
                dz[k + 2 * H + j] = dct[j] * i[j] * (1 - g[j] * g[j])
            for j in range(n):
                dw_ci[j0 + j] += di[j] * cp[j]
            for j in range(n):
                dw_cf[j0 + j] += df[j] * cp[j]
            for j in range(n):
                dw_co[j0 + j] += do[j] * c[m + j]
            for j in range(n):
                dc_prev[m + j] = dct[j] * f[j] + di[j] * w_ci[j0 + j] + df[j] * w_cf[j0 + j]
            j0 += n


cdef inline void gru_forward(int a, Py_ssize_t B, Py_ssize_t H, const floating* xp, const floating* hp,
                             const floating* h_prev, floating* gates, floating* h) noexcept nogil:
    """reset-after: r, z = act(xp + hp); n = tanh(xp_n + r⊙hp_n); h = (1−z)⊙n + z⊙h_prev"""
    cdef Py_ssize_t b, j
    cdef const floating* xb
    cdef const floating* hpb
    cdef const floating* hprev
    cdef floating* gb
    cdef floating* hb
    for b in range(B):
        xb, hpb, gb, hprev, hb = xp + b * 3 * H, hp + b * 3 * H, gates + b * 3 * H, h_prev + b * H, h + b * H
        for j in range(2 * H):
            gb[j] = xb[j] + hpb[j]
        gate_array(a, 2 * H, gb, gb)                                # r, z
        for j in range(H):
            gb[2 * H + j] = xb[2 * H + j] + gb[j] * hpb[2 * H + j]
        tanh_array(H, gb + 2 * H, gb + 2 * H)                      # n
        for j in range(H):
            hb[j] = (1 - gb[H + j]) * gb[2 * H + j] + gb[H + j] * hprev[j]


cdef inline void gru_backward(int a, Py_ssize_t B, Py_ssize_t H, const floating* gates, const floating* hp,
                              const floating* h_prev, const floating* dh, floating* dxp, floating* dhp,
                              floating* dh_prev) noexcept nogil:
    """dn = dh⊙(1−z)⊙(1−n²); dz = dh⊙(h_prev−n)⊙z'; dr = dn⊙hp_n⊙r'; dxp = [dr, dz, dn]; dhp = [dr, dz, dn⊙r];
    dh_prev = dh⊙z (the part not through hp; dh NULL: zero)"""
    cdef Py_ssize_t b, j, j0, n, k, m
    cdef floating zeros[CHUNK]
    cdef const floating *r
    cdef const floating *zz
    cdef const floating *nn
    cdef const floating *dhm
    cdef floating *dr
    cdef floating *dzz
    cdef floating *dn
    memset(zeros, 0, sizeof(zeros))
    for b in range(B):
        j0 = 0
        while j0 < H:                                           # row b in chunks of at most CHUNK units
            n, k, m = min(H - j0, <Py_ssize_t>CHUNK), b * 3 * H + j0, b * H + j0
            r, zz, nn, dr, dzz, dn = gates + k, gates + k + H, gates + k + 2 * H, dxp + k, dxp + k + H, dxp + k + 2 * H
            dhm = dh + m if dh != NULL else zeros              # a missing gradient reads as zeros
            for j in range(n):
                dn[j] = dhm[j] * (1 - zz[j]) * (1 - nn[j] * nn[j])
            for j in range(n):
                dzz[j] = dhm[j] * (h_prev[m + j] - nn[j]) * gate_grad(a, zz[j])
            for j in range(n):
                dr[j] = dn[j] * hp[k + 2 * H + j] * gate_grad(a, r[j])
            memcpy(dhp + k, dr, n * sizeof(floating))
            memcpy(dhp + k + H, dzz, n * sizeof(floating))
            for j in range(n):
                dhp[k + 2 * H + j] = dn[j] * r[j]
            for j in range(n):
                dh_prev[m + j] = dhm[j] * zz[j]
            j0 += n
